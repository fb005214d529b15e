import { type AnyDb, colV1 as col, exec, isPostgres } from './sql-v1.ts';

/**
 * 0760 — incremental anomaly detection: anomaly_cursors (per integration: how far the
 * baselines were built and how far detection ran, as keysets over audit_events (observed_at,
 * id) and changes.id), anomaly_actor_ips (per actor and client address: its network prefix and
 * first and last use, the unusual_ip baseline) and the index the cursors read new events by.
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  await exec(
    db,
    `create table anomaly_cursors (
      ${col('integration_id', 'text', pg, true)},
      ${col('baseline_observed_at', 'timestamp', pg)},
      ${col('baseline_event_id', 'text', pg)},
      ${col('prefix_bits', 'integer', pg)},
      ${col('detected_observed_at', 'timestamp', pg)},
      ${col('detected_event_id', 'text', pg)},
      ${col('detected_change_id', 'bigint', pg)},
      ${col('updated_at', 'timestamp', pg, true)},
      primary key (integration_id)
    )`,
  );
  await exec(
    db,
    `create table anomaly_actor_ips (
      ${col('integration_id', 'text', pg, true)},
      ${col('actor', 'text', pg, true)},
      ${col('ip', 'text', pg, true)},
      ${col('prefix', 'text', pg, true)},
      ${col('first_seen', 'timestamp', pg, true)},
      ${col('last_seen', 'timestamp', pg, true)},
      ${col('events', 'integer', pg, true)},
      primary key (integration_id, actor, ip)
    )`,
  );
  await exec(
    db,
    'create index anomaly_actor_ips_prefix on anomaly_actor_ips (integration_id, prefix, first_seen)',
  );
  await exec(db, 'create index anomaly_actor_ips_first on anomaly_actor_ips (integration_id, first_seen)');
  await exec(db, 'create index anomaly_actor_ips_last on anomaly_actor_ips (integration_id, last_seen)');
  await exec(db, 'create index audit_events_observed on audit_events (integration_id, observed_at, id)');
}

export async function down(db: AnyDb): Promise<void> {
  await exec(db, 'drop index if exists audit_events_observed');
  for (const table of ['anomaly_actor_ips', 'anomaly_cursors'])
    await db.schema.dropTable(table).ifExists().execute();
}
