import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0750 — the REST API's alerts and remediation: the dry runs' plans (applied by id, exactly as
 * listed), and indexes for keyset pages newest first: the delivery log filtered by channel,
 * policy or status, the remediation trail by plan. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  await exec(
    db,
    `create table remediation_plans (
      id text primary key,
      integration_id text not null,
      kind text not null check (kind in ('removal', 'settings')),
      plan ${pg ? 'jsonb' : 'text'} not null,
      created_at ${pg ? 'timestamptz' : 'text'} not null,
      created_by text not null
    )`,
  );
  await exec(db, 'create index alert_outbox_channel_id on alert_outbox (channel_id, id)');
  await exec(db, 'create index alert_outbox_policy_id on alert_outbox (policy_id, id)');
  await exec(db, 'create index alert_outbox_status_id on alert_outbox (status, id)');
  await exec(db, 'create index remediation_actions_plan on remediation_actions (plan_id, id)');
}

export async function down(db: AnyDb): Promise<void> {
  for (const index of [
    'alert_outbox_channel_id',
    'alert_outbox_policy_id',
    'alert_outbox_status_id',
    'remediation_actions_plan',
  ])
    await exec(db, `drop index ${index}`);
  await exec(db, 'drop table remediation_plans');
}
