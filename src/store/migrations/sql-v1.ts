import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * FROZEN table-creation helpers, version 1. Shipped migrations call them, so their output
 * never changes: a change here would give new databases a different schema from existing
 * ones (frozen-schema.test.ts compares 0001's schema with its shipped snapshot). A new shape
 * is a new helper (sql-v2.ts) used by new migrations only.
 *
 * Each migration passes its own frozen copy of the columns, never the live definitions in
 * src/resources/ (those change with later migrations).
 *
 * Column kinds map to SQL per dialect (see src/resources/types.ts): booleans are 0/1
 * integers on SQLite and boolean on PostgreSQL, timestamps ISO text / timestamptz, JSON
 * text / jsonb.
 */

export type KindV1 = 'text' | 'integer' | 'bigint' | 'boolean' | 'timestamp' | 'json';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the untyped database
export type AnyDb = Kysely<any>;

export function isPostgres(db: AnyDb): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

export function sqlTypeV1(kind: KindV1, pg: boolean): string {
  switch (kind) {
    case 'text':
      return 'text';
    case 'integer':
      return 'integer';
    case 'bigint':
      return pg ? 'bigint' : 'integer';
    case 'boolean':
      return pg ? 'boolean' : 'integer';
    case 'timestamp':
      return pg ? 'timestamptz' : 'text';
    case 'json':
      return pg ? 'jsonb' : 'text';
  }
}

/** One column definition: `"name" type [collate "C"] [not null]`. */
export function colV1(name: string, kind: KindV1, pg: boolean, notNull = false): string {
  // Paths are compared by byte prefix ranges: give them the C collation on PostgreSQL.
  const collate = pg && name === 'path' ? ' collate "C"' : '';
  return `"${name}" ${sqlTypeV1(kind, pg)}${collate}${notNull ? ' not null' : ''}`;
}

export async function exec(db: AnyDb, statement: string): Promise<void> {
  await sql.raw(statement).execute(db);
}

/** A resource table as a migration froze it: key columns (last one `id`) and typed columns. */
export interface ResourceTableV1 {
  key: readonly string[];
  /** Typed columns in table order; key columns listed here are skipped (they come first). */
  columns: ReadonlyArray<readonly [string, KindV1]>;
}

/**
 * Creates a resource table: integration_id, tenant_id, the key columns (text not null),
 * the typed columns (nullable), first_seen, last_seen, deleted_at, raw, and the primary key
 * (integration_id, …key).
 */
export async function createResourceTableV1(db: AnyDb, table: string, def: ResourceTableV1): Promise<void> {
  const pg = isPostgres(db);
  const keyCols = def.key.filter((k) => k !== 'id');
  const lines = [
    colV1('integration_id', 'text', pg, true),
    colV1('tenant_id', 'text', pg, true),
    ...keyCols.map((k) => colV1(k, 'text', pg, true)),
    colV1('id', 'text', pg, true),
    ...def.columns.filter(([n]) => !keyCols.includes(n)).map(([n, k]) => colV1(n, k, pg)),
    colV1('first_seen', 'timestamp', pg, true),
    colV1('last_seen', 'timestamp', pg, true),
    colV1('deleted_at', 'timestamp', pg),
    colV1('raw', 'json', pg),
    `primary key (integration_id, ${def.key.join(', ')})`,
  ];
  await exec(db, `create table ${table} (\n  ${lines.join(',\n  ')}\n)`);
}

/** Adds a nullable typed column to an existing table (a later migration widening a resource). */
export async function addColumnV1(db: AnyDb, table: string, name: string, kind: KindV1): Promise<void> {
  await exec(db, `alter table ${table} add column ${colV1(name, kind, isPostgres(db))}`);
}
