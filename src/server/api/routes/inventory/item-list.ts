import { type Expression, type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { dialectOf } from '../../../../store/dialect.ts';
import type { Database } from '../../../../store/schema.ts';
import { ApiError } from '../../errors.ts';
import { afterCursor, encodeCursor, type SortKey } from '../../pagination.ts';
import { drivesOfOwner, type ItemListQuery, itemPredicates } from './item-filters.ts';
import { GATHER_MAX, gatherable, gatherPage } from './item-gather.ts';
import { type ItemRow, type ItemWindowRow, toItemRows } from './item-rows.ts';

/**
 * `GET /inventory/items` on millions of rows. A page walks the index of its sort
 * (migration 0720) from the cursor and examines at most SCAN_WINDOW live items: the key of the
 * SCAN_WINDOW-th row is read from the index first, then the filtered rows between the cursor
 * and that key are read in index order until the page is full (no sort step). So every page costs at most one window, whatever the filters: a
 * filter that matches rarely gives a short page (fewer than `limit` items) whose nextCursor
 * continues after the last row examined. Clients follow nextCursor until it is null; a short
 * or empty page with a nextCursor is not the end. No total is counted.
 * A drive or owner filter narrows the window to the drives' items (the drive-clustered
 * indexes), so a drive's listing is never short. Filters whose matches lie far apart in the sort
 * order reach them directly instead: a filter on exposure, folder or size that at most
 * GATHER_MAX items can match reads those (item-gather.ts); folders sorted by name walk the
 * folders' own index (migration 0930).
 */
// Measured on the 1,000,000-item bench store: a window of 20,000 rows none of which matched cost
// ~630 ms on a loaded machine (one table read per row examined); 5,000 keeps a page well inside
// the 200 ms goal, at the price of more short pages for rare matches.
export const SCAN_WINDOW = 5_000;
/**
 * A page short after one window goes on to the next while the page has taken less than this:
 * on a quiet machine a rare filter fills its page, on a loaded one the page stays bounded. (On
 * the 1,000,000-item store "folders only" sorted by name gave an empty first page: the first
 * 5,000 names are files.)
 */
export const WINDOW_BUDGET_MS = 60;
/**
 * A page with no row yet goes on past WINDOW_BUDGET_MS until it finds one or has taken this
 * long: an empty page reads as "no results" to a person, while a short one does not. Windows
 * double while the page is empty (fewer round trips through a long run of non-matching rows).
 */
export const EMPTY_PAGE_CEILING_MS = 1_000;
const MAX_WINDOW_GROWTH = 8;

/** What a page may cost (tests narrow them to exercise each plan on a small store). */
export interface ListBounds {
  /** Index entries per window of the walk. */
  window: number;
  /** A short page stops after this. */
  budgetMs: number;
  /** An empty page stops after this. */
  ceilingMs: number;
  /** The most candidates the gather plan reads (item-gather.ts). */
  gatherMax: number;
}
const DEFAULT_BOUNDS: ListBounds = {
  window: SCAN_WINDOW,
  budgetMs: WINDOW_BUDGET_MS,
  ceilingMs: EMPTY_PAGE_CEILING_MS,
  gatherMax: GATHER_MAX,
};

export type ItemSortName = 'name' | 'path' | 'size' | 'modified';

/** The sort key expression over drive_items `i`: exactly the expressions migration 0720 indexes. */
function sortExpression(
  name: ItemSortName,
  dialect: 'sqlite' | 'postgres',
  alias: string,
): RawBuilder<unknown> {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  switch (name) {
    case 'name':
      return sql`coalesce(${col('name')}, '')`;
    case 'path':
      return sql`coalesce(${col('path')}, '')`;
    case 'size':
      return sql`coalesce(${col('size')}, -1)`;
    case 'modified':
      return dialect === 'postgres'
        ? sql`coalesce(${col('modified_at')}, to_timestamp(0))`
        : sql`coalesce(${col('modified_at')}, '1970-01-01T00:00:00.000Z')`;
  }
}

interface ItemSort {
  name: ItemSortName;
  /** The sort field's expression over `i`, selected as the window column dw_k. */
  key: RawBuilder<unknown>;
  /** Key expressions over the alias, in index order. */
  inner: SortKey[];
  /** The window row's key values, in key order (the cursor). */
  keyOf(row: ItemWindowRow): unknown[];
}

export function itemSort(
  requested: string | undefined,
  dialect: 'sqlite' | 'postgres',
  alias = 'i',
): ItemSort {
  const raw = requested ?? 'name';
  const desc = raw.startsWith('-');
  const name = (desc ? raw.slice(1) : raw) as ItemSortName;
  if (!['name', 'path', 'size', 'modified'].includes(name))
    throw new ApiError(400, 'invalid_request', `sort: "${raw}" is not one of name, path, size, modified`);
  const dir = desc ? 'desc' : 'asc';
  const k = sortExpression(name, dialect, alias);
  // path sorts within a drive (paths are per drive): the index is (integration, drive, path, id).
  const names =
    name === 'path'
      ? ['integration_id', 'drive_id', 'dw_k', 'id']
      : ['dw_k', 'integration_id', 'drive_id', 'id'];
  const innerExpr = (n: string): Expression<unknown> => (n === 'dw_k' ? k : sql.ref(`${alias}.${n}`));
  return {
    name,
    key: k,
    inner: names.map((n) => ({ expr: innerExpr(n), dir })),
    keyOf: (row) => names.map((n) => row[n as keyof ItemWindowRow]),
  };
}

const order = (keys: SortKey[]) =>
  sql.join(keys.map((k) => (k.dir === 'asc' ? sql`${k.expr} asc` : sql`${k.expr} desc`)));

const WINDOW_COLUMNS = sql.raw(
  [
    'integration_id',
    'drive_id',
    'id',
    'name',
    'path',
    'is_folder',
    'size',
    'modified_at',
    'exposure',
    'extension',
    'access_root_id',
    'web_url',
  ]
    .map((c) => `w.${c}`)
    .join(', '),
);

export async function listItems(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  query: ItemListQuery,
  bounds: Partial<ListBounds> = {},
): Promise<{ items: ItemRow[]; nextCursor: string | null }> {
  const started = performance.now();
  const { window, budgetMs, ceilingMs, gatherMax } = { ...DEFAULT_BOUNDS, ...bounds };
  // One alias, w, for the index walk and the filters (item-filters.ts speaks of w).
  const sort = itemSort(query.sort, dialect, 'w');
  const drives = await driveScope(db, query);
  if (drives?.length === 0) return { items: [], nextCursor: null };
  if (drives === undefined && gatherable(query)) {
    const gathered = await gatherPage(
      db,
      dialect,
      sort,
      { ...query, limit: query.limit + 1 },
      WINDOW_COLUMNS,
      gatherMax,
    );
    if (gathered) return page(db, sort, gathered, query.limit);
  }
  const source = walkSource(dialect, sort, query, drives);
  const rows: ItemWindowRow[] = [];
  let cursor = query.cursor;
  let size = window;
  for (;;) {
    const part = await readWindow(
      db,
      sort,
      { ...query, cursor, limit: query.limit + 1 - rows.length },
      source,
      size,
    );
    rows.push(...part.rows);
    if (rows.length > query.limit) return page(db, sort, rows, query.limit);
    // The index ends within this window: the listing is complete.
    if (!part.end) return { items: await toItemRows(db, rows), nextCursor: null };
    cursor = encodeCursor(part.end);
    // A short page: its windows were examined up to the last one's end; the next page starts after it.
    const spent = performance.now() - started;
    if (spent >= (rows.length > 0 ? budgetMs : Math.max(budgetMs, ceilingMs)))
      return { items: await toItemRows(db, rows), nextCursor: cursor };
    if (rows.length === 0) size = Math.min(size * 2, window * MAX_WINDOW_GROWTH);
  }
}

/** What the walk reads: drive_items w (through an index), and the rows that index holds. */
interface WalkSource {
  from: RawBuilder<unknown>;
  scope: Expression<SqlBool>[];
}

/**
 * The walk's index and scope: the drives' items when a drive or owner is named; folders only,
 * sorted by name, walk the folders' name index (migration 0930), where every entry matches
 * (0720's name index meets its first folder after ~9 % of all items); else 0720's index of the sort.
 */
function walkSource(
  dialect: 'sqlite' | 'postgres',
  sort: ItemSort,
  query: ItemListQuery,
  drives: Array<{ integration_id: string; id: string }> | undefined,
): WalkSource {
  const scope: Expression<SqlBool>[] = [sql<SqlBool>`w.deleted_at is null`];
  if (drives !== undefined) {
    scope.push(
      sql<SqlBool>`(${sql.join(
        drives.map((d) => sql`(w.integration_id = ${d.integration_id} and w.drive_id = ${d.id})`),
        sql` or `,
      )})`,
    );
    return { from: sql`drive_items w`, scope };
  }
  if (query.folder === true && sort.name === 'name') {
    const d = dialectOf(dialect);
    // Written as the partial index's condition is: SQLite matches the term, not its meaning.
    scope.push(sql<SqlBool>`w.is_folder = ${sql.raw(d.booleanLiteral(true))}`);
    return { from: sql.raw(`drive_items w${d.indexedBy('drive_items_api_folder_name')}`), scope };
  }
  return { from: sql`drive_items w`, scope };
}

/** A full page from limit + 1 rows in sort order (fewer: the last page). */
async function page(
  db: Kysely<Database>,
  sort: ItemSort,
  rows: ItemWindowRow[],
  limit: number,
): Promise<{ items: ItemRow[]; nextCursor: string | null }> {
  if (rows.length <= limit) return { items: await toItemRows(db, rows), nextCursor: null };
  const kept = rows.slice(0, limit);
  return { items: await toItemRows(db, kept), nextCursor: encodeCursor(sort.keyOf(kept[limit - 1])) };
}

/**
 * One window of the walk: the key of the window-th live row after the cursor (read from the
 * index alone; null when the index ends first), then the filtered rows up to it in index order.
 */
async function readWindow(
  db: Kysely<Database>,
  sort: ItemSort,
  query: ItemListQuery,
  source: WalkSource,
  window: number,
): Promise<{ rows: ItemWindowRow[]; end: unknown[] | null }> {
  const keys = sort.inner;
  // The walk's own conditions: the rows of its index, past the cursor.
  const scope = [...source.scope];
  if (query.cursor) scope.push(afterCursor(keys, query.cursor));
  const keyColumns = sql.join(keys.map((k, i) => sql`${k.expr} as ${sql.ref(`k${i}`)}`));
  const { rows: ends } = await sql<Record<string, unknown>>`select ${keyColumns} from ${source.from}
    where ${sql.join(scope, sql` and `)} order by ${order(keys)} limit 1 offset ${window - 1}`.execute(db);
  const end = ends[0] ? keys.map((_, i) => ends[0][`k${i}`]) : null;
  const conditions = [...scope, ...(end ? [upTo(keys, end)] : []), ...itemPredicates(query)];
  const { rows } = await sql<ItemWindowRow>`select ${WINDOW_COLUMNS}, ${sort.key} as dw_k from ${source.from}
    where ${sql.join(conditions, sql` and `)} order by ${order(keys)} limit ${query.limit}`.execute(db);
  return { rows, end };
}

/** Rows at or before `values` in key order: k1 <= v1 and ((k1 < v1) or … or (all equal)). */
function upTo(keys: SortKey[], values: unknown[]): Expression<SqlBool> {
  const before = (k: SortKey, v: unknown) =>
    k.dir === 'asc' ? sql<SqlBool>`${k.expr} < ${v}` : sql<SqlBool>`${k.expr} > ${v}`;
  const ors = keys.map((key, i) => {
    const eqs = keys.slice(0, i).map((k, j) => sql<SqlBool>`${k.expr} = ${values[j]}`);
    return sql<SqlBool>`(${sql.join([...eqs, before(key, values[i])], sql` and `)})`;
  });
  const all = sql<SqlBool>`(${sql.join(
    keys.map((k, i) => sql<SqlBool>`${k.expr} = ${values[i]}`),
    sql` and `,
  )})`;
  const first = keys[0];
  const bound =
    first.dir === 'asc'
      ? sql<SqlBool>`${first.expr} <= ${values[0]}`
      : sql<SqlBool>`${first.expr} >= ${values[0]}`;
  return sql<SqlBool>`(${bound} and (${sql.join([...ors, all], sql` or `)}))`;
}

/** The drives a driveId or owner filter names; undefined: every drive. */
async function driveScope(
  db: Kysely<Database>,
  query: ItemListQuery,
): Promise<Array<{ integration_id: string; id: string }> | undefined> {
  let drives: Array<{ integration_id: string; id: string }> | undefined;
  if (query.owner) drives = await drivesOfOwner(db, query.owner, query.integrationId);
  if (query.driveId) {
    const wanted = query.driveId;
    if (drives) drives = drives.filter((d) => d.id === wanted);
    else if (query.integrationId) drives = [{ integration_id: query.integrationId, id: wanted }];
    else
      drives = await db
        .selectFrom('drives')
        .select(['integration_id', 'id'])
        .where('id', '=', wanted)
        .execute();
  }
  return drives;
}
