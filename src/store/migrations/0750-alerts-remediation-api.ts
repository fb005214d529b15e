import { type AnyDb, exec } from './sql-v1.ts';

/**
 * 0750 — indexes for the REST API's alerts and remediation lists (keyset pages newest first):
 * the delivery log filtered by channel, policy or status, and the remediation trail by plan.
 * Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
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
}
