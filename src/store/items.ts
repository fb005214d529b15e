import { driveItem } from '../resources/drive-item.ts';
import type { Exposure } from '../resources/grant.ts';
import { permission } from '../resources/permission.ts';
import type { ResourceDef, ResourceRow } from '../resources/types.ts';
import {
  type Access,
  assignPageAccess,
  mapGrants,
  ownExposure,
  propagateAccess,
  refreshAccess,
  removeGrants,
  resolvePendingAccess,
  storedAccess,
  subtreeStep,
  writeGrants,
} from './access.ts';
import {
  type ApplyContext,
  type ChangeRecord,
  inLists,
  removeRows,
  replaceScopes,
  run,
  sweepScope,
  upsertRows,
} from './apply.ts';
import { dialectOf } from './dialect.ts';

/**
 * Drive items: paths from parent ids (delta gives none, and may give children before
 * parents), subtree path rewrites on folder rename/move, subtree tombstones on folder
 * delete, permissions as one scoped set per item.
 */

const itemDef = driveItem as ResourceDef<unknown>;
const permDef = permission as ResourceDef<unknown>;

export interface ItemsPage {
  driveId: string;
  /** The page in feed order: a live item's mapped row (driveItem.toRow), or only the id of a deleted one. */
  entries: Array<{ id: string; row?: ResourceRow }>;
  /**
   * Sharing of the page's live items, as the feed and the permission calls told it: the
   * item's permission set as just read (empty: it has none), or null when the item is no
   * sharing root (no `shared` facet). Items not in the map keep their stored permissions
   * (their permissions could not be read).
   */
  sharing?: Map<string, ResourceRow[] | null>;
  /**
   * Sharing roots whose permissions are read later (collect/permission-reads.ts), with the
   * exposure their `shared` facet's scope proves at least. Until the read, such an item is
   * a root with that exposure, or with its stored one when that is wider: exposure only
   * rises before the read, so a finding opened on it cannot close and reopen.
   */
  facet?: Map<string, Exposure>;
  /**
   * Where entries the page could not store (invalid payloads: item-level errors) sit, when
   * their raw entry still says (a name and a parent): their children in the page get their
   * paths through them. Nothing of these is stored.
   */
  pathHints?: Map<string, { name: string; parentId: string | null; isRoot: boolean }>;
}

function ph(ctx: ApplyContext, n: number): string {
  return dialectOf(ctx.dialect).placeholder(n);
}

/**
 * The key of drive_items_api_path (migration 0720), which serves every path lookup of live
 * items (0920 dropped the plain path index): with deleted_at is null, a statement naming this
 * expression walks that index. No path is '' (a root is '/'), so `= ''` means "no path yet".
 */
export const LIVE_PATH = "coalesce(path, '')";

function joinPath(parentPath: string, name: string): string {
  return parentPath === '/' ? `/${name}` : `${parentPath}/${name}`;
}

const EXPOSURE_RANK: Record<Exposure, number> = { private: 0, internal: 1, external: 2, public: 3 };

function widerExposure(a: Exposure, b: Exposure | null): Exposure {
  return b !== null && EXPOSURE_RANK[b] > EXPOSURE_RANK[a] ? b : a;
}

function accessOfRow(r: Record<string, unknown>): Access {
  return {
    root: (r.access_root_id as string | null | undefined) ?? null,
    exposure: (r.exposure as Exposure | null | undefined) ?? null,
  };
}

/**
 * Applies one page of a drive's delta feed: last occurrence of an id wins; live items are
 * upserted with computed paths and access; renamed/moved folders get their subtree paths
 * rewritten; permission sets and grants are replaced; deleted items are tombstoned with
 * their subtree and their permissions; access changes are carried down the subtrees; items
 * waiting for a parent get their path and access once it is known.
 */
export async function applyItemsPage(ctx: ApplyContext, page: ItemsPage): Promise<ChangeRecord[]> {
  const { driveId } = page;
  // Last occurrence wins across upserts and deletes, keeping feed order.
  const latest = new Map<string, { row?: ResourceRow }>();
  for (const entry of page.entries) {
    latest.delete(entry.id);
    latest.set(entry.id, entry);
  }
  const rows: ResourceRow[] = [];
  const deletes: string[] = [];
  for (const [id, v] of latest) {
    if (v.row) rows.push(v.row);
    else deletes.push(id);
  }
  const sharing = new Map([...(page.sharing ?? [])].filter(([id]) => latest.get(id)?.row !== undefined));
  // Permission sets: replaced where read, removed where the item is no sharing root any more.
  const readSets = new Map<string, ResourceRow[]>();
  const noRoot: string[] = [];
  for (const [id, set] of sharing) {
    if (set === null) noRoot.push(id);
    else readSets.set(id, set);
  }
  const grantSets = await mapGrants(ctx, driveId, readSets);
  const own = new Map<string, Exposure | null>(noRoot.map((id) => [id, null]));
  for (const [id, g] of grantSets) own.set(id, ownExposure(g));
  const facet = new Map(
    [...(page.facet ?? [])].filter(([id]) => latest.get(id)?.row !== undefined && !sharing.has(id)),
  );

  // Paths and access: from parents in this page, else from the store.
  // An invalid entry's place (pathHints) stands in for its row when naming paths only.
  const inPage = new Map<string, Record<string, unknown>>(rows.map((r) => [r.id, r]));
  for (const [id, hint] of page.pathHints ?? [])
    if (!inPage.has(id) && !deletes.includes(id))
      inPage.set(id, { id, name: hint.name, parent_id: hint.parentId, is_root: hint.isRoot });
  const deletedInPage = new Set(deletes);
  const lookup = new Set<string>();
  for (const r of inPage.values()) {
    const p = r.parent_id as string | null;
    if (p && !inPage.has(p) && !deletedInPage.has(p)) lookup.add(p);
  }
  for (const r of rows) if (!own.has(r.id)) lookup.add(r.id); // root status unknown (or provisional): as stored
  const known = await storedAccess(ctx, driveId, [...lookup]);
  for (const [id, level] of facet) {
    const stored = known.get(id)?.access;
    own.set(id, stored && stored.root === id ? widerExposure(level, stored.exposure) : level);
  }
  const computed = new Map<string, string | null>();
  const pathOf = (id: string, depth: number): string | null => {
    if (computed.has(id)) return computed.get(id) ?? null;
    const row = inPage.get(id);
    if (!row) return deletedInPage.has(id) ? null : (known.get(id)?.path ?? null);
    if (row.is_root) {
      computed.set(id, '/');
      return '/';
    }
    const parent = row.parent_id as string | null;
    const name = row.name as string | null;
    if (!parent || !name || depth > 10_000) {
      computed.set(id, null);
      return null;
    }
    computed.set(id, null); // cycle guard
    const pp = pathOf(parent, depth + 1);
    const path = pp === null ? null : joinPath(pp, name);
    computed.set(id, path);
    return path;
  };
  for (const r of rows) r.path = pathOf(r.id, 0);
  assignPageAccess(rows, own, known, deletedInPage);

  const changes: ChangeRecord[] = [];
  const { changes: upserted, previous } = await upsertRows(ctx, itemDef, rows);
  changes.push(...upserted);

  // Folders whose path changed carry their subtree along: deepest old path first, so a
  // renamed folder inside a renamed folder is rewritten before its ancestor.
  const moved: Array<{
    oldPath: string;
    newPath: string | null;
    oldUrl: string | null;
    newUrl: string | null;
  }> = [];
  for (const r of rows) {
    if (!r.is_folder) continue;
    const prev = previous.get(r.id);
    const oldPath = (prev?.path as string | null | undefined) ?? null;
    if (oldPath !== null && oldPath !== r.path)
      moved.push({
        oldPath,
        newPath: (r.path as string | null) ?? null,
        oldUrl: (prev?.web_url as string | null | undefined) ?? null,
        newUrl: (r.web_url as string | null | undefined) ?? null,
      });
  }
  moved.sort((a, b) => b.oldPath.split('/').length - a.oldPath.split('/').length);
  for (const m of moved) {
    if (m.oldUrl && m.newUrl && m.oldUrl !== m.newUrl)
      await rewriteSubtreeUrls(ctx, driveId, m.oldPath, m.oldUrl, m.newUrl);
    await rewriteSubtree(ctx, driveId, m.oldPath, m.newPath);
  }

  changes.push(...(await replacePermissionSets(ctx, driveId, readSets)));
  if (noRoot.length > 0) changes.push(...(await removePermissionsOf(ctx, driveId, noRoot)));
  await writeGrants(ctx, driveId, grantSets);

  if (deletes.length > 0) {
    const subtree = await subtreeIds(ctx, driveId, deletes);
    const removed = await removeRows(ctx, itemDef, { drive_id: driveId }, subtree);
    changes.push(...removed);
    changes.push(...(await removePermissionsOf(ctx, driveId, subtree)));
  }

  // Folders that existed and whose access changed pass the change to what inherits through them.
  for (const r of rows) {
    const prev = previous.get(r.id);
    if (r.is_folder && prev) await propagateAccess(ctx, driveId, r.id, accessOfRow(prev), accessOfRow(r));
  }

  await resolvePendingPaths(ctx, driveId);
  await resolvePendingAccess(ctx, driveId);
  return changes;
}

/**
 * Rewrites the web URLs below a folder whose URL changed (a rename or move): Graph builds them
 * from the path, and delta does not send the descendants again. Runs before the path rewrite,
 * while the subtree is still found under oldPath.
 */
async function rewriteSubtreeUrls(
  ctx: ApplyContext,
  driveId: string,
  oldPath: string,
  oldUrl: string,
  newUrl: string,
): Promise<void> {
  const prefix = oldPath === '/' ? '/' : `${oldPath}/`;
  const upper = `${prefix.slice(0, -1)}0`;
  const oldPrefix = `${oldUrl}/`;
  await run(
    ctx.db,
    `update drive_items set web_url = ${ph(ctx, 1)} || substr(web_url, ${ph(ctx, 2)}) ` +
      `where integration_id = ${ph(ctx, 3)} and drive_id = ${ph(ctx, 4)} and ${LIVE_PATH} >= ${ph(ctx, 5)} ` +
      `and ${LIVE_PATH} < ${ph(ctx, 6)} and deleted_at is null and substr(web_url, 1, ${ph(ctx, 7)}) = ${ph(ctx, 8)}`,
    [
      `${newUrl}/`,
      oldPrefix.length + 1,
      ctx.integrationId,
      driveId,
      prefix,
      upper,
      oldPrefix.length,
      oldPrefix,
    ],
  );
}

/** Rewrites the paths below a folder whose path changed from oldPath to newPath (null: unknown). */
async function rewriteSubtree(
  ctx: ApplyContext,
  driveId: string,
  oldPath: string,
  newPath: string | null,
): Promise<number> {
  const prefix = oldPath === '/' ? '/' : `${oldPath}/`;
  // Range on drive_items_api_path; '0' sorts right after '/'.
  const upper = `${prefix.slice(0, -1)}0`;
  const set = newPath === null ? 'path = null' : `path = ${ph(ctx, 5)} || substr(path, ${ph(ctx, 6)})`;
  const params: unknown[] = [ctx.integrationId, driveId, prefix, upper];
  if (newPath !== null) params.push(newPath === '/' ? '/' : `${newPath}/`, prefix.length + 1);
  const text =
    `update drive_items set ${set} where integration_id = ${ph(ctx, 1)} and drive_id = ${ph(ctx, 2)} ` +
    `and ${LIVE_PATH} >= ${ph(ctx, 3)} and ${LIVE_PATH} < ${ph(ctx, 4)} and deleted_at is null`;
  // SQLite binds positionally: the SET parameters come first in the statement text.
  const ordered =
    dialectOf(ctx.dialect).bindsByPosition && newPath !== null
      ? [params[4], params[5], ...params.slice(0, 4)]
      : params;
  const { affected } = await run(ctx.db, text, ordered);
  return affected;
}

/** The given items and every live descendant (by parent id, so also items without a path). */
async function subtreeIds(ctx: ApplyContext, driveId: string, roots: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const part of inLists(roots)) {
    const { text, params } = subtreeIdsSql(ctx, driveId, part);
    const { rows } = await run(ctx.db, text, params);
    for (const r of rows) out.push(String(r.id));
  }
  // Ids the store never saw are still passed on: removeRows ignores them.
  return [...new Set([...roots, ...out])];
}

/** The statement of subtreeIds for one IN list of roots (exported for the plan test in access.test.ts). */
export function subtreeIdsSql(
  ctx: ApplyContext,
  driveId: string,
  roots: string[],
): { text: string; params: unknown[] } {
  const list = roots.map((_, j) => ph(ctx, 3 + j)).join(', ');
  const a = ph(ctx, 1);
  const b = ph(ctx, 2);
  const text = `with recursive sub(id) as (
         select id from drive_items where integration_id = ${a} and drive_id = ${b} and id in (${list})
         union
         ${subtreeStep(ctx.dialect, 'sub')} and c.integration_id = ${a} and c.drive_id = ${b} and c.deleted_at is null
       ) select id from sub`;
  const params = dialectOf(ctx.dialect).bindsByPosition
    ? [ctx.integrationId, driveId, ...roots, ctx.integrationId, driveId]
    : [ctx.integrationId, driveId, ...roots];
  return { text, params };
}

/** Gives a path to live items still waiting for their parent's, level by level. */
export async function resolvePendingPaths(ctx: ApplyContext, driveId: string): Promise<number> {
  const a = ph(ctx, 1);
  const b = ph(ctx, 2);
  const pending = await run(
    ctx.db,
    `select 1 as x from drive_items where integration_id = ${a} and drive_id = ${b} and ${LIVE_PATH} = '' and deleted_at is null limit 1`,
    [ctx.integrationId, driveId],
  );
  if (pending.rows.length === 0) return 0;
  const parent =
    'from drive_items p where p.integration_id = drive_items.integration_id and p.drive_id = drive_items.drive_id ' +
    'and p.id = drive_items.parent_id and p.deleted_at is null';
  const text =
    `update drive_items set path = (select case when p.path = '/' then '/' || drive_items.name ` +
    `else p.path || '/' || drive_items.name end ${parent}) ` +
    `where integration_id = ${a} and drive_id = ${b} and ${LIVE_PATH} = '' and deleted_at is null ` +
    `and name is not null and parent_id is not null and exists (select 1 ${parent} and p.path is not null)`;
  let total = 0;
  for (;;) {
    const { affected } = await run(ctx.db, text, [ctx.integrationId, driveId]);
    total += affected;
    if (affected === 0) break;
  }
  return total;
}

/** Sets the complete permission set of one item (empty = the item no longer has its own). */
export async function applyPermissionSet(
  ctx: ApplyContext,
  driveId: string,
  itemId: string,
  rows: ResourceRow[],
): Promise<ChangeRecord[]> {
  return applyPermissionSets(ctx, driveId, new Map([[itemId, rows]]));
}

/**
 * applyPermissionSet for many items of one drive, outside a page of the drive's feed:
 * permissions, grants and the access of the items and their subtrees.
 */
export async function applyPermissionSets(
  ctx: ApplyContext,
  driveId: string,
  sets: Map<string, ResourceRow[]>,
): Promise<ChangeRecord[]> {
  const changes = await replacePermissionSets(ctx, driveId, sets);
  await writeGrants(ctx, driveId, await mapGrants(ctx, driveId, sets));
  await refreshAccess(ctx, driveId, [...sets.keys()]);
  return changes;
}

/** Permission rows only (grants and access are the caller's). */
async function replacePermissionSets(
  ctx: ApplyContext,
  driveId: string,
  sets: Map<string, ResourceRow[]>,
): Promise<ChangeRecord[]> {
  return replaceScopes(
    ctx,
    permDef,
    [...sets].map(([itemId, rows]) => ({ scope: { drive_id: driveId, item_id: itemId }, rows })),
  );
}

/**
 * After a fresh enumeration of a drive that started at `since`: tombstones the items it
 * no longer returned, and their permissions.
 */
export async function sweepDrive(ctx: ApplyContext, driveId: string, since: string): Promise<ChangeRecord[]> {
  const removed = await sweepScope(ctx, itemDef, { drive_id: driveId }, since);
  const perms = await removePermissionsOf(
    ctx,
    driveId,
    removed.map((c) => c.id),
  );
  return [...removed, ...perms];
}

/** Tombstones the live permissions of these items. */
export async function removePermissionsOf(
  ctx: ApplyContext,
  driveId: string,
  itemIds: string[],
): Promise<ChangeRecord[]> {
  const byItem = new Map<string, string[]>();
  for (const part of inLists(itemIds)) {
    const list = part.map((_, j) => ph(ctx, 3 + j)).join(', ');
    const { rows } = await run(
      ctx.db,
      `select item_id, id from permissions where integration_id = ${ph(ctx, 1)} and drive_id = ${ph(ctx, 2)} ` +
        `and deleted_at is null and item_id in (${list})`,
      [ctx.integrationId, driveId, ...part],
    );
    for (const r of rows) {
      const item = String(r.item_id);
      const ids = byItem.get(item) ?? [];
      ids.push(String(r.id));
      byItem.set(item, ids);
    }
  }
  const changes: ChangeRecord[] = [];
  for (const [itemId, ids] of byItem) {
    changes.push(...(await removeRows(ctx, permDef, { drive_id: driveId, item_id: itemId }, ids)));
  }
  await removeGrants(ctx, driveId, [...byItem.keys()]);
  return changes;
}
