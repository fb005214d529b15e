import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0930 — the live folders in name order, for `GET /inventory/items?folder=true` sorted by name
 * (src/server/api/routes/inventory/item-list.ts). Folder names come from a few words (Archive,
 * Documents, Project …) that sort after long runs of file names, so the walk of 0720's name
 * index met its first folder after 17,967 of 200,065 items (~9 %; ~90,000 at 1,000,000): an
 * empty first page. Partial: only folders (~11 % of items) pay for it; inserting 200,065 items
 * with every index measured the same CPU with and without it (noise ±1 s of 25). The boolean
 * literal is each dialect's, as the API's walk writes it (SQLite matches the term as written).
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const folder = isPostgres(db) ? 'true' : '1';
  await exec(
    db,
    `create index drive_items_api_folder_name on drive_items (coalesce(name, ''), integration_id, drive_id, id) where deleted_at is null and is_folder = ${folder}`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop index if exists drive_items_api_folder_name');
}
