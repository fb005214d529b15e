import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { type Dialect, registerSqliteHelpers } from './dialect.ts';
import type { Database } from './schema.ts';
import { CachingSqliteDatabase } from './sqlite-statements.ts';

/**
 * The one place database connections are opened: the store, the webhook inbox, the
 * HTTP server thread, read-only queries and tests all come through here, so every
 * SQLite connection has the SQL helpers registered and every PostgreSQL connection has
 * the same type parsers and search_path.
 */

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `schema` is a plain lower-case PostgreSQL identifier (it is interpolated). */
export function checkSchemaName(schema: string | undefined): void {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${schema}`);
}

// int8 → number (byte counts stay far below 2^53), timestamptz → ISO-8601 with ms.
const PG_TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 1184 || oid === 1114)
      return (v: string) => new Date(oid === 1114 ? `${v}Z` : v).toISOString();
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads
    return (pg.types.getTypeParser as any)(oid, format);
  },
};

export interface SqliteOpenOptions {
  /** Open read-only; the file must exist. */
  readonly?: boolean;
  /** Wait this long for another connection's lock (ms). */
  busyTimeoutMs?: number;
}

/** A better-sqlite3 connection with the SQL helpers registered (a new file's directory is created). */
export function openSqlite(file: string, options: SqliteOpenOptions = {}): SQLite.Database {
  if (!options.readonly && file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = options.readonly ? new SQLite(file, { readonly: true, fileMustExist: true }) : new SQLite(file);
  if (options.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
  registerSqliteHelpers(db);
  return db;
}

export interface PgOpenOptions {
  databaseUrl: string;
  /** Schema put first on search_path (not created here: see ensurePgSchema). */
  schema?: string;
}

/** A PostgreSQL pool with drivewarden's type parsers and search_path. */
export function openPgPool(options: PgOpenOptions & { maxConnections: number }): pg.Pool {
  checkSchemaName(options.schema);
  return new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.maxConnections,
    types: PG_TYPES,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
}

/** One PostgreSQL client (not connected yet) with the same type parsers and search_path. */
export function pgClient(options: PgOpenOptions): pg.Client {
  checkSchemaName(options.schema);
  return new pg.Client({
    connectionString: options.databaseUrl,
    types: PG_TYPES,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
}

/** Creates the schema if missing. */
export async function ensurePgSchema(databaseUrl: string, schema: string): Promise<void> {
  checkSchemaName(schema);
  const client = pgClient({ databaseUrl });
  await client.connect();
  try {
    await client.query(`create schema if not exists "${schema}"`);
  } finally {
    await client.end();
  }
}

/** Drops a PostgreSQL schema (tests). */
export async function dropPgSchema(databaseUrl: string, schema: string): Promise<void> {
  checkSchemaName(schema);
  const client = pgClient({ databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

export type ConnectionSpec =
  | {
      dialect: 'sqlite';
      /** An open connection (openSqlite); the Kysely instance closes it. */
      database: SQLite.Database;
      /** Cache this many prepared statements by SQL text (CachingSqliteDatabase); 0 = none. */
      statementCache?: number;
    }
  | ({ dialect: 'postgres'; maxConnections: number } & PgOpenOptions);

export interface Connection {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** A Kysely instance over a SQLite connection or a new PostgreSQL pool. */
export function openKysely(spec: ConnectionSpec): Connection {
  let db: Kysely<Database>;
  if (spec.dialect === 'sqlite') {
    const database = spec.statementCache
      ? new CachingSqliteDatabase(spec.database, spec.statementCache)
      : spec.database;
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  } else {
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: openPgPool(spec) }) });
  }
  return { db, dialect: spec.dialect, close: () => db.destroy() };
}
