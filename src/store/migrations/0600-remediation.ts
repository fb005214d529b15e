import { type AnyDb, exec, isPostgres } from './sql-v1.ts';

/**
 * 0600 — the remediation audit trail (src/remediate/). One row per change drivewarden asked
 * Graph to make (a permission removed, tenant settings patched): who, when, what, the state
 * before and after, Graph's request id and the result. Rows are written when the call has
 * been answered and never updated. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  const serial = pg ? 'bigserial primary key' : 'integer primary key autoincrement';
  const json = pg ? 'jsonb' : 'text';
  const ts = pg ? 'timestamptz' : 'text';
  await exec(
    db,
    `create table remediation_actions (
      id ${serial},
      integration_id text not null,
      plan_id text not null,
      action text not null check (action in ('remove_permission', 'update_tenant_settings')),
      origin text not null,
      drive_id text,
      item_id text,
      permission_id text,
      item_path text,
      reason text not null,
      before ${json},
      after ${json},
      actor text not null,
      requested_at ${ts} not null,
      finished_at ${ts} not null,
      result text not null check (result in ('done', 'already_gone', 'skipped', 'failed')),
      http_status integer,
      request_id text,
      error text
    )`,
  );
  await exec(db, 'create index remediation_actions_recent on remediation_actions (integration_id, id)');
  await exec(
    db,
    'create index remediation_actions_permission on remediation_actions (integration_id, permission_id)',
  );
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('remediation_actions').ifExists().execute();
}
