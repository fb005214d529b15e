import {
  type AnyDb,
  colV1 as col,
  createResourceTableV1,
  exec,
  isPostgres,
  type ResourceTableV1,
} from './sql-v1.ts';

/**
 * 0001 — the inventory: integrations, one table per resource type (standard columns +
 * typed columns + raw JSON), the change history, sync state and sync errors.
 *
 * Frozen once shipped: it keeps its own copy of the columns and creates its tables through
 * the frozen helpers of ./sql-v1.ts (frozen-schema.test.ts holds it to its shipped schema).
 */

const RESOURCE_TABLES: Record<string, ResourceTableV1> = {
  users: {
    key: ['id'],
    columns: [
      ['user_principal_name', 'text'],
      ['display_name', 'text'],
      ['mail', 'text'],
      ['domain', 'text'],
      ['other_mails', 'json'],
      ['account_enabled', 'boolean'],
      ['user_type', 'text'],
      ['is_guest', 'boolean'],
      ['created_at', 'timestamp'],
      ['creation_type', 'text'],
      ['external_user_state', 'text'],
      ['external_user_state_changed_at', 'timestamp'],
      ['last_password_change_at', 'timestamp'],
      ['job_title', 'text'],
      ['department', 'text'],
      ['company_name', 'text'],
      ['office_location', 'text'],
      ['employee_id', 'text'],
      ['usage_location', 'text'],
      ['city', 'text'],
      ['country', 'text'],
      ['mobile_phone', 'text'],
      ['business_phones', 'json'],
      ['assigned_licenses', 'json'],
      ['license_count', 'integer'],
      ['manager_id', 'text'],
      ['sign_in_last', 'timestamp'],
      ['sign_in_last_non_interactive', 'timestamp'],
      ['sign_in_last_successful', 'timestamp'],
    ],
  },
  user_mfa: {
    key: ['id'],
    columns: [
      ['user_principal_name', 'text'],
      ['display_name', 'text'],
      ['is_admin', 'boolean'],
      ['is_mfa_registered', 'boolean'],
      ['is_mfa_capable', 'boolean'],
      ['is_sspr_registered', 'boolean'],
      ['is_passwordless_capable', 'boolean'],
      ['methods_registered', 'json'],
      ['user_type', 'text'],
      ['last_updated_at', 'timestamp'],
    ],
  },
  groups: {
    key: ['id'],
    columns: [
      ['display_name', 'text'],
      ['description', 'text'],
      ['mail', 'text'],
      ['mail_enabled', 'boolean'],
      ['security_enabled', 'boolean'],
      ['group_types', 'json'],
      ['is_unified', 'boolean'],
      ['visibility', 'text'],
      ['created_at', 'timestamp'],
      ['on_premises_sync_enabled', 'boolean'],
    ],
  },
  group_members: {
    key: ['group_id', 'id'],
    columns: [
      ['group_id', 'text'],
      ['member_type', 'text'],
      ['display_name', 'text'],
      ['user_principal_name', 'text'],
      ['mail', 'text'],
    ],
  },
  drives: {
    key: ['id'],
    columns: [
      ['owner_id', 'text'],
      ['owner_kind', 'text'],
      ['owner_email', 'text'],
      ['owner_name', 'text'],
      ['name', 'text'],
      ['drive_type', 'text'],
      ['web_url', 'text'],
      ['created_at', 'timestamp'],
      ['modified_at', 'timestamp'],
      ['quota_total', 'bigint'],
      ['quota_used', 'bigint'],
      ['quota_remaining', 'bigint'],
      ['quota_deleted', 'bigint'],
      ['quota_state', 'text'],
      ['site_id', 'text'],
      ['site_url', 'text'],
    ],
  },
  user_drives: {
    key: ['id'],
    columns: [
      ['drive_id', 'text'],
      ['provisioned', 'boolean'],
      ['status_code', 'text'],
    ],
  },
  drive_items: {
    key: ['drive_id', 'id'],
    columns: [
      ['drive_id', 'text'],
      ['parent_id', 'text'],
      ['name', 'text'],
      ['path', 'text'],
      ['extension', 'text'],
      ['size', 'bigint'],
      ['mime_type', 'text'],
      ['is_folder', 'boolean'],
      ['is_root', 'boolean'],
      ['child_count', 'integer'],
      ['package_type', 'text'],
      ['created_at', 'timestamp'],
      ['created_by_id', 'text'],
      ['created_by_email', 'text'],
      ['created_by_name', 'text'],
      ['modified_at', 'timestamp'],
      ['modified_by_id', 'text'],
      ['modified_by_email', 'text'],
      ['modified_by_name', 'text'],
      ['web_url', 'text'],
      ['shared_scope', 'text'],
      ['shared_at', 'timestamp'],
      ['c_tag', 'text'],
      ['e_tag', 'text'],
      ['deleted_state', 'text'],
    ],
  },
  permissions: {
    key: ['drive_id', 'item_id', 'id'],
    columns: [
      ['drive_id', 'text'],
      ['item_id', 'text'],
      ['roles', 'json'],
      ['link_type', 'text'],
      ['link_scope', 'text'],
      ['link_web_url', 'text'],
      ['expiration', 'timestamp'],
      ['prevents_download', 'boolean'],
      ['has_password', 'boolean'],
      ['recipient_kind', 'text'],
      ['recipient_id', 'text'],
      ['recipient_email', 'text'],
      ['recipient_domain', 'text'],
      ['recipient_name', 'text'],
      ['recipients', 'json'],
      ['recipient_count', 'integer'],
      ['is_external', 'boolean'],
      ['is_guest', 'boolean'],
      ['inherited', 'boolean'],
      ['invitation_email', 'text'],
      ['share_id', 'text'],
    ],
  },
};

export async function up(db: AnyDb): Promise<void> {
  const pg = isPostgres(db);
  const serial = pg ? 'bigserial primary key' : 'integer primary key autoincrement';

  await exec(
    db,
    `create table integrations (
      ${col('id', 'text', pg, true)} primary key,
      ${col('name', 'text', pg, true)} unique,
      ${col('tenant_id', 'text', pg, true)},
      ${col('client_id', 'text', pg, true)},
      ${col('secret_enc', 'text', pg)},
      ${col('certificate_enc', 'text', pg)},
      ${col('graph_base_url', 'text', pg)},
      ${col('authority_url', 'text', pg)},
      ${col('management_base_url', 'text', pg)},
      ${col('ca_pem', 'text', pg)},
      ${col('verified_domains', 'json', pg)},
      ${col('enabled', 'boolean', pg, true)},
      ${col('created_at', 'timestamp', pg, true)},
      ${col('updated_at', 'timestamp', pg, true)},
      ${col('probe', 'json', pg)},
      ${col('probed_at', 'timestamp', pg)}
    )`,
  );

  for (const [table, def] of Object.entries(RESOURCE_TABLES)) await createResourceTableV1(db, table, def);
  await exec(db, 'create index drive_items_parent on drive_items (integration_id, drive_id, parent_id)');
  await exec(db, 'create index drive_items_path on drive_items (integration_id, drive_id, path)');
  await exec(db, 'create index drives_owner on drives (integration_id, owner_id)');
  await exec(db, 'create index users_upn on users (integration_id, user_principal_name)');
  await exec(db, 'create index group_members_member on group_members (integration_id, id)');

  await exec(
    db,
    `create table changes (
      id ${serial},
      ${col('integration_id', 'text', pg, true)},
      ${col('tenant_id', 'text', pg, true)},
      ${col('resource_type', 'text', pg, true)},
      ${col('resource_id', 'text', pg, true)},
      ${col('drive_id', 'text', pg)},
      ${col('item_id', 'text', pg)},
      ${col('group_id', 'text', pg)},
      ${col('change_type', 'text', pg, true)},
      ${col('fields', 'json', pg)},
      ${col('before', 'json', pg)},
      ${col('after', 'json', pg)},
      ${col('actor', 'text', pg)},
      ${col('source', 'text', pg, true)},
      ${col('observed_at', 'timestamp', pg, true)}
    )`,
  );
  await exec(db, 'create index changes_observed on changes (integration_id, observed_at)');
  // History of one resource: its type and full key (drive_id is null outside drives). With
  // drive_id before resource_id, a page of a drive's items inserts into one narrow range of
  // the index instead of one random leaf per item.
  await exec(
    db,
    'create index changes_resource on changes (integration_id, resource_type, drive_id, resource_id)',
  );

  await exec(
    db,
    `create table sync_state (
      ${col('integration_id', 'text', pg, true)},
      ${col('scope', 'text', pg, true)},
      ${col('phase', 'text', pg, true)},
      ${col('delta_link', 'text', pg)},
      ${col('next_link', 'text', pg)},
      ${col('enumeration_started_at', 'timestamp', pg)},
      ${col('last_full_sync_at', 'timestamp', pg)},
      ${col('last_delta_at', 'timestamp', pg)},
      ${col('last_success_at', 'timestamp', pg)},
      ${col('last_error_code', 'text', pg)},
      ${col('last_error_message', 'text', pg)},
      ${col('last_error_request_id', 'text', pg)},
      ${col('last_error_at', 'timestamp', pg)},
      ${col('updated_at', 'timestamp', pg, true)},
      primary key (integration_id, scope)
    )`,
  );

  await exec(
    db,
    `create table sync_errors (
      id ${serial},
      ${col('integration_id', 'text', pg, true)},
      ${col('resource_type', 'text', pg, true)},
      ${col('resource_id', 'text', pg)},
      ${col('scope', 'text', pg)},
      ${col('status', 'integer', pg)},
      ${col('code', 'text', pg, true)},
      ${col('message', 'text', pg, true)},
      ${col('request_id', 'text', pg)},
      ${col('first_at', 'timestamp', pg, true)},
      ${col('last_at', 'timestamp', pg, true)},
      ${col('count', 'integer', pg, true)},
      ${col('resolved_at', 'timestamp', pg)}
    )`,
  );
  await exec(db, 'create index sync_errors_open on sync_errors (integration_id, resource_type, resolved_at)');
}

export async function down(db: AnyDb): Promise<void> {
  for (const table of [
    'sync_errors',
    'sync_state',
    'changes',
    ...Object.keys(RESOURCE_TABLES),
    'integrations',
  ]) {
    await exec(db, `drop table if exists ${table}`);
  }
}
