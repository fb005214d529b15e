import type { ColumnKind } from '../../resources/types.ts';

/**
 * The row type of a resource table, derived from its definition in src/resources/ (where the
 * column descriptions live): the standard columns, the key columns (text, not null) and one
 * nullable column per typed column, typed by its kind as the database returns it.
 *
 * Dialect notes: booleans are 0/1 on SQLite and true/false on PostgreSQL (`DbBool`);
 * timestamps are ISO-8601 UTC strings on both (timestamptz parsed back to ISO on PostgreSQL);
 * JSON is text on SQLite and parsed jsonb on PostgreSQL (`DbJson`). Use `decodeRow` from
 * src/store/codec.ts to get plain JS values.
 */
export type DbBool = boolean | number;
export type DbJson = unknown;

/** The TypeScript type of each column kind, as read from either dialect. */
export interface DbTypeOfKind {
  text: string;
  integer: number;
  bigint: number;
  boolean: DbBool;
  timestamp: string;
  json: DbJson;
}

/** Standard columns on every resource table (described in STANDARD_COLUMNS, src/resources/types.ts). */
export interface StandardColumns {
  integration_id: string;
  tenant_id: string;
  id: string;
  first_seen: string;
  last_seen: string;
  deleted_at: string | null;
  raw: DbJson;
}

/** What the derivation needs of a resource definition. */
interface TableShape {
  key: readonly string[];
  columns: Record<string, { kind: ColumnKind }>;
}

export type ResourceTable<D extends TableShape> = StandardColumns & {
  [K in Exclude<D['key'][number], 'id'>]: string;
} & {
  -readonly [C in keyof D['columns']]: DbTypeOfKind[D['columns'][C]['kind']] | null;
};
