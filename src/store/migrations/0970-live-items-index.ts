import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0970 — drive_items_live (integration_id) where deleted_at is null, again on SQLite (0920
 * dropped it as a duplicate of drive_items_api_exposure for the live item count). Statements
 * that read every live item of an integration — most built-in rules, custom rules and the
 * console — then took drive_items_api_exposure for `integration_id = ? and deleted_at is
 * null`: its entries run in exposure, folder and size order, so each of 1,000,343 items was
 * fetched from the table at a random place. drive_items_live's entries are in rowid order,
 * which is the order the collector wrote the items in: the table is read front to back.
 * Measured on a 1,000,343-item store (quiet machine): permission_anonymous_link_absent
 * 5.8 → 1.1 s; the rules bench's full evaluation 14.1 → 8.2 s, incremental 0.43 → 0.15 s.
 * Its key only grows at the end (integration, rowid), so an insert touches the last leaf.
 * SQLite only: PostgreSQL chooses by its statistics (a sequential or bitmap heap scan, in
 * table order) and 0920's figures stand there.
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  if (isPostgres(db)) return;
  await exec(
    db,
    'create index if not exists drive_items_live on drive_items (integration_id) where deleted_at is null',
  );
}

export async function down(db: AnyDb): Promise<void> {
  if (isPostgres(db)) return;
  await exec(db, 'drop index if exists drive_items_live');
}
