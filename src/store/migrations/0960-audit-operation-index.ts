import { type AnyDb, exec } from './sql-v1.ts';

/**
 * 0960 — audit_events_operation (integration_id, operation, time, actor_upn): the activity
 * detectors' counts per actor and window (src/anomalies/span.ts actorBucketCounts: downloads,
 * deletes, external shares, file accesses) read one range per operation from the index alone.
 * Before it SQLite searched audit_events_time (integration_id, time) and looked up every event
 * of the judged range and its 24 h margins, whatever its operation, for its operation and actor.
 * A/B on a 216,642-event store (docs/performance.md, "activity: the detectors' counts"): the
 * week of a first round 1.56 -> 0.55 CPU s on SQLite, 0.40 -> 0.26 on PostgreSQL (vacuumed, so
 * index-only); each hour a later round judges 0.24 -> 0.05 and 0.09 -> 0.04 CPU s; detections
 * identical. Its cost where the feed writes: events inserted in arrival (time) order, SQLite
 * +1 % bytes written and CPU within the noise; in the bench's order (a user's week per batch,
 * the worst case) +11 % insert CPU and +20 % bytes; PostgreSQL backend CPU +2 %. 20 MB
 * (SQLite) / 24 MB (PostgreSQL) per 216,642 events. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  await exec(
    db,
    'create index audit_events_operation on audit_events (integration_id, operation, time, actor_upn)',
  );
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop index if exists audit_events_operation');
}
