import { type Expression, type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import type { Database } from '../../../../store/schema.ts';
import { ApiError } from '../../errors.ts';
import { afterCursor, encodeCursor, type SortKey } from '../../pagination.ts';
import { drivesOfOwner, type ItemListQuery, itemPredicates } from './item-filters.ts';
import { type ItemRow, type ItemWindowRow, toItemRows } from './item-rows.ts';

/**
 * `GET /inventory/items` on millions of rows. A page walks the index of its sort
 * (migration 0720) from the cursor and examines at most SCAN_WINDOW live items; the filters
 * run on those rows only. So every page costs at most one window, whatever the filters: a
 * filter that matches rarely gives a short page (fewer than `limit` items) whose nextCursor
 * continues after the last row examined. Clients follow nextCursor until it is null; a short
 * or empty page with a nextCursor is not the end. No total is counted.
 * A drive or owner filter narrows the window to the drives' items (the drive-clustered
 * indexes), so a drive's listing is never short.
 */
export const SCAN_WINDOW = 20_000;

export type ItemSortName = 'name' | 'path' | 'size' | 'modified';

/** The sort key expression over drive_items `i`: exactly the expressions migration 0720 indexes. */
function sortExpression(name: ItemSortName, dialect: 'sqlite' | 'postgres'): RawBuilder<unknown> {
  switch (name) {
    case 'name':
      return sql`coalesce(i.name, '')`;
    case 'path':
      return sql`coalesce(i.path, '')`;
    case 'size':
      return sql`coalesce(i.size, -1)`;
    case 'modified':
      return dialect === 'postgres'
        ? sql`coalesce(i.modified_at, to_timestamp(0))`
        : sql`coalesce(i.modified_at, '1970-01-01T00:00:00.000Z')`;
  }
}

interface ItemSort {
  /** The sort field's expression over `i`, selected as the window column dw_k. */
  key: RawBuilder<unknown>;
  /** Key expressions over `i` (inner, index order) … */
  inner: SortKey[];
  /** … and the same keys as columns of the window `w`. */
  outer: SortKey[];
  /** The window row's key values, in key order (the cursor). */
  keyOf(row: ItemWindowRow): unknown[];
}

export function itemSort(requested: string | undefined, dialect: 'sqlite' | 'postgres'): ItemSort {
  const raw = requested ?? 'name';
  const desc = raw.startsWith('-');
  const name = (desc ? raw.slice(1) : raw) as ItemSortName;
  if (!['name', 'path', 'size', 'modified'].includes(name))
    throw new ApiError(400, 'invalid_request', `sort: "${raw}" is not one of name, path, size, modified`);
  const dir = desc ? 'desc' : 'asc';
  const k = sortExpression(name, dialect);
  // path sorts within a drive (paths are per drive): the index is (integration, drive, path, id).
  const names =
    name === 'path'
      ? ['integration_id', 'drive_id', 'dw_k', 'id']
      : ['dw_k', 'integration_id', 'drive_id', 'id'];
  const innerExpr = (n: string): Expression<unknown> => (n === 'dw_k' ? k : sql.ref(`i.${n}`));
  return {
    key: k,
    inner: names.map((n) => ({ expr: innerExpr(n), dir })),
    outer: names.map((n) => ({ expr: sql.ref(`w.${n}`), dir })),
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
    .map((c) => `i.${c}`)
    .join(', '),
);

export async function listItems(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  query: ItemListQuery,
  window = SCAN_WINDOW,
): Promise<{ items: ItemRow[]; nextCursor: string | null }> {
  const sort = itemSort(query.sort, dialect);
  // The window's own conditions: live rows, past the cursor, in the drives asked for.
  const scope: Expression<SqlBool>[] = [sql<SqlBool>`i.deleted_at is null`];
  if (query.cursor) scope.push(afterCursor(sort.inner, query.cursor));
  const drives = await driveScope(db, query);
  if (drives !== undefined) {
    if (drives.length === 0) return { items: [], nextCursor: null };
    scope.push(
      sql<SqlBool>`(${sql.join(
        drives.map((d) => sql`(i.integration_id = ${d.integration_id} and i.drive_id = ${d.id})`),
        sql` or `,
      )})`,
    );
  }
  const where = sql.join(scope, sql` and `);
  const inner = sql`select ${WINDOW_COLUMNS}, ${sort.key} as dw_k from drive_items i
    where ${where} order by ${order(sort.inner)} limit ${window}`;
  const predicates = itemPredicates(query);
  const filter = predicates.length ? sql`where ${sql.join(predicates, sql` and `)}` : sql``;
  const { rows } = await sql<ItemWindowRow>`select w.* from (${inner}) w ${filter}
    order by ${order(sort.outer)} limit ${query.limit + 1}`.execute(db);
  let nextCursor: string | null = null;
  if (rows.length > query.limit) {
    rows.length = query.limit;
    nextCursor = encodeCursor(sort.keyOf(rows[rows.length - 1]));
  } else {
    // A short page: did the window end the data, or only this page's budget?
    const { rows: last } = await sql<ItemWindowRow>`select ${WINDOW_COLUMNS}, ${sort.key} as dw_k
      from drive_items i where ${where} order by ${order(sort.inner)} limit 1 offset ${window - 1}`.execute(
      db,
    );
    if (last[0]) nextCursor = encodeCursor(sort.keyOf(last[0]));
  }
  return { items: await toItemRows(db, rows), nextCursor };
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
