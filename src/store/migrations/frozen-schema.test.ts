import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import SQLite from 'better-sqlite3';
import { type Kysely, Kysely as KyselyDb, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { TEST_PG_URL, testDialects } from '../../../test/support/store.ts';
import { dropPgSchema } from '../store.ts';
import * as m0001 from './0001-inventory.ts';

/**
 * A shipped migration must produce the same schema for ever: existing databases were created
 * by it. The schema 0001 creates is compared with the snapshot taken when it shipped
 * (sqlite_master SQL on SQLite; columns, constraints and indexes on PostgreSQL).
 * DW_WRITE_SCHEMA_SNAPSHOT=1 writes the snapshot (only ever for a new migration).
 */

const SNAPSHOT = new URL('./0001-inventory.schema.json', import.meta.url);

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the untyped database
type AnyDb = Kysely<any>;

async function sqliteSchema(): Promise<string[]> {
  const db: AnyDb = new KyselyDb({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
  try {
    await m0001.up(db);
    const { rows } = await sql<{ sql: string }>`
      select type || ' ' || name || ': ' || coalesce(sql, '') as sql from sqlite_master
      order by type, name`.execute(db);
    return rows.map((r) => r.sql);
  } finally {
    await db.destroy();
  }
}

async function postgresSchema(): Promise<Record<string, string[]>> {
  const schema = `dw_frozen_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  await admin.query(`create schema "${schema}"`);
  await admin.end();
  const pool = new pg.Pool({ connectionString: TEST_PG_URL, max: 1, options: `-c search_path=${schema}` });
  const db: AnyDb = new KyselyDb({ dialect: new PostgresDialect({ pool }) });
  const strip = (s: string) => s.replaceAll(`${schema}.`, '').replaceAll(schema, '<schema>');
  try {
    await m0001.up(db);
    const columns = await sql<{ line: string }>`
      select table_name || '.' || column_name || ' #' || ordinal_position || ' ' || data_type
        || coalesce(' collate ' || collation_name, '') || ' nullable=' || is_nullable
        || coalesce(' default ' || column_default, '') as line
      from information_schema.columns where table_schema = current_schema()
      order by table_name, ordinal_position`.execute(db);
    const constraints = await sql<{ line: string }>`
      select c.conrelid::regclass::text || ' ' || c.conname || ': ' || pg_get_constraintdef(c.oid) as line
      from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where n.nspname = current_schema() order by 1`.execute(db);
    const indexes = await sql<{ line: string }>`
      select indexdef as line from pg_indexes where schemaname = current_schema() order by indexname`.execute(
      db,
    );
    return {
      columns: columns.rows.map((r) => strip(r.line)),
      constraints: constraints.rows.map((r) => strip(r.line)),
      indexes: indexes.rows.map((r) => strip(r.line)),
    };
  } finally {
    await db.destroy();
    await dropPgSchema(TEST_PG_URL, schema);
  }
}

test('0001-inventory creates the schema it shipped with, on every dialect', async () => {
  const actual: Record<string, unknown> = { sqlite: await sqliteSchema() };
  if (testDialects().includes('postgres') || process.env.DW_WRITE_SCHEMA_SNAPSHOT)
    actual.postgres = await postgresSchema();
  if (process.env.DW_WRITE_SCHEMA_SNAPSHOT) {
    writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 1)}\n`);
    return;
  }
  const expected = JSON.parse(readFileSync(SNAPSHOT, 'utf8')) as Record<string, unknown>;
  assert.deepEqual(actual.sqlite, expected.sqlite);
  if (actual.postgres) assert.deepEqual(actual.postgres, expected.postgres);
});
