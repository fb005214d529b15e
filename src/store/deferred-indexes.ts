import { sql } from 'kysely';
import type { Store } from './store.ts';

/**
 * The REST API's sort-order indexes of drive_items (migration 0720: name, size, modified) are
 * keyed by a value, not by drive, so each item of a page lands on its own leaf of each: in a
 * full sync they were 62 % of the bytes written (docs/performance.md, "what each drive_items
 * index costs"), a whole 16 KiB page per item per index. An empty SQLite store's first
 * collection therefore writes its items without them and builds them once at its end, a sort
 * of every row instead of a random insert per row.
 *
 * No marker is kept: an index missing is the marker. `deferItemIndexes` drops them only while
 * drive_items holds no row at all (a store's first collection; a second integration's first
 * collection keeps them, the first one's lists use them); `ensureItemIndexes` creates whichever
 * is missing, and is called where a collection round ends (sync.ts; the service once an
 * integration's start-up drives are collected), so a collection killed before its end has
 * them built by the next. Until then the API's lists sorted by these keys sort in full (slower,
 * the same rows). PostgreSQL keeps them: its builds block writers of the whole table, which a
 * shared store's other workers would wait on.
 */

/** Exactly 0720's definitions (a test compares them with a migrated store's). */
export const DEFERRED_ITEM_INDEXES: ReadonlyArray<{ name: string; columns: string }> = [
  { name: 'drive_items_api_name', columns: "coalesce(name, ''), integration_id, drive_id, id" },
  { name: 'drive_items_api_size', columns: 'coalesce(size, -1), integration_id, drive_id, id' },
  {
    name: 'drive_items_api_modified',
    columns: "coalesce(modified_at, '1970-01-01T00:00:00.000Z'), integration_id, drive_id, id",
  },
];

/** Drops the deferred indexes when the store (SQLite) holds no drive item yet; true when they are deferred. */
export async function deferItemIndexes(store: Pick<Store, 'db' | 'dialect'>): Promise<boolean> {
  if (store.dialect !== 'sqlite') return false;
  return store.db.transaction().execute(async (trx) => {
    const { rows } = await sql`select 1 as x from drive_items limit 1`.execute(trx);
    if (rows.length > 0) return false;
    for (const ix of DEFERRED_ITEM_INDEXES) await sql.raw(`drop index if exists ${ix.name}`).execute(trx);
    return true;
  });
}

/** Creates the deferred indexes that are missing (SQLite); returns the names it built. */
export async function ensureItemIndexes(store: Pick<Store, 'db' | 'dialect'>): Promise<string[]> {
  if (store.dialect !== 'sqlite') return [];
  const { rows } = await sql<{
    name: string;
  }>`select name from sqlite_master where type = 'index' and tbl_name = 'drive_items'`.execute(store.db);
  const present = new Set(rows.map((r) => r.name));
  const built: string[] = [];
  for (const ix of DEFERRED_ITEM_INDEXES) {
    if (present.has(ix.name)) continue;
    await sql
      .raw(`create index if not exists ${ix.name} on drive_items (${ix.columns}) where deleted_at is null`)
      .execute(store.db);
    built.push(ix.name);
  }
  return built;
}
