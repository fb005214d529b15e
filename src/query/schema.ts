import { type Kysely, sql } from 'kysely';
import { GRANT_COLUMNS } from '../resources/grant.ts';
import { resources, STANDARD_COLUMNS } from '../resources/index.ts';
import type { Database } from '../store/schema.ts';
import { secretColumnsOf } from '../store/tables/secret-columns.ts';

/**
 * What the query console can read, for completion and the schema browser: every table and
 * view of the store with its columns, described from the resource definitions (the source of
 * docs/tables.md) where the table is an inventory table. Secret columns are left out (the
 * guard refuses them), and so are tables that are secret as a whole.
 */

export interface ConsoleColumn {
  name: string;
  /** The database's type name (text, integer, jsonb, timestamptz, …). */
  type: string;
  description: string | null;
}

export interface ConsoleTable {
  name: string;
  kind: 'table' | 'view';
  description: string | null;
  columns: ConsoleColumn[];
}

const OTHER_TABLES: Record<string, string> = {
  changes:
    'History of every resource: resource_type, resource_id, change_type (added, modified, removed), fields, before, after, actor, source, observed_at.',
  grants: 'One row per permission and recipient of each sharing root (derived from permissions).',
  item_grants: 'Every live item with the grants of its access root ("who can reach X").',
  findings: 'What the rules and anomaly detectors found: one row per rule and resource.',
  finding_events: 'Every transition of a finding (opened, resolved, reopened, suppressed, …).',
};

const CHANGE_COLUMNS: Record<string, string> = {
  resource_type: 'user, group, drive, drive_item, permission, …',
  change_type: 'added, modified or removed',
  fields: 'The changed typed columns (JSON array)',
  before: 'Values before the change (JSON)',
  after: 'Values after the change (JSON)',
  actor: 'Who made the change, when Graph says',
  source: 'What saw it: full, delta, webhook, resync or poll',
  observed_at: 'When drivewarden saw the change',
};

/** Table → column → description, from the resource definitions. */
function descriptions(): Map<string, { description: string; columns: Record<string, string> }> {
  const out = new Map<string, { description: string; columns: Record<string, string> }>();
  for (const def of resources) {
    const columns: Record<string, string> = {};
    for (const [name, c] of Object.entries(STANDARD_COLUMNS)) columns[name] = c.description;
    for (const key of def.key) if (key !== 'id') columns[key] = def.keyDescriptions?.[key] ?? 'Key column.';
    for (const [name, c] of Object.entries(def.columns)) columns[name] = c.description;
    out.set(def.table, { description: def.description, columns });
  }
  out.set('grants', {
    description: OTHER_TABLES.grants,
    columns: Object.fromEntries(Object.entries(GRANT_COLUMNS).map(([n, c]) => [n, c.description])),
  });
  out.set('changes', { description: OTHER_TABLES.changes, columns: CHANGE_COLUMNS });
  return out;
}

const HIDDEN = new Set(['kysely_migration', 'kysely_migration_lock']);

interface RawColumn {
  table_name: string;
  table_type: string;
  column_name: string;
  data_type: string;
}

async function rawColumns(db: Kysely<Database>, dialect: 'sqlite' | 'postgres'): Promise<RawColumn[]> {
  if (dialect === 'postgres') {
    const { rows } = await sql<RawColumn>`
      select c.table_name, t.table_type, c.column_name, c.data_type
      from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.table_schema = current_schema()
      order by c.table_name, c.ordinal_position`.execute(db);
    return rows;
  }
  const { rows } = await sql<RawColumn>`
    select m.name as table_name, m.type as table_type, p.name as column_name, p.type as data_type
    from sqlite_schema m, pragma_table_info(m.name) p
    where m.type in ('table', 'view') and m.name not like 'sqlite_%'
    order by m.name, p.cid`.execute(db);
  return rows;
}

export async function consoleSchema(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
): Promise<ConsoleTable[]> {
  const described = descriptions();
  const tables = new Map<string, ConsoleTable>();
  for (const r of await rawColumns(db, dialect)) {
    if (HIDDEN.has(r.table_name)) continue;
    const secret = secretColumnsOf(r.table_name);
    if (secret.includes('*') || secret.includes(r.column_name)) continue;
    let t = tables.get(r.table_name);
    if (!t) {
      const d = described.get(r.table_name);
      t = {
        name: r.table_name,
        kind: /view/i.test(r.table_type) ? 'view' : 'table',
        description: d?.description ?? OTHER_TABLES[r.table_name] ?? null,
        columns: [],
      };
      tables.set(r.table_name, t);
    }
    t.columns.push({
      name: r.column_name,
      type: r.data_type.toLowerCase() || 'any',
      description: described.get(r.table_name)?.columns[r.column_name] ?? null,
    });
  }
  return [...tables.values()].sort((a, b) => a.name.localeCompare(b.name));
}
