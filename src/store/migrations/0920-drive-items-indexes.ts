import { type AnyDb, exec } from './sql-v1.ts';

/**
 * 0920 — two drive_items indexes fewer, each a duplicate of another's use (every upsert row of
 * a full sync wrote every one of them):
 *  - drive_items_path (integration_id, drive_id, path): the path ranges of subtree rewrites,
 *    the pending-path probe and the rules' subtree scope read live items only, and
 *    drive_items_api_path (integration_id, drive_id, coalesce(path, ''), id) where deleted_at
 *    is null orders them the same way (no path is '': a null path is the only '' key). Those
 *    statements name coalesce(path, '') and deleted_at is null so that this index serves them.
 *  - drive_items_live (integration_id) where deleted_at is null: the live item count per
 *    integration is index-only on drive_items_api_exposure (integration_id, exposure,
 *    is_folder, size), which has the same condition and integration_id first.
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  await exec(db, 'drop index if exists drive_items_path');
  await exec(db, 'drop index if exists drive_items_live');
}

export async function down(db: AnyDb): Promise<void> {
  await exec(
    db,
    'create index if not exists drive_items_live on drive_items (integration_id) where deleted_at is null',
  );
  await exec(
    db,
    'create index if not exists drive_items_path on drive_items (integration_id, drive_id, path)',
  );
}
