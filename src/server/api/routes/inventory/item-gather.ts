import { type Expression, type Kysely, type RawBuilder, type SqlBool, sql } from 'kysely';
import { dialectOf } from '../../../../store/dialect.ts';
import type { Database } from '../../../../store/schema.ts';
import { afterCursor, type SortKey } from '../../pagination.ts';
import { type ItemListQuery, itemPredicates } from './item-filters.ts';
import type { ItemWindowRow } from './item-rows.ts';

/**
 * The other plan of an item list, for filters that match few items: when the filter names
 * exposures, folders or files, or a size range, the items those can match are counted in
 * drive_items_api_exposure (integration_id, exposure, is_folder, size; migration 0720) from the
 * index alone, and when there are at most GATHER_MAX of them they are read through it, filtered
 * and sorted (a sort of at most GATHER_MAX rows). The sort-order walk (item-list.ts) would
 * examine every item between two matches instead: "public folders" sorted by name walked the
 * whole store for a page of a few rows. Items whose exposure is not derived yet (null, during a
 * first collection) are counted and read through drive_items_access_pending.
 */
// A gathered page reads at most as many rows as one window of the walk (SCAN_WINDOW).
export const GATHER_MAX = 5_000;

const EXPOSURES = ['public', 'external', 'internal', 'private'] as const;

export interface GatherSort {
  key: RawBuilder<unknown>;
  inner: SortKey[];
}

/** Whether the filter has a term drive_items_api_exposure can seek on. */
export function gatherable(query: ItemListQuery): boolean {
  return (
    Boolean(query.exposure?.length) ||
    query.folder !== undefined ||
    query.minSize !== undefined ||
    query.maxSize !== undefined
  );
}

/**
 * The page (limit rows after the cursor, in sort order) when at most GATHER_MAX items can match
 * the indexed terms; null when more can (the caller walks the sort order instead).
 */
export async function gatherPage(
  db: Kysely<Database>,
  dialect: 'sqlite' | 'postgres',
  sort: GatherSort,
  query: ItemListQuery,
  columns: RawBuilder<unknown>,
  max = GATHER_MAX,
): Promise<ItemWindowRow[] | null> {
  const integrations = await integrationIds(db, query);
  if (integrations.length === 0) return [];
  const branches = seekBranches(dialect, query, integrations);
  let candidates = 0;
  for (const b of branches) {
    const { rows } = await sql<{ n: number | string }>`select count(*) as n from (select 1 as one
      from drive_items w${sql.raw(b.indexedBy)} where ${sql.join(b.terms, sql` and `)}
      limit ${max + 1}) c`.execute(db);
    candidates += Number(rows[0].n);
    if (candidates > max) return null;
  }
  const filters: Expression<SqlBool>[] = [...itemPredicates(query)];
  if (query.cursor) filters.push(afterCursor(sort.inner, query.cursor));
  const union = sql.join(
    branches.map(
      (b) => sql`select ${columns} from drive_items w${sql.raw(b.indexedBy)}
        where ${sql.join([...b.terms, ...b.filters, ...filters], sql` and `)}`,
    ),
    sql` union all `,
  );
  const order = sql.join(sort.inner.map((k) => (k.dir === 'asc' ? sql`${k.expr} asc` : sql`${k.expr} desc`)));
  const { rows } = await sql<ItemWindowRow>`select w.*, ${sort.key} as dw_k from (${union}) w
    order by ${order} limit ${query.limit}`.execute(db);
  return rows;
}

/** The integrations whose items a list covers (items of a removed integration keep their drives). */
async function integrationIds(db: Kysely<Database>, query: ItemListQuery): Promise<string[]> {
  if (query.integrationId) return [query.integrationId];
  const { rows } = await sql<{ id: string }>`select id from integrations
    union select integration_id as id from drives`.execute(db);
  return rows.map((r) => r.id);
}

interface SeekBranch {
  indexedBy: string;
  /** The candidates: conditions the index answers (live rows of these integrations, exposures, kinds, sizes). */
  terms: RawBuilder<SqlBool>[];
  /** Conditions on the candidates' rows (kind and size of the items not derived yet). */
  filters: RawBuilder<SqlBool>[];
}

/** One branch through drive_items_api_exposure, and one for items not derived yet unless exposures are named. */
function seekBranches(
  dialect: 'sqlite' | 'postgres',
  query: ItemListQuery,
  integrations: string[],
): SeekBranch[] {
  const list = (values: readonly unknown[]) => sql.join(values.map((v) => sql`${v}`));
  const shared: RawBuilder<SqlBool>[] = [
    sql<SqlBool>`w.deleted_at is null`,
    sql<SqlBool>`w.integration_id in (${list(integrations)})`,
  ];
  const kinds = query.folder === undefined ? [true, false] : [query.folder];
  const kind = sql<SqlBool>`w.is_folder in (${sql.join(kinds.map((k) => sql.lit(k)))})`;
  const sizes: RawBuilder<SqlBool>[] = [];
  if (query.minSize !== undefined) sizes.push(sql<SqlBool>`w.size >= ${query.minSize}`);
  if (query.maxSize !== undefined) sizes.push(sql<SqlBool>`w.size <= ${query.maxSize}`);
  const d = dialectOf(dialect);
  const derived: SeekBranch = {
    indexedBy: d.indexedBy('drive_items_api_exposure'),
    terms: [
      ...shared,
      sql<SqlBool>`w.exposure in (${list(query.exposure?.length ? query.exposure : EXPOSURES)})`,
      kind,
      ...sizes,
    ],
    filters: [],
  };
  if (query.exposure?.length) return [derived];
  // Every item not derived yet is a candidate (a first collection has many: then the walk).
  return [
    derived,
    {
      indexedBy: d.indexedBy('drive_items_access_pending'),
      terms: [...shared, sql<SqlBool>`w.exposure is null`],
      filters: [kind, ...sizes],
    },
  ];
}
