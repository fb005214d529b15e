/** Reading what the store has: rows by id, rows of many scopes, live ids. */
import { decodeValue } from '../codec.ts';
import { cachedSql, inLists, placeholders, q, run } from './batching.ts';
import { scopeKey, type TableMeta } from './table-meta.ts';
import type { ApplyContext } from './types.ts';

/** Existing rows (typed columns decoded + deleted_at) of one scope, by id. */
export async function selectExisting(
  ctx: ApplyContext,
  meta: TableMeta,
  scope: Record<string, string>,
  ids: string[],
): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const base = 1 + meta.scopeCols.length;
  for (const part of inLists(ids)) {
    const text = cachedSql(`sel:${meta.table}:${ctx.dialect}:${part.length}`, () => {
      const cols = ['id', 'deleted_at', ...meta.typed.map(([n]) => n)].map(q).join(', ');
      const where = [
        `integration_id = ${placeholders(ctx.dialect, 1, 1)}`,
        ...meta.scopeCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 2 + i, 1)}`),
        `id in (${placeholders(ctx.dialect, base + 1, part.length)})`,
      ].join(' and ');
      return `select ${cols} from ${q(meta.table)} where ${where}`;
    });
    const params = [ctx.integrationId, ...meta.scopeCols.map((c) => scope[c]), ...part];
    const { rows } = await run(ctx.db, text, params);
    for (const r of rows) out.set(String(r.id), decodeTyped(meta, r));
  }
  return out;
}

/**
 * Every row (live or tombstoned) of the given scopes, by scope key and id: one statement
 * per group of scopes that differ only in their last scope column (the permissions of a
 * page's items: same drive, an IN list of item ids). For many small scopes.
 */
export async function selectScopes(
  ctx: ApplyContext,
  meta: TableMeta,
  scopes: Array<Record<string, string>>,
): Promise<Map<string, Map<string, Record<string, unknown>>>> {
  const out = new Map<string, Map<string, Record<string, unknown>>>();
  const outerCols = meta.scopeCols.slice(0, -1);
  const lastCol = meta.scopeCols[meta.scopeCols.length - 1];
  const groups = new Map<string, { outer: Record<string, string>; lasts: string[] }>();
  for (const scope of scopes) {
    const k = scopeKey(outerCols, scope);
    let g = groups.get(k);
    if (!g) {
      g = { outer: scope, lasts: [] };
      groups.set(k, g);
    }
    g.lasts.push(scope[lastCol]);
  }
  const base = 1 + outerCols.length;
  for (const g of groups.values()) {
    for (const part of inLists([...new Set(g.lasts)])) {
      const text = cachedSql(`selscopes:${meta.table}:${ctx.dialect}:${part.length}`, () => {
        const cols = ['id', lastCol, 'deleted_at', ...meta.typed.map(([n]) => n)].map(q).join(', ');
        const where = [
          `integration_id = ${placeholders(ctx.dialect, 1, 1)}`,
          ...outerCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 2 + i, 1)}`),
          `${q(lastCol)} in (${placeholders(ctx.dialect, base + 1, part.length)})`,
        ].join(' and ');
        return `select ${cols} from ${q(meta.table)} where ${where}`;
      });
      const params = [ctx.integrationId, ...outerCols.map((c) => g.outer[c]), ...part];
      const { rows } = await run(ctx.db, text, params);
      for (const r of rows) {
        const k = scopeKey(meta.scopeCols, { ...g.outer, [lastCol]: String(r[lastCol]) });
        let m = out.get(k);
        if (!m) {
          m = new Map();
          out.set(k, m);
        }
        m.set(String(r.id), decodeTyped(meta, r));
      }
    }
  }
  return out;
}

/** Live (not tombstoned) ids in a scope, optionally only those not seen since `since`. */
export async function liveIds(
  ctx: ApplyContext,
  meta: TableMeta,
  scope: Record<string, string>,
  opts: { notSeenSince?: string; afterId?: string; limit: number },
): Promise<string[]> {
  const params: unknown[] = [ctx.integrationId, ...meta.scopeCols.map((c) => scope[c])];
  const where = [
    `integration_id = ${placeholders(ctx.dialect, 1, 1)}`,
    ...meta.scopeCols.map((c, i) => `${q(c)} = ${placeholders(ctx.dialect, 2 + i, 1)}`),
    'deleted_at is null',
  ];
  if (opts.notSeenSince !== undefined) {
    params.push(opts.notSeenSince);
    where.push(`last_seen < ${placeholders(ctx.dialect, params.length, 1)}`);
  }
  if (opts.afterId !== undefined) {
    params.push(opts.afterId);
    where.push(`id > ${placeholders(ctx.dialect, params.length, 1)}`);
  }
  const text = `select id from ${q(meta.table)} where ${where.join(' and ')} order by id limit ${opts.limit}`;
  const { rows } = await run(ctx.db, text, params);
  return rows.map((r) => String(r.id));
}

function decodeTyped(meta: TableMeta, r: Record<string, unknown>): Record<string, unknown> {
  const decoded: Record<string, unknown> = { deleted_at: decodeValue('timestamp', r.deleted_at) };
  for (const [n, c] of meta.typed) decoded[n] = decodeValue(c.kind, r[n]);
  return decoded;
}
