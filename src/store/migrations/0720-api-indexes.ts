import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0720 — indexes the REST API's inventory lists walk (src/server/api/routes/inventory/). A
 * list page is "the next rows after the cursor in sort order", so each sort of live items
 * gets an index in exactly that order, ending with the primary key. Sort keys must never be
 * null (keyset comparisons skip nulls), so nullable columns are indexed as the coalesce
 * expression the API sorts by; the API's expressions must stay identical to these (a test
 * reads SQLite's plan). The exposure index covers the overview's counts and bytes without
 * reading the table. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  const epoch = pg ? 'to_timestamp(0)' : "'1970-01-01T00:00:00.000Z'";
  const live = 'where deleted_at is null';
  await exec(
    db,
    `create index drive_items_api_name on drive_items (coalesce(name, ''), integration_id, drive_id, id) ${live}`,
  );
  await exec(
    db,
    `create index drive_items_api_size on drive_items (coalesce(size, -1), integration_id, drive_id, id) ${live}`,
  );
  await exec(
    db,
    `create index drive_items_api_modified on drive_items (coalesce(modified_at, ${epoch}), integration_id, drive_id, id) ${live}`,
  );
  await exec(
    db,
    `create index drive_items_api_path on drive_items (integration_id, drive_id, coalesce(path, ''), id) ${live}`,
  );
  await exec(
    db,
    `create index drive_items_api_exposure on drive_items (integration_id, exposure, is_folder, size) ${live}`,
  );
  await exec(
    db,
    `create index permissions_api_first_seen on permissions (first_seen, integration_id, drive_id, item_id, id) ${live}`,
  );
}

export async function down(db: AnyDb): Promise<void> {
  for (const name of ['name', 'size', 'modified', 'path', 'exposure'])
    await exec(db, `drop index if exists drive_items_api_${name}`);
  await exec(db, 'drop index if exists permissions_api_first_seen');
}
