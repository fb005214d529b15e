import { type AnyDb, exec } from './sql-v1.ts';

/**
 * 0940 — drive items by id alone: `GET /inventory/items/:integrationId/:id`, the activity
 * feed's `GET /activity/items/:integrationId/:id` and the audit feed's resolution of an event's
 * ListItemUniqueId to its item (collect/activity/resolve.ts, 400 ids a statement) know an
 * item's integration and id, not its drive; the primary key (integration_id, drive_id, id) only
 * narrows them to the integration, so each read every item of it (200,065 items: ~120 CPU ms a
 * lookup, 146 for a chunk of 400 ids; with it 0.02 and 1.0). The id first: a statement naming
 * only the integration cannot use it, so those keep their plans (with integration_id first
 * SQLite took it for the live item count instead of drive_items_api_exposure). Not partial: the
 * item page shows a removed item too. Not deferred during a store's first collection
 * (store/deferred-indexes.ts), like drive_items_web_url: the audit feed, which may run meanwhile,
 * resolves events through it. Its cost, replaying 30,000 items with every index: +1.5 % bytes
 * written with the simulator's ids (a per-drive prefix, so a page of one drive dirties few
 * leaves), +10.3 % with ids in no drive order, CPU within the noise (docs/performance.md).
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  await exec(db, 'create index drive_items_by_id on drive_items (id, integration_id)');
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop index if exists drive_items_by_id');
}
