/** Tombstones (removal with history), reconciliation sweeps and last_seen bumps. */
import type { ResourceDef } from '../../resources/types.ts';
import { cachedSql, inLists, MAX_ROWS, placeholders, q, run } from './batching.ts';
import { typedValues } from './diff.ts';
import { writeHistory } from './history.ts';
import { liveIds, selectExisting } from './read.ts';
import { metaOf, type TableMeta } from './table-meta.ts';
import type { ApplyContext, ChangeRecord } from './types.ts';

/** Tombstones the rows with these ids in one scope and records `removed` (already tombstoned: no-op). */
export async function removeRows(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  scope: Record<string, string>,
  ids: string[],
): Promise<ChangeRecord[]> {
  const meta = metaOf(def);
  const changes: ChangeRecord[] = [];
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += MAX_ROWS) {
    const part = unique.slice(i, i + MAX_ROWS);
    const existing = await selectExisting(ctx, meta, scope, part);
    changes.push(...(await tombstone(ctx, meta, scope, part, existing)));
  }
  await writeHistory(ctx, changes, new Map());
  return changes;
}

/**
 * Tombstones those of `ids` (one scope) that are live in `existing` (their stored rows, by
 * id) and returns their `removed` records in the order of `ids` (history not written).
 */
export async function tombstone(
  ctx: ApplyContext,
  meta: TableMeta,
  scope: Record<string, string>,
  ids: string[],
  existing: Map<string, Record<string, unknown>>,
): Promise<ChangeRecord[]> {
  const live = ids.filter((id) => {
    const prev = existing.get(id);
    return prev !== undefined && prev.deleted_at === null;
  });
  if (live.length === 0) return [];
  const base = 3 + meta.scopeCols.length;
  for (const part of inLists(live)) {
    const text = cachedSql(`del:${meta.table}:${ctx.dialect}:${part.length}`, () => {
      const where = [
        `integration_id = ${placeholders(ctx.dialect, 2, 1)}`,
        ...meta.scopeCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 3 + i, 1)}`),
        `id in (${placeholders(ctx.dialect, base, part.length)})`,
      ].join(' and ');
      return `update ${q(meta.table)} set deleted_at = ${placeholders(ctx.dialect, 1, 1)} where ${where}`;
    });
    await run(ctx.db, text, [ctx.now, ctx.integrationId, ...meta.scopeCols.map((c) => scope[c]), ...part]);
  }
  return live.map((id) => {
    const before = typedValues(meta, existing.get(id) as Record<string, unknown>);
    return {
      resourceType: meta.def.type,
      id,
      changeType: 'removed' as const,
      scope,
      fields: Object.keys(before),
      before,
      after: null,
    };
  });
}

/**
 * Reconciliation: removes every live row in a scope whose last_seen is before `since`
 * (rows a fresh enumeration started at `since` no longer returned).
 */
export async function sweepScope(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  scope: Record<string, string>,
  since: string,
): Promise<ChangeRecord[]> {
  const meta = metaOf(def);
  const changes: ChangeRecord[] = [];
  for (;;) {
    const ids = await liveIds(ctx, meta, scope, { notSeenSince: since, limit: MAX_ROWS });
    if (ids.length === 0) break;
    changes.push(...(await removeRows(ctx, def, scope, ids)));
  }
  return changes;
}

/** Marks rows as seen now without changing them (rows Graph returned but that could not be mapped). */
export async function touchRows(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  scope: Record<string, string>,
  ids: string[],
): Promise<void> {
  const meta = metaOf(def);
  for (const part of inLists([...new Set(ids)])) {
    const base = 3 + meta.scopeCols.length;
    const text = cachedSql(`touch:${meta.table}:${ctx.dialect}:${part.length}`, () => {
      const where = [
        `integration_id = ${placeholders(ctx.dialect, 2, 1)}`,
        ...meta.scopeCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 3 + i, 1)}`),
        `id in (${placeholders(ctx.dialect, base, part.length)})`,
      ].join(' and ');
      return `update ${q(meta.table)} set last_seen = ${placeholders(ctx.dialect, 1, 1)} where ${where}`;
    });
    await run(ctx.db, text, [ctx.now, ctx.integrationId, ...meta.scopeCols.map((c) => scope[c]), ...part]);
  }
}
