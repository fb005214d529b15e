/** Upsert-with-history of one resource type's rows. */
import type { ResourceDef, ResourceRow } from '../../resources/types.ts';
import { encodeValue } from '../codec.ts';
import { cachedSql, placeholders, pow2Chunks, q, run } from './batching.ts';
import { diffRows } from './diff.ts';
import { writeHistory } from './history.ts';
import { selectExisting } from './read.ts';
import { metaOf, scopeKey, scopeOf, type TableMeta } from './table-meta.ts';
import type { ApplyContext, ChangeRecord, UpsertResult } from './types.ts';

/**
 * Inserts or updates rows of one resource type and records what changed: `added` for new
 * (or tombstoned, now back) rows, `modified` with the changed typed columns (volatile ones
 * excluded), nothing for unchanged rows (they only get last_seen and raw refreshed).
 * Within the batch the last row with a given key wins.
 */
export async function upsertRows(
  ctx: ApplyContext,
  def: ResourceDef<unknown>,
  rows: ResourceRow[],
): Promise<UpsertResult> {
  const meta = metaOf(def);
  const result: UpsertResult = { changes: [], previous: new Map() };
  if (rows.length === 0) return result;
  const actors = new Map<ChangeRecord, string | null>();

  // Dedupe by key (last wins) and group by scope.
  const byScope = new Map<string, Map<string, ResourceRow>>();
  for (const row of rows) {
    const sk = scopeKey(meta.scopeCols, row);
    let group = byScope.get(sk);
    if (!group) {
      group = new Map();
      byScope.set(sk, group);
    }
    group.delete(row.id);
    group.set(row.id, row);
  }

  const all: ResourceRow[] = [];
  for (const group of byScope.values()) {
    const part = [...group.values()];
    const scope = scopeOf(meta.scopeCols, part[0]);
    const existing = await selectExisting(
      ctx,
      meta,
      scope,
      part.map((r) => r.id),
    );
    diffRows(meta, scope, part, existing, result, actors);
    for (const r of part) all.push(r);
  }
  for (const part of pow2Chunks(all, meta.rowsPerChunk)) await writeRows(ctx, meta, part);
  await writeHistory(ctx, result.changes, actors);
  return result;
}

/** One multi-row INSERT … ON CONFLICT DO UPDATE of rows (a power-of-two count). */
export async function writeRows(ctx: ApplyContext, meta: TableMeta, rows: ResourceRow[]): Promise<void> {
  const n = meta.insertCols.length;
  const text = cachedSql(`ups:${meta.table}:${ctx.dialect}:${rows.length}`, () => {
    const groups = rows.map((_, i) => `(${placeholders(ctx.dialect, 1 + i * n, n)})`);
    const conflict = ['integration_id', ...meta.def.key].map(q).join(', ');
    const updates = meta.insertCols
      .map(([c]) => c)
      .filter((c) => c !== 'integration_id' && c !== 'first_seen' && !meta.def.key.includes(c))
      .map((c) => `${q(c)} = excluded.${q(c)}`)
      .join(', ');
    return (
      `insert into ${q(meta.table)} (${meta.insertCols.map(([c]) => q(c)).join(', ')}) ` +
      `values ${groups.join(', ')} on conflict (${conflict}) do update set ${updates}`
    );
  });
  const cols = meta.insertCols;
  const params: unknown[] = new Array(rows.length * n);
  let p = 0;
  for (const row of rows) {
    for (let i = 0; i < n; i++) {
      const [c, kind] = cols[i];
      let v: unknown;
      if (c === 'integration_id') v = ctx.integrationId;
      else if (c === 'tenant_id') v = ctx.tenantId;
      else if (c === 'first_seen' || c === 'last_seen') v = ctx.now;
      else if (c === 'deleted_at') v = null;
      else v = row[c];
      params[p++] = encodeValue(kind, v, ctx.dialect);
    }
  }
  await run(ctx.db, text, params);
}
