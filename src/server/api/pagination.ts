import { type Expression, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { ApiError } from './errors.ts';

/**
 * Keyset (cursor) pagination done in the database: a page is "the next `limit` rows after
 * this sort key", so page 10,000 costs what page 1 costs, and rows inserted meanwhile never
 * shift a page. The cursor is the last row's sort key, base64url JSON, opaque to clients.
 *
 * Sort expressions must be non-null (wrap nullable columns in `coalesce`) and the last one
 * must make the order total (a primary key).
 */

export const listQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('Rows per page (1–500)'),
  cursor: z.string().max(2000).optional().describe('nextCursor of the previous page'),
  sort: z.string().max(64).optional().describe('Sort field; prefix with - for descending'),
});
export type ListQuery = z.infer<typeof listQuerySchema>;

/** `{ items, nextCursor }`: the shape of every list answer. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page'),
  });
}

export interface SortKey {
  /** SQL expression of the key (a column reference or coalesce(...)). */
  expr: Expression<unknown>;
  dir: 'asc' | 'desc';
}

/**
 * The sort a list is ordered by: the requested field (from `allowed`, `-` prefix for
 * descending) then the tie-breakers. Unknown fields are refused with the allowed ones named.
 */
export function sortKeys(
  requested: string | undefined,
  allowed: Record<string, Expression<unknown>>,
  fallback: string,
  tieBreakers: Expression<unknown>[],
): { keys: SortKey[]; name: string } {
  const raw = requested ?? fallback;
  const desc = raw.startsWith('-');
  const name = desc ? raw.slice(1) : raw;
  const expr = allowed[name];
  if (!expr)
    throw new ApiError(
      400,
      'invalid_request',
      `sort: "${raw}" is not one of ${Object.keys(allowed).join(', ')}`,
    );
  const dir: SortKey['dir'] = desc ? 'desc' : 'asc';
  return { name: raw, keys: [{ expr, dir }, ...tieBreakers.map((e) => ({ expr: e, dir }))] };
}

export function encodeCursor(values: unknown[]): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, arity: number): unknown[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(values) &&
      values.length === arity &&
      values.every((v) => v === null || typeof v !== 'object')
    )
      return values;
  } catch {
    // reported below
  }
  throw new ApiError(400, 'invalid_request', 'cursor: not a cursor this list gave out (or the sort changed)');
}

/**
 * The `where` that starts after the cursor: k1 >= v1 and ((k1 > v1) or (k1 = v1 and k2 > v2) or …).
 * The leading bound is redundant logically but lets SQLite start the index range at the cursor
 * (it does not derive a range from the OR alone and would walk the index from its start).
 */
export function afterCursor(keys: SortKey[], cursor: string): Expression<SqlBool> {
  const values = decodeCursor(cursor, keys.length);
  const ors = keys.map((key, i) => {
    const eqs = keys.slice(0, i).map((k, j) => sql<SqlBool>`${k.expr} = ${values[j]}`);
    const cmp =
      key.dir === 'asc' ? sql<SqlBool>`${key.expr} > ${values[i]}` : sql<SqlBool>`${key.expr} < ${values[i]}`;
    return sql<SqlBool>`(${sql.join([...eqs, cmp], sql` and `)})`;
  });
  const first = keys[0];
  const bound =
    first.dir === 'asc'
      ? sql<SqlBool>`${first.expr} >= ${values[0]}`
      : sql<SqlBool>`${first.expr} <= ${values[0]}`;
  return sql<SqlBool>`(${bound} and (${sql.join(ors, sql` or `)}))`;
}

/** `order by` fragments of the keys, for `query.orderBy(sql\`...\`)`. */
export function orderByKeys(keys: SortKey[]) {
  return sql.join(keys.map((k) => (k.dir === 'asc' ? sql`${k.expr} asc` : sql`${k.expr} desc`)));
}

/**
 * Turns `limit + 1` fetched rows into a page: the extra row only says there is a next page.
 * `keyOf` gives a row's sort-key values in the order of the keys.
 */
export function toPage<T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => unknown[],
): { items: T[]; nextCursor: string | null } {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  return { items, nextCursor: encodeCursor(keyOf(items[items.length - 1])) };
}
