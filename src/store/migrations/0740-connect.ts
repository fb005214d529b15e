import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0740 — Connect with Microsoft and the activity and integrations views of the REST API:
 * connect_states (the `state` of an admin-consent round trip, kept only as its SHA-256, with the
 * admin who started it and an expiry; deleted when used), indexes for the activity events list
 * filtered by actor, operation or client IP across integrations and ordered by time, and a
 * partial index that keeps the live item count per integration index-only. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const ts = isPostgres(db) ? 'timestamptz' : 'text';
  await exec(
    db,
    `create table connect_states (
      state_hash text primary key,
      user_id text not null references app_users (id) on delete cascade,
      redirect_uri text not null,
      created_at ${ts} not null,
      expires_at ${ts} not null
    )`,
  );
  await exec(db, 'create index connect_states_expires on connect_states (expires_at)');
  await exec(db, 'create index audit_events_by_time on audit_events (time, integration_id, id)');
  await exec(db, 'create index audit_events_by_actor on audit_events (actor_upn, time)');
  await exec(db, 'create index audit_events_by_operation on audit_events (operation, time)');
  await exec(db, 'create index audit_events_by_ip on audit_events (client_ip, time)');
  await exec(db, 'create index drive_items_live on drive_items (integration_id) where deleted_at is null');
}

export async function down(db: AnyDb): Promise<void> {
  for (const index of [
    'drive_items_live',
    'audit_events_by_ip',
    'audit_events_by_operation',
    'audit_events_by_actor',
    'audit_events_by_time',
  ])
    await exec(db, `drop index if exists ${index}`);
  await exec(db, 'drop table if exists connect_states');
}
