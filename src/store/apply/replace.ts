/** Replacing whole scopes: the permissions of an item, the members of a group. */
import type { ResourceDef, ResourceRow } from '../../resources/types.ts';
import { pow2Chunks } from './batching.ts';
import { diffRows } from './diff.ts';
import { writeHistory } from './history.ts';
import { liveIds, selectScopes } from './read.ts';
import { removeRows, tombstone } from './remove.ts';
import { metaOf, scopeKey, scopeOf } from './table-meta.ts';
import type { ApplyContext, ChangeRecord, UpsertResult } from './types.ts';
import { upsertRows, writeRows } from './upsert.ts';

/**
 * Replaces the whole set of rows in one scope (the permissions of one item, the members
 * of one group): upserts `rows`, removes every live row of the scope not among them.
 */
export async function replaceScope(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  scope: Record<string, string>,
  rows: ResourceRow[],
): Promise<ChangeRecord[]> {
  const meta = metaOf(def);
  for (const r of rows) {
    for (const c of meta.scopeCols) {
      if (r[c] !== scope[c]) throw new Error(`${def.type} ${r.id} is outside the scope ${c}=${scope[c]}`);
    }
  }
  const { changes } = await upsertRows(ctx, def, rows);
  const keep = new Set(rows.map((r) => r.id));
  const gone: string[] = [];
  let afterId: string | undefined;
  for (;;) {
    const ids = await liveIds(ctx, meta, scope, { afterId, limit: 1000 });
    if (ids.length === 0) break;
    for (const id of ids) if (!keep.has(id)) gone.push(id);
    afterId = ids[ids.length - 1];
  }
  if (gone.length > 0) changes.push(...(await removeRows(ctx, def, scope, gone)));
  return changes;
}

/**
 * replaceScope for many small scopes at once (the permission sets of one page's items):
 * one SELECT of the scopes' rows, one multi-row upsert, one history insert. A scope given
 * twice: the later set wins. Scopes are read whole, so keep them small (not a group's
 * members: replaceScope pages through those).
 */
export async function replaceScopes(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  sets: Array<{ scope: Record<string, string>; rows: ResourceRow[] }>,
): Promise<ChangeRecord[]> {
  const meta = metaOf(def);
  if (sets.length === 0) return [];
  if (meta.scopeCols.length === 0) throw new Error(`${def.type} has no scope to replace`);
  const byScope = new Map<string, { scope: Record<string, string>; rows: Map<string, ResourceRow> }>();
  for (const set of sets) {
    const rows = new Map<string, ResourceRow>();
    for (const r of set.rows) {
      for (const c of meta.scopeCols) {
        if (r[c] !== set.scope[c])
          throw new Error(`${def.type} ${r.id} is outside the scope ${c}=${set.scope[c]}`);
      }
      rows.delete(r.id);
      rows.set(r.id, r);
    }
    const k = scopeKey(meta.scopeCols, set.scope);
    byScope.delete(k);
    byScope.set(k, { scope: scopeOf(meta.scopeCols, set.scope), rows });
  }
  const existing = await selectScopes(
    ctx,
    meta,
    [...byScope.values()].map((s) => s.scope),
  );
  const result: UpsertResult = { changes: [], previous: new Map() };
  const actors = new Map<ChangeRecord, string | null>();
  const all: ResourceRow[] = [];
  const gone: Array<{ scope: Record<string, string>; rows: Map<string, Record<string, unknown>> }> = [];
  for (const [k, { scope, rows }] of byScope) {
    const stored = existing.get(k) ?? new Map<string, Record<string, unknown>>();
    const part = [...rows.values()];
    diffRows(meta, scope, part, stored, result, actors);
    for (const r of part) all.push(r);
    const absent = new Map<string, Record<string, unknown>>();
    for (const [id, prev] of stored) if (!rows.has(id) && prev.deleted_at === null) absent.set(id, prev);
    if (absent.size > 0) gone.push({ scope, rows: absent });
  }
  for (const part of pow2Chunks(all, meta.rowsPerChunk)) await writeRows(ctx, meta, part);
  const changes = result.changes;
  for (const g of gone) {
    const ids = [...g.rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    changes.push(...(await tombstone(ctx, meta, g.scope, ids, g.rows)));
  }
  await writeHistory(ctx, changes, actors);
  return changes;
}
