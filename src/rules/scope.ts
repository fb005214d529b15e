import type { Dialect } from '../store/dialect.ts';
import type { RuleResourceType } from './definition.ts';
import type { ReadSession } from './read-session.ts';

/**
 * The scope of an incremental evaluation: the resources whose result may have changed
 * since the cursor, from the change log (`changes.id` in (from, to]). Written into TEMP
 * tables of the read-only session, then applied to each rule by wrapping its SQL.
 *
 * - items: changed items, the items of changed permissions, and the live subtree (path prefix
 *   range on drive_items_api_path) of every changed permission's item and every moved, renamed
 *   or removed folder: a root's access change alters its descendants' exposure, and a move
 *   their paths, without history rows of their own (a removed folder's items have theirs); the items whose grants name a changed user;
 *   the items whose labels changed, or whose label (or its parent) was renamed;
 * - drives: changed drives, drives of changed users (their owner), drives holding a scoped item;
 * - users: changed users, MFA registrations, OneDrive states, group memberships (member id)
 *   and the owners of changed drives;
 * - groups: changed groups and the groups of changed memberships.
 * Permission rules are scoped by their item, item rules by the item, drive/user/group rules
 * by their id. Rules over tenant settings always run whole (one row per tenant).
 *
 * How the scope reaches a rule (measured on a 200k-item inventory, docs in scope-notes below):
 * - SQLite: a row-value IN over the scope table, `(r.drive_id, r.item_id) in (select …)`.
 *   SQLite pushes it into the flattened rule (and into each arm of a UNION ALL) and drives
 *   primary-key lookups from it ("USING INDEX … FOR IN-OPERATOR"): item rule 260 → 12 ms,
 *   permission rule 40 → 3 ms, UNION rule 210 → 9 ms. A correlated EXISTS, or a JOIN with
 *   the scope table, is evaluated per row of a full scan instead.
 * - PostgreSQL: a semi-join (IN/EXISTS) is not pushed into UNION ALL arms, and a temp
 *   table has no statistics (planned as ~900 rows), so it scanned the whole table. Plain
 *   restrictions are pushed everywhere: `r.drive_id = any($d) and r.item_id = any($i)`
 *   become index conditions on the primary key in every arm (UNION rule 160 → 3 ms); the
 *   exact row-value IN stays as well (the two arrays allow their cross product).
 */

export interface ScopeCounts {
  changes: number;
  items: number;
  drives: number;
  users: number;
  groups: number;
}

/** The scope as parameter arrays (PostgreSQL restrictions, see above). */
export interface ScopeArrays {
  itemDrives: string[];
  items: string[];
  drive: string[];
  user: string[];
  group: string[];
}

export interface Scope {
  counts: ScopeCounts;
  arrays: ScopeArrays | null;
}

/** More changes than this in one incremental round: evaluating everything is cheaper. */
export const WHOLE_RUN_CHANGES = 50_000;

const TEMP = (d: Dialect) => (d === 'sqlite' ? 'temp.' : 'pg_temp.');

/** Statements run before the read-only transaction: the scope tables (empty, per session). */
export function scopeTablesSql(dialect: Dialect): string[] {
  const tail = dialect === 'sqlite' ? ' without rowid' : ' on commit delete rows';
  const create = 'create temp table if not exists';
  return [
    `${create} dw_scope_items (drive_id text not null, item_id text not null, primary key (drive_id, item_id))${tail}`,
    `${create} dw_scope_ids (kind text not null, id text not null, primary key (kind, id))${tail}`,
    `${create} dw_scope_changes (resource_type text not null, resource_id text not null, drive_id text, item_id text, group_id text, change_type text not null, subtree integer not null)${dialect === 'sqlite' ? '' : ' on commit delete rows'}`,
  ];
}

/** `?` → the dialect's numbered placeholders from `start` (engine SQL only: no `?` in its literals). */
export function placeholders(text: string, dialect: Dialect, start = 1): string {
  if (dialect === 'sqlite') return text;
  let n = start - 1;
  return text.replace(/\?/g, () => `$${++n}`);
}

/**
 * Changes of one integration in (from, to]. SQLite: `+integration_id` keeps the planner on
 * the rowid range (it otherwise walks the integration's whole history by changes_resource).
 */
function changesInRange(d: Dialect): string {
  return `changes c where c.id > ? and c.id <= ? and ${d === 'sqlite' ? '+' : ''}c.integration_id = ?`;
}

/** How many changes the range holds (decides a whole run before any scope is built). */
export async function countChanges(session: ReadSession, integrationId: string, from: number, to: number) {
  const rows = await session.all(
    placeholders(`select count(*) as n from ${changesInRange(session.dialect)}`, session.dialect),
    [from, to, integrationId],
  );
  return Number(rows[0]?.n ?? 0);
}

function insertIgnore(dialect: Dialect, table: string, columns: string, select: string): string {
  return dialect === 'sqlite'
    ? `insert or ignore into ${table} (${columns}) ${select}`
    : `insert into ${table} (${columns}) ${select} on conflict do nothing`;
}

/** Fills the scope tables for changes in (from, to]. */
export async function buildScope(
  session: ReadSession,
  integrationId: string,
  from: number,
  to: number,
): Promise<Scope> {
  const d = session.dialect;
  const t = TEMP(d);
  const exec = (text: string, values: unknown[] = []) => session.exec(placeholders(text, d), values);
  // Folders whose subtree changed with them: a permission's item, a folder moved, renamed or removed.
  await exec(
    `insert into ${t}dw_scope_changes (resource_type, resource_id, drive_id, item_id, group_id, change_type, subtree)
     select c.resource_type, c.resource_id, c.drive_id, c.item_id, c.group_id, c.change_type,
       case when c.resource_type = 'permission' then 1
         when c.resource_type = 'drive_item' and c.change_type = 'removed' then 1
         when c.resource_type = 'drive_item' and c.change_type = 'modified'
           and (dw_json_has(c.fields, 'path') = 1 or dw_json_has(c.fields, 'parent_id') = 1) then 1
         else 0 end
     from ${changesInRange(d)}`,
    [from, to, integrationId],
  );
  const itemOf = `case when c.resource_type = 'drive_item' then c.resource_id else c.item_id end`;
  await exec(
    insertIgnore(
      d,
      `${t}dw_scope_items`,
      'drive_id, item_id',
      `select distinct c.drive_id, ${itemOf} from ${t}dw_scope_changes c
       where c.resource_type in ('drive_item', 'permission', 'item_label') and c.drive_id is not null and ${itemOf} is not null`,
    ),
  );
  // A label renamed (or its parent): the files carrying it.
  await exec(
    insertIgnore(
      d,
      `${t}dw_scope_items`,
      'drive_id, item_id',
      `select il.drive_id, il.item_id from ${t}dw_scope_changes c cross join sensitivity_labels l cross join item_labels il
       where c.resource_type = 'sensitivity_label' and l.integration_id = ? and (l.id = c.resource_id or l.parent_id = c.resource_id)
         and il.integration_id = ? and il.id = l.id`,
    ),
    [integrationId, integrationId],
  );
  // The path range covers exactly the paths below p: '0' is the character after '/'. CROSS
  // JOIN keeps SQLite's loops in this order (the changed folders first): left to itself it
  // walked every item of the integration. Live descendants only, as drive_items_api_path holds
  // them (coalesce(path, '') is its key): a removed subtree's items are in scope through their
  // own `removed` changes.
  await exec(
    insertIgnore(
      d,
      `${t}dw_scope_items`,
      'drive_id, item_id',
      `select x.drive_id, x.id from (select distinct c.drive_id, ${itemOf} as item_id from ${t}dw_scope_changes c
         where c.subtree = 1 and c.drive_id is not null) r
       cross join drive_items p cross join drive_items x
       where p.integration_id = ? and p.drive_id = r.drive_id and p.id = r.item_id
         and p.is_folder = true and p.path is not null
         and x.integration_id = ? and x.drive_id = p.drive_id and x.deleted_at is null
         and coalesce(x.path, '') >= (case when p.path = '/' then '' else p.path end) || '/'
         and coalesce(x.path, '') < (case when p.path = '/' then '' else p.path end) || '0'`,
    ),
    [integrationId, integrationId],
  );
  const ids = (kind: string, select: string) =>
    insertIgnore(
      d,
      `${t}dw_scope_ids`,
      'kind, id',
      `select distinct '${kind}', id from (${select}) s where id is not null`,
    );
  await exec(
    ids(
      'user',
      `select c.resource_id as id from ${t}dw_scope_changes c
       where c.resource_type in ('user', 'user_mfa', 'user_drive', 'group_member')
       union select dr.owner_id as id from ${t}dw_scope_changes c cross join drives dr
         where c.resource_type = 'drive' and dr.integration_id = ? and dr.id = c.resource_id`,
    ),
    [integrationId],
  );
  // What changed users were granted (a guest's state decides how their grants read).
  await exec(
    insertIgnore(
      d,
      `${t}dw_scope_items`,
      'drive_id, item_id',
      `select distinct g.drive_id, g.item_id from ${t}dw_scope_ids u cross join grants g
       where u.kind = 'user' and g.integration_id = ? and g.recipient_id = u.id`,
    ),
    [integrationId],
  );
  await exec(
    ids(
      'group',
      `select case when c.resource_type = 'group' then c.resource_id else c.group_id end as id
       from ${t}dw_scope_changes c where c.resource_type in ('group', 'group_member')`,
    ),
  );
  await exec(
    ids(
      'drive',
      `select c.resource_id as id from ${t}dw_scope_changes c where c.resource_type = 'drive'
       union select s.drive_id as id from ${t}dw_scope_items s
       union select dr.id as id from ${t}dw_scope_ids u cross join drives dr
         where u.kind = 'user' and dr.integration_id = ? and dr.owner_id = u.id`,
    ),
    [integrationId],
  );
  const [c] = await session.all(
    `select (select count(*) from ${t}dw_scope_changes) as changes,
       (select count(*) from ${t}dw_scope_items) as items,
       (select count(*) from ${t}dw_scope_ids where kind = 'drive') as drives,
       (select count(*) from ${t}dw_scope_ids where kind = 'user') as users,
       (select count(*) from ${t}dw_scope_ids where kind = 'group') as groups_`,
  );
  const counts: ScopeCounts = {
    changes: Number(c?.changes ?? 0),
    items: Number(c?.items ?? 0),
    drives: Number(c?.drives ?? 0),
    users: Number(c?.users ?? 0),
    groups: Number(c?.groups_ ?? 0),
  };
  return { counts, arrays: d === 'postgres' ? await readArrays(session) : null };
}

async function readArrays(session: ReadSession): Promise<ScopeArrays> {
  const items = await session.all('select drive_id, item_id from pg_temp.dw_scope_items');
  const ids = await session.all('select kind, id from pg_temp.dw_scope_ids');
  const of = (kind: string) => ids.filter((r) => r.kind === kind).map((r) => String(r.id));
  return {
    itemDrives: [...new Set(items.map((r) => String(r.drive_id)))],
    items: [...new Set(items.map((r) => String(r.item_id)))],
    drive: of('drive'),
    user: of('user'),
    group: of('group'),
  };
}

/** Whether a rule of this resource type can be scoped (else it runs whole). */
export function scopable(type: RuleResourceType): boolean {
  return type !== 'tenant_settings';
}

/** The condition "row `a` is in scope" and its parameters (numbered from `start` on PostgreSQL). */
function inScope(
  type: RuleResourceType,
  a: string,
  scope: Scope,
  dialect: Dialect,
  start: number,
): { sql: string; values: unknown[] } {
  const t = TEMP(dialect);
  const arrays = scope.arrays;
  const itemCol = type === 'permission' ? 'item_id' : 'resource_id';
  if (type === 'permission' || type === 'drive_item') {
    const exact = `(${a}.drive_id, ${a}.${itemCol}) in (select s.drive_id, s.item_id from ${t}dw_scope_items s)`;
    if (!arrays) return { sql: exact, values: [] };
    return {
      sql: `${a}.drive_id = any($${start}) and ${a}.${itemCol} = any($${start + 1}) and ${exact}`,
      values: [arrays.itemDrives, arrays.items],
    };
  }
  if (type === 'tenant_settings') return { sql: '1 = 1', values: [] };
  if (!arrays)
    return {
      sql: `${a}.resource_id in (select s.id from ${t}dw_scope_ids s where s.kind = '${type}')`,
      values: [],
    };
  return { sql: `${a}.resource_id = any($${start})`, values: [arrays[type]] };
}

/** The rule's compiled SQL restricted to the scope. */
export function scopedRuleSql(
  compiled: { text: string; values: unknown[] },
  type: RuleResourceType,
  scope: Scope,
  dialect: Dialect,
): { text: string; values: unknown[] } {
  const cond = inScope(type, 'r', scope, dialect, compiled.values.length + 1);
  return {
    text: `select r.* from (\n${compiled.text}\n) r where ${cond.sql}`,
    values: [...compiled.values, ...cond.values],
  };
}

/**
 * Unresolved findings of resources in scope, per rule (all rules at once, one query per
 * resource type): driven by findings_resource (integration_id, resource_id); permission
 * findings through the ids of the permissions (tombstones included) of the scoped items.
 */
export async function scopedFindings(
  session: ReadSession,
  integrationId: string,
  scope: Scope,
  types: ReadonlySet<RuleResourceType>,
): Promise<Map<string, Set<string>>> {
  const d = session.dialect;
  const t = TEMP(d);
  const out = new Map<string, Set<string>>();
  for (const type of types) {
    if (type === 'tenant_settings') continue;
    let ids: string;
    let values: unknown[] = [integrationId];
    if (type === 'permission') {
      const perms =
        d === 'sqlite'
          ? `(p.drive_id, p.item_id) in (select s.drive_id, s.item_id from ${t}dw_scope_items s)`
          : `p.drive_id = any($2) and p.item_id = any($3)`;
      ids = `select p.id from permissions p where p.integration_id = ${d === 'sqlite' ? '?' : '$1'} and ${perms}`;
      values =
        d === 'sqlite'
          ? [integrationId, integrationId]
          : [integrationId, scope.arrays?.itemDrives, scope.arrays?.items];
    } else if (type === 'drive_item') {
      ids = d === 'sqlite' ? `select s.item_id from ${t}dw_scope_items s` : `select unnest($2::text[])`;
      if (d !== 'sqlite') values.push(scope.arrays?.items);
    } else {
      ids =
        d === 'sqlite'
          ? `select s.id from ${t}dw_scope_ids s where s.kind = '${type}'`
          : `select unnest($2::text[])`;
      if (d !== 'sqlite') values.push(scope.arrays?.[type]);
    }
    const exact = inScope(type, 'f', { counts: scope.counts, arrays: null }, d, 0).sql;
    const where = `f.integration_id = ${d === 'sqlite' ? '?' : '$1'} and f.resource_id in (${ids})
      and f.resource_type = '${type}' and f.status <> 'resolved' and ${exact}`;
    const rows = await session.all(`select f.rule_id, f.resource_key from findings f where ${where}`, values);
    for (const r of rows) {
      const set = out.get(String(r.rule_id)) ?? new Set<string>();
      set.add(String(r.resource_key));
      out.set(String(r.rule_id), set);
    }
  }
  return out;
}
