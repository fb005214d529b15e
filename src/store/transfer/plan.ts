import type SQLite from 'better-sqlite3';
import type pg from 'pg';

/**
 * What `drivewarden migrate` copies: every base table of the schema, read from the two
 * databases themselves (never a hand-kept list), with each column's PostgreSQL type deciding
 * how a SQLite value is converted. A table or column on one side only, a type without a
 * conversion, or a table referencing itself is an error naming it, before anything is copied.
 */

/** Column types a SQLite value can be converted to, and how. */
export type ColumnKind = 'text' | 'integer' | 'float' | 'boolean' | 'json' | 'timestamp';

const KIND_OF_PG_TYPE: Record<string, ColumnKind> = {
  text: 'text',
  'character varying': 'text',
  character: 'text',
  integer: 'integer',
  bigint: 'integer',
  smallint: 'integer',
  'double precision': 'float',
  real: 'float',
  boolean: 'boolean',
  jsonb: 'json',
  json: 'json',
  'timestamp with time zone': 'timestamp',
  'timestamp without time zone': 'timestamp',
};

export interface PlannedColumn {
  name: string;
  kind: ColumnKind;
}

export interface PlannedTable {
  name: string;
  /** Columns copied, in the target's order (generated columns are left to PostgreSQL). */
  columns: PlannedColumn[];
  /** Primary-key columns (the sample check looks rows up by them). */
  primaryKey: string[];
  /** Columns whose sequence (serial / identity) is set past the copied values. */
  sequenced: string[];
  /** Identity columns GENERATED ALWAYS need OVERRIDING SYSTEM VALUE. */
  overridingSystemValue: boolean;
}

/** Kysely's own bookkeeping: each side keeps its own (the versions are compared instead). */
export const MIGRATION_TABLES = ['kysely_migration', 'kysely_migration_lock'];

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** A table or column name checked to be a plain identifier, double-quoted. */
export function quoteIdent(name: string): string {
  if (!IDENT.test(name)) throw new Error(`cannot copy "${name}": not a plain lower-case identifier`);
  return `"${name}"`;
}

/** Base tables of the SQLite source (no views, no sqlite_* internals, no migration bookkeeping). */
export function sqliteTables(db: SQLite.Database): Map<string, string[]> {
  const names = db
    .prepare(
      `select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name`,
    )
    .pluck()
    .all() as string[];
  const tables = new Map<string, string[]>();
  for (const name of names) {
    if (MIGRATION_TABLES.includes(name)) continue;
    const columns = db
      .prepare('select name from pragma_table_info(?) order by cid')
      .pluck()
      .all(name) as string[];
    tables.set(name, columns);
  }
  return tables;
}

interface PgColumnRow {
  table_name: string;
  column_name: string;
  data_type: string;
  is_generated: string;
  is_identity: string;
  identity_generation: string | null;
  column_default: string | null;
}

/**
 * The copy plan over the PostgreSQL target's schema (current_schema()), checked against the
 * SQLite source's tables, in an order where every table comes after the tables it references.
 */
export async function planCopy(target: pg.Client, source: Map<string, string[]>): Promise<PlannedTable[]> {
  const { rows: tableRows } = await target.query<{ table_name: string }>(
    `select table_name from information_schema.tables
     where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
  );
  const targetTables = tableRows.map((r) => r.table_name).filter((t) => !MIGRATION_TABLES.includes(t));
  const onlySource = [...source.keys()].filter((t) => !targetTables.includes(t));
  const onlyTarget = targetTables.filter((t) => !source.has(t));
  if (onlySource.length > 0 || onlyTarget.length > 0)
    throw new Error(
      'the two schemas differ: ' +
        [
          onlySource.length ? `only in the SQLite source: ${onlySource.join(', ')}` : '',
          onlyTarget.length ? `only in the PostgreSQL target: ${onlyTarget.join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('; ') +
        ' (a table this copy does not know how to fill is an error, not a skipped table)',
    );

  const { rows: columnRows } = await target.query<PgColumnRow>(
    `select table_name, column_name, data_type, is_generated, is_identity, identity_generation, column_default
     from information_schema.columns where table_schema = current_schema() order by table_name, ordinal_position`,
  );
  const { rows: keyRows } = await target.query<{ table_name: string; column_name: string }>(
    `select c.relname as table_name, a.attname as column_name
     from pg_constraint k
     join pg_class c on c.oid = k.conrelid
     join unnest(k.conkey) with ordinality as u(attnum, pos) on true
     join pg_attribute a on a.attrelid = c.oid and a.attnum = u.attnum
     where k.contype = 'p' and c.relnamespace = (select oid from pg_namespace where nspname = current_schema())
     order by c.relname, u.pos`,
  );
  const { rows: refRows } = await target.query<{ table_name: string; referenced: string }>(
    `select c.relname as table_name, r.relname as referenced
     from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_class r on r.oid = k.confrelid
     where k.contype = 'f' and c.relnamespace = (select oid from pg_namespace where nspname = current_schema())`,
  );

  const plans = new Map<string, PlannedTable>();
  for (const table of targetTables) {
    const sourceColumns = source.get(table) ?? [];
    const pgColumns = columnRows.filter((c) => c.table_name === table);
    const onlyHere = sourceColumns.filter((c) => !pgColumns.some((p) => p.column_name === c));
    const onlyThere = pgColumns
      .filter((p) => !sourceColumns.includes(p.column_name))
      .map((p) => p.column_name);
    if (onlyHere.length > 0 || onlyThere.length > 0)
      throw new Error(
        `table ${table}: the columns differ (only in SQLite: ${onlyHere.join(', ') || '-'}; ` +
          `only in PostgreSQL: ${onlyThere.join(', ') || '-'})`,
      );
    const copied = pgColumns.filter((c) => c.is_generated !== 'ALWAYS');
    plans.set(table, {
      name: table,
      columns: copied.map((c) => {
        const kind = KIND_OF_PG_TYPE[c.data_type];
        if (!kind)
          throw new Error(
            `table ${table}: column ${c.column_name} has type ${c.data_type}, which this copy cannot convert`,
          );
        quoteIdent(c.column_name);
        return { name: c.column_name, kind };
      }),
      primaryKey: keyRows.filter((k) => k.table_name === table).map((k) => k.column_name),
      sequenced: copied
        .filter((c) => c.is_identity === 'YES' || c.column_default?.startsWith('nextval('))
        .map((c) => c.column_name),
      overridingSystemValue: copied.some((c) => c.identity_generation === 'ALWAYS'),
    });
    quoteIdent(table);
  }
  return referencedFirst(plans, refRows);
}

/** Tables ordered so that a table comes after every table its foreign keys reference. */
function referencedFirst(
  plans: Map<string, PlannedTable>,
  refs: Array<{ table_name: string; referenced: string }>,
): PlannedTable[] {
  const ordered: PlannedTable[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting')
      throw new Error(
        `foreign keys form a cycle (${[...path, name].join(' → ')}): this copy cannot order it`,
      );
    state.set(name, 'visiting');
    for (const ref of refs.filter((r) => r.table_name === name)) {
      if (ref.referenced === name)
        throw new Error(`table ${name} references itself: this copy cannot order its rows`);
      if (plans.has(ref.referenced)) visit(ref.referenced, [...path, name]);
    }
    state.set(name, 'done');
    const plan = plans.get(name);
    if (plan) ordered.push(plan);
  };
  for (const name of [...plans.keys()].sort()) visit(name, []);
  return ordered;
}
