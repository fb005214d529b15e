import type { Kysely } from 'kysely';
import { type Exposure, exposureOf, type GrantRow, grantsOf } from '../resources/grant.ts';
import { type GraphPermission, permissionSchema } from '../resources/permission.ts';
import type { ResourceRow } from '../resources/types.ts';
import { type ApplyContext, inLists, pow2Chunks, run } from './apply.ts';
import { type Dialect, decodeValue, encodeValue } from './codec.ts';
import { dialectOf } from './dialect.ts';
import type { Database } from './schema.ts';

/**
 * Effective access, kept exact incrementally. A sharing root is an item with permissions of
 * its own (Graph lists them with what the item inherits). Every live item has:
 *  - access_root_id: the nearest ancestor-or-self sharing root (null: none above it);
 *  - exposure: the widest audience among that root's grants (private without a root);
 *  - both null while the item's parent has not arrived yet ("pending", like a null path).
 * A root's access never depends on its parent. Anything else copies its parent's. So a
 * change at one folder touches only the items that inherit through it: its descendants
 * whose access root is the folder's old one (a subtree update, like the path rewrite).
 */

export interface Access {
  root: string | null;
  exposure: Exposure | null;
}

const PENDING: Access = { root: null, exposure: null };
const PRIVATE: Access = { root: null, exposure: 'private' };

function ph(ctx: ApplyContext, n: number): string {
  return dialectOf(ctx.dialect).placeholder(n);
}

function list(ctx: ApplyContext, start: number, count: number): string {
  return Array.from({ length: count }, (_, j) => ph(ctx, start + j)).join(', ');
}

/** SQL: a grants row's audience as a rank, and the exposure of a group of grants by its max rank. */
const RANK = `case audience when 'public' then 3 when 'external' then 2 when 'guest' then 2 when 'internal' then 1 else 0 end`;
const EXPOSURE_OF_RANK = (rank: string) =>
  `case ${rank} when 3 then 'public' when 2 then 'external' when 1 then 'internal' else 'private' end`;

// ---------- grants ----------

const GRANT_COLS: Array<[keyof GrantRow, 'text' | 'boolean' | 'json' | 'timestamp']> = [
  ['integration_id', 'text'],
  ['tenant_id', 'text'],
  ['drive_id', 'text'],
  ['item_id', 'text'],
  ['permission_id', 'text'],
  ['recipient_key', 'text'],
  ['recipient_kind', 'text'],
  ['recipient_id', 'text'],
  ['recipient_email', 'text'],
  ['recipient_domain', 'text'],
  ['recipient_name', 'text'],
  ['login_name', 'text'],
  ['audience', 'text'],
  ['is_owner', 'boolean'],
  ['roles', 'json'],
  ['link_type', 'text'],
  ['link_scope', 'text'],
  ['expiration', 'timestamp'],
  ['invitation_email', 'text'],
];
const GRANT_ROWS_PER_STATEMENT = 512;
const insertSql = new Map<string, string>();

/** The verified domains grants are classified against: the context's, else the integration's. */
async function verifiedDomains(ctx: ApplyContext): Promise<readonly string[]> {
  if (ctx.verifiedDomains) return ctx.verifiedDomains;
  const { rows } = await run(ctx.db, `select verified_domains from integrations where id = ${ph(ctx, 1)}`, [
    ctx.integrationId,
  ]);
  const v = decodeValue('json', rows[0]?.verified_domains);
  return Array.isArray(v) ? v.map((d) => String(d).toLowerCase()) : [];
}

/** Grants of one item's permissions (Graph payloads, as the permission mapping keeps them in raw). */
function grantsOfPermissions(
  ctx: ApplyContext,
  driveId: string,
  itemId: string,
  permissions: GraphPermission[],
  domains: readonly string[],
): GrantRow[] {
  const grantCtx = {
    integrationId: ctx.integrationId,
    tenantId: ctx.tenantId,
    driveId,
    itemId,
    verifiedDomains: domains,
  };
  return permissions.flatMap((p) => grantsOf(p, grantCtx));
}

/** Deletes the grants of these items (their permissions were removed or are being replaced). */
export async function removeGrants(ctx: ApplyContext, driveId: string, itemIds: string[]): Promise<void> {
  for (const part of inLists(itemIds)) {
    await run(
      ctx.db,
      `delete from grants where integration_id = ${ph(ctx, 1)} and drive_id = ${ph(ctx, 2)} ` +
        `and item_id in (${list(ctx, 3, part.length)})`,
      [ctx.integrationId, driveId, ...part],
    );
  }
}

async function insertGrants(ctx: ApplyContext, grants: GrantRow[]): Promise<void> {
  const n = GRANT_COLS.length;
  for (const part of pow2Chunks(grants, GRANT_ROWS_PER_STATEMENT)) {
    const key = `${ctx.dialect}:${part.length}`;
    let text = insertSql.get(key);
    if (!text) {
      const groups = part.map((_, i) => `(${list(ctx, 1 + i * n, n)})`);
      text = `insert into grants (${GRANT_COLS.map(([c]) => `"${c}"`).join(', ')}) values ${groups.join(', ')}`;
      insertSql.set(key, text);
    }
    const params: unknown[] = [];
    for (const g of part)
      for (const [c, kind] of GRANT_COLS) params.push(encodeValue(kind, g[c], ctx.dialect));
    await run(ctx.db, text, params);
  }
}

/** The grants each item's permission set makes (a null or empty set: none, the item is no sharing root). */
export async function mapGrants(
  ctx: ApplyContext,
  driveId: string,
  sets: Map<string, ResourceRow[] | null>,
): Promise<Map<string, GrantRow[]>> {
  const out = new Map<string, GrantRow[]>();
  if (sets.size === 0) return out;
  const domains = await verifiedDomains(ctx);
  for (const [itemId, rows] of sets)
    out.set(
      itemId,
      rows && rows.length > 0
        ? grantsOfPermissions(
            ctx,
            driveId,
            itemId,
            rows.map((r) => r.raw as GraphPermission),
            domains,
          )
        : [],
    );
  return out;
}

/** An item's own exposure from its grants: null when it has none (no sharing root). */
export function ownExposure(grants: GrantRow[]): Exposure | null {
  return grants.length > 0 ? exposureOf(grants) : null;
}

/** Replaces the stored grants of these items. */
export async function writeGrants(
  ctx: ApplyContext,
  driveId: string,
  sets: Map<string, GrantRow[]>,
): Promise<void> {
  if (sets.size === 0) return;
  await removeGrants(ctx, driveId, [...sets.keys()]);
  await insertGrants(ctx, [...sets.values()].flat());
}

// ---------- access of a page's items (before they are written) ----------

interface StoredAccess {
  path: string | null;
  access: Access;
}

/** Path and access of live stored items. */
export async function storedAccess(
  ctx: ApplyContext,
  driveId: string,
  ids: string[],
): Promise<Map<string, StoredAccess>> {
  const out = new Map<string, StoredAccess>();
  for (const part of inLists(ids)) {
    const { rows } = await run(
      ctx.db,
      `select id, path, access_root_id, exposure from drive_items where integration_id = ${ph(ctx, 1)} ` +
        `and drive_id = ${ph(ctx, 2)} and deleted_at is null and id in (${list(ctx, 3, part.length)})`,
      [ctx.integrationId, driveId, ...part],
    );
    for (const r of rows) {
      out.set(String(r.id), {
        path: (r.path as string | null) ?? null,
        access: {
          root: (r.access_root_id as string | null) ?? null,
          exposure: (r.exposure as Exposure | null) ?? null,
        },
      });
    }
  }
  return out;
}

/**
 * Sets access_root_id and exposure on a page's rows before they are upserted: a root's from
 * its own grants, anything else from its parent (in the page, else as stored). `own` holds
 * each row's own exposure: null = no sharing root; a missing entry = unknown (its permissions
 * could not be read): the stored root status stands. `stored` holds stored parents and rows.
 */
export function assignPageAccess(
  rows: ResourceRow[],
  own: Map<string, Exposure | null>,
  stored: Map<string, StoredAccess>,
  deletedInPage: Set<string>,
): void {
  const inPage = new Map(rows.map((r) => [r.id, r]));
  const computed = new Map<string, Access>();
  const ownOf = (id: string): Exposure | null => {
    if (own.has(id)) return own.get(id) ?? null;
    const s = stored.get(id)?.access;
    return s && s.root === id ? s.exposure : null;
  };
  const accessOf = (id: string, depth: number): Access => {
    const done = computed.get(id);
    if (done) return done;
    const row = inPage.get(id);
    if (!row) {
      if (deletedInPage.has(id)) return PENDING;
      return stored.get(id)?.access ?? PENDING;
    }
    computed.set(id, PENDING); // cycle guard
    const mine = ownOf(id);
    let access: Access;
    if (mine !== null) access = { root: id, exposure: mine };
    else if (row.is_root) access = PRIVATE;
    else {
      const parent = row.parent_id as string | null;
      access = parent && depth < 10_000 ? accessOf(parent, depth + 1) : PENDING;
    }
    computed.set(id, access);
    return access;
  };
  for (const r of rows) {
    const a = accessOf(r.id, 0);
    r.access_root_id = a.root;
    r.exposure = a.exposure;
  }
}

// ---------- subtree updates ----------

/**
 * The recursive step of a walk down a drive's tree: `select c.id from <queue> cross join
 * drive_items c … where c.parent_id = <queue>.id`, the caller appending `and …` conditions on c.
 * The cross join makes the queue (one folder per step) the outer loop on SQLite, and the named
 * index makes each step one (integration_id, drive_id, parent_id) range; a plain join let SQLite
 * put drive_items outside and scan every item of the drive once per folder of the subtree.
 * PostgreSQL plans the same text by its statistics.
 */
export function subtreeStep(dialect: Dialect, queue: string, select = 'c.id'): string {
  const byParent = dialectOf(dialect).indexedBy('drive_items_parent');
  return `select ${select} from ${queue} cross join drive_items c${byParent} where c.parent_id = ${queue}.id`;
}

function sameAccess(a: Access, b: Access): boolean {
  return a.root === b.root && a.exposure === b.exposure;
}

/** SQL condition "the item's access equals `a`" (null-safe), with its parameters. */
function accessIs(ctx: ApplyContext, alias: string, a: Access, start: number): [string, unknown[]] {
  const parts: string[] = [];
  const params: unknown[] = [];
  let n = start;
  if (a.root === null) parts.push(`${alias}.access_root_id is null`);
  else {
    parts.push(`${alias}.access_root_id = ${ph(ctx, n++)}`);
    params.push(a.root);
  }
  if (a.exposure === null) parts.push(`${alias}.exposure is null`);
  else {
    parts.push(`${alias}.exposure = ${ph(ctx, n++)}`);
    params.push(a.exposure);
  }
  return [parts.join(' and '), params];
}

/**
 * A folder's access changed from `before` to `after`: its descendants that inherited
 * `before` through it now inherit `after`. Descent stops at nested roots (and at pending
 * items), whose subtrees do not depend on the folder.
 */
export async function propagateAccess(
  ctx: ApplyContext,
  driveId: string,
  folderId: string,
  before: Access,
  after: Access,
): Promise<number> {
  if (sameAccess(before, after)) return 0;
  if (before.root === null && before.exposure === null) return 0; // pending: resolvePendingAccess
  const { text, params } = propagateAccessSql(ctx, driveId, folderId, before, after);
  const { affected } = await run(ctx.db, text, params);
  return affected;
}

/** The statement of propagateAccess (exported for the plan test in access.test.ts). */
export function propagateAccessSql(
  ctx: ApplyContext,
  driveId: string,
  folderId: string,
  before: Access,
  after: Access,
): { text: string; params: unknown[] } {
  // Parameters: 1 integration, 2 drive, 3 folder, then the "before" condition, then the new values.
  const [cond, condParams] = accessIs(ctx, 'c', before, 4);
  const setStart = 4 + condParams.length;
  // Without the index named, SQLite's recursive step searched drive_items_api_exposure (every
  // item of the tenant with that exposure) once per folder level: a folder shared in a
  // 200k-item tenant held the collector for minutes. `sub cross join c` keeps sub the outer
  // loop, so each queued folder's children are one parent_id range; joined the other way the
  // step scanned the drive's whole parent index for every folder of the subtree (and the first
  // step took drive_items_access, every item of the old root's). See subtreeStep.
  const byParent = dialectOf(ctx.dialect).indexedBy('drive_items_parent');
  const text = `with recursive sub(id) as (
       select c.id from drive_items c${byParent} where c.integration_id = ${ph(ctx, 1)} and c.drive_id = ${ph(ctx, 2)}
         and c.parent_id = ${ph(ctx, 3)} and c.deleted_at is null and ${cond}
       union all
       ${subtreeStep(ctx.dialect, 'sub')} and c.integration_id = ${ph(ctx, 1)} and c.drive_id = ${ph(ctx, 2)}
         and c.deleted_at is null and ${cond}
     )
     update drive_items set access_root_id = ${ph(ctx, setStart)}, exposure = ${ph(ctx, setStart + 1)}
     where integration_id = ${ph(ctx, 1)} and drive_id = ${ph(ctx, 2)} and id in (select id from sub)`;
  const base = [ctx.integrationId, driveId, folderId];
  // SQLite binds "?" in order of appearance; PostgreSQL by number.
  const params = dialectOf(ctx.dialect).bindsByPosition
    ? [
        ...base,
        ...condParams,
        ctx.integrationId,
        driveId,
        ...condParams,
        after.root,
        after.exposure,
        ctx.integrationId,
        driveId,
      ]
    : [...base, ...condParams, after.root, after.exposure];
  return { text, params };
}

/** Gives access to live items still waiting for their parent's, level by level. */
export async function resolvePendingAccess(ctx: ApplyContext, driveId: string): Promise<number> {
  const { probe, update } = pendingAccessSql(ctx);
  const params = [ctx.integrationId, driveId];
  const pending = await run(ctx.db, probe, params);
  if (pending.rows.length === 0) return 0;
  let total = 0;
  for (;;) {
    const { affected } = await run(ctx.db, update, params);
    total += affected;
    if (affected === 0) break;
  }
  return total;
}

/**
 * The statements of resolvePendingAccess, both with parameters (integration, drive): `probe`
 * finds whether any live item of the drive is pending, `update` gives one level of them their
 * parent's access (UPDATE … FROM, on both dialects). Exported for the plan test in access.test.ts.
 */
export function pendingAccessSql(ctx: ApplyContext): { probe: string; update: string } {
  const a = ph(ctx, 1);
  const b = ph(ctx, 2);
  // Both name drive_items_access_pending (only items without exposure): SQLite otherwise took
  // drive_items_api_path's (integration_id, drive_id) prefix and read every live item of the
  // drive, on every page of its feed and every batch of permission reads.
  const pendingIndex = dialectOf(ctx.dialect).indexedBy('drive_items_access_pending');
  const probe =
    `select 1 as x from drive_items${pendingIndex} where integration_id = ${a} and drive_id = ${b} ` +
    'and access_root_id is null and exposure is null and deleted_at is null limit 1';
  const update =
    `update drive_items${pendingIndex} set access_root_id = p.access_root_id, exposure = p.exposure from drive_items p ` +
    'where p.integration_id = drive_items.integration_id and p.drive_id = drive_items.drive_id ' +
    'and p.id = drive_items.parent_id and p.deleted_at is null and p.exposure is not null ' +
    `and drive_items.integration_id = ${a} and drive_items.drive_id = ${b} and drive_items.access_root_id is null ` +
    'and drive_items.exposure is null and drive_items.deleted_at is null';
  return { probe, update };
}

// ---------- items whose root status changed outside a delta page ----------

/**
 * Recomputes the access of these items from their stored grants and parents, and carries
 * any change down their subtrees. For permission sets written on their own (not with a
 * page of the drive's feed), e.g. after a remediation re-read.
 */
export async function refreshAccess(ctx: ApplyContext, driveId: string, itemIds: string[]): Promise<void> {
  if (itemIds.length === 0) return;
  const items = new Map<
    string,
    { parent: string | null; isRoot: boolean; path: string | null; access: Access }
  >();
  const own = new Map<string, Exposure>();
  for (const part of inLists([...new Set(itemIds)])) {
    const ids = list(ctx, 3, part.length);
    const { rows } = await run(
      ctx.db,
      `select id, parent_id, is_root, path, access_root_id, exposure from drive_items where integration_id = ${ph(ctx, 1)} ` +
        `and drive_id = ${ph(ctx, 2)} and deleted_at is null and id in (${ids})`,
      [ctx.integrationId, driveId, ...part],
    );
    for (const r of rows)
      items.set(String(r.id), {
        parent: (r.parent_id as string | null) ?? null,
        isRoot: decodeValue('boolean', r.is_root) === true,
        path: (r.path as string | null) ?? null,
        access: {
          root: (r.access_root_id as string | null) ?? null,
          exposure: (r.exposure as Exposure) ?? null,
        },
      });
    const g = await run(
      ctx.db,
      `select item_id, ${EXPOSURE_OF_RANK(`max(${RANK})`)} as exposure from grants where integration_id = ${ph(ctx, 1)} ` +
        `and drive_id = ${ph(ctx, 2)} and item_id in (${ids}) group by item_id`,
      [ctx.integrationId, driveId, ...part],
    );
    for (const r of g.rows) own.set(String(r.item_id), r.exposure as Exposure);
  }
  // Ancestors first, so a descendant in the list reads its parent's new access.
  const ordered = [...items].sort(
    ([, x], [, y]) => (x.path?.split('/').length ?? 1e9) - (y.path?.split('/').length ?? 1e9),
  );
  for (const [id, item] of ordered) {
    let next: Access;
    const mine = own.get(id);
    if (mine) next = { root: id, exposure: mine };
    else if (item.isRoot) next = PRIVATE;
    else if (item.parent)
      next = (await storedAccess(ctx, driveId, [item.parent])).get(item.parent)?.access ?? PENDING;
    else next = PENDING;
    if (sameAccess(next, item.access)) continue;
    await run(
      ctx.db,
      `update drive_items set access_root_id = ${ph(ctx, 1)}, exposure = ${ph(ctx, 2)} ` +
        `where integration_id = ${ph(ctx, 3)} and drive_id = ${ph(ctx, 4)} and id = ${ph(ctx, 5)}`,
      [next.root, next.exposure, ctx.integrationId, driveId, id],
    );
    await propagateAccess(ctx, driveId, id, item.access, next);
  }
  await resolvePendingAccess(ctx, driveId);
}

// ---------- from scratch ----------

/**
 * Rebuilds a drive's grants and every item's access from its stored permissions, top-down
 * from the drive root in SQL (nothing held in memory but one page of permissions). Used to
 * fill in inventories collected before effective access existed, and as the reference the
 * incremental path is tested against.
 */
export async function rebuildAccess(ctx: ApplyContext, driveId: string): Promise<void> {
  const a = ph(ctx, 1);
  const b = ph(ctx, 2);
  await run(ctx.db, `delete from grants where integration_id = ${a} and drive_id = ${b}`, [
    ctx.integrationId,
    driveId,
  ]);
  const domains = await verifiedDomains(ctx);
  let after = '';
  for (;;) {
    // Keyset pages of the drive's sharing roots, then their live permissions.
    const { rows: roots } = await run(
      ctx.db,
      `select distinct item_id from permissions where integration_id = ${a} and drive_id = ${b} ` +
        `and deleted_at is null and item_id > ${ph(ctx, 3)} order by item_id limit 500`,
      [ctx.integrationId, driveId, after],
    );
    if (roots.length === 0) break;
    const ids = roots.map((r) => String(r.item_id));
    const { rows } = await run(
      ctx.db,
      `select item_id, raw from permissions where integration_id = ${a} and drive_id = ${b} ` +
        `and deleted_at is null and item_id in (${list(ctx, 3, ids.length)})`,
      [ctx.integrationId, driveId, ...ids],
    );
    const grants: GrantRow[] = [];
    for (const r of rows) {
      const parsed = permissionSchema.safeParse(decodeValue('json', r.raw));
      if (!parsed.success) continue; // stored rows were validated when written
      grants.push(...grantsOfPermissions(ctx, driveId, String(r.item_id), [parsed.data], domains));
    }
    await insertGrants(ctx, grants);
    after = ids[ids.length - 1];
  }
  await run(
    ctx.db,
    `update drive_items set access_root_id = null, exposure = null where integration_id = ${a} and drive_id = ${b} and deleted_at is null`,
    [ctx.integrationId, driveId],
  );
  const ownSql =
    `select item_id, ${EXPOSURE_OF_RANK(`max(${RANK})`)} as own from grants ` +
    `where integration_id = ${a} and drive_id = ${b} group by item_id`;
  const isRootTrue = `c.is_root = ${dialectOf(ctx.dialect).booleanLiteral(true)}`;
  const text = `with recursive own as (${ownSql}),
    t(id, root, exposure) as (
      select c.id, case when o.own is null then null else c.id end, coalesce(o.own, 'private')
      from drive_items c left join own o on o.item_id = c.id
      where c.integration_id = ${a} and c.drive_id = ${b} and c.deleted_at is null and ${isRootTrue}
      union all
      select c.id, case when o.own is null then t.root else c.id end, coalesce(o.own, t.exposure)
      from t cross join drive_items c${dialectOf(ctx.dialect).indexedBy('drive_items_parent')} left join own o on o.item_id = c.id
      where c.parent_id = t.id and c.integration_id = ${a} and c.drive_id = ${b} and c.deleted_at is null
    )
    update drive_items set access_root_id = t.root, exposure = t.exposure from t
    where drive_items.integration_id = ${a} and drive_items.drive_id = ${b} and drive_items.id = t.id`;
  await run(
    ctx.db,
    text,
    dialectOf(ctx.dialect).bindsByPosition
      ? [
          ctx.integrationId,
          driveId,
          ctx.integrationId,
          driveId,
          ctx.integrationId,
          driveId,
          ctx.integrationId,
          driveId,
        ]
      : [ctx.integrationId, driveId],
  );
  // Items under a parent the store never saw stay pending; roots among them still know their access.
  await run(
    ctx.db,
    `update drive_items set access_root_id = id, exposure = (select ${EXPOSURE_OF_RANK(`max(${RANK})`)} from grants g
       where g.integration_id = drive_items.integration_id and g.drive_id = drive_items.drive_id and g.item_id = drive_items.id)
     where integration_id = ${a} and drive_id = ${b} and deleted_at is null and exposure is null
       and exists (select 1 from grants g where g.integration_id = drive_items.integration_id
                   and g.drive_id = drive_items.drive_id and g.item_id = drive_items.id)`,
    [ctx.integrationId, driveId],
  );
  await resolvePendingAccess(ctx, driveId);
}

/** Rebuilds the access of every drive in the store (after the migration that introduced it). */
export async function backfillAccess(db: Kysely<Database>, dialect: Dialect): Promise<void> {
  const drives = await db
    .selectFrom('drive_items')
    .select(['integration_id', 'tenant_id', 'drive_id'])
    .distinct()
    .execute();
  for (const d of drives) {
    await db.transaction().execute((trx) =>
      rebuildAccess(
        {
          db: trx,
          dialect,
          integrationId: d.integration_id,
          tenantId: d.tenant_id,
          source: 'full',
          now: new Date().toISOString(),
        },
        d.drive_id,
      ),
    );
  }
}
