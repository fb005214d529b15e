import { type AnyDb, createResourceTableV1, type ResourceTableV1 } from './sql-v1.ts';

/**
 * 0310 — tenant_settings: the tenant's SharePoint and OneDrive settings
 * (src/resources/tenant-settings.ts), one row per integration with history like every
 * resource. Frozen once shipped: its own copy of the columns.
 */
const TENANT_SETTINGS: ResourceTableV1 = {
  key: ['id'],
  columns: [
    ['sharing_capability', 'text'],
    ['sharing_domain_restriction_mode', 'text'],
    ['sharing_allowed_domains', 'json'],
    ['sharing_blocked_domains', 'json'],
    ['is_resharing_by_external_users_enabled', 'boolean'],
    ['is_require_accepting_user_to_match_invited_user_enabled', 'boolean'],
    ['personal_site_default_storage_limit_mb', 'bigint'],
    ['deleted_user_personal_site_retention_days', 'integer'],
    ['idle_sign_out_enabled', 'boolean'],
    ['idle_sign_out_warn_after_seconds', 'bigint'],
    ['idle_sign_out_after_seconds', 'bigint'],
    ['is_legacy_auth_protocols_enabled', 'boolean'],
    ['is_unmanaged_sync_app_for_tenant_restricted', 'boolean'],
    ['allowed_domain_guids_for_sync_app', 'json'],
    ['excluded_file_extensions_for_sync_app', 'json'],
    ['is_mac_sync_app_enabled', 'boolean'],
    ['is_sync_button_hidden_on_personal_site', 'boolean'],
    ['is_site_creation_enabled', 'boolean'],
    ['is_loop_enabled', 'boolean'],
    ['is_file_activity_notification_enabled', 'boolean'],
    ['is_commenting_on_site_pages_enabled', 'boolean'],
    ['image_tagging_option', 'text'],
    ['site_creation_default_storage_limit_mb', 'integer'],
    ['tenant_default_timezone', 'text'],
  ],
};

export async function up(db: AnyDb): Promise<void> {
  await createResourceTableV1(db, 'tenant_settings', TENANT_SETTINGS);
}

export async function down(db: AnyDb): Promise<void> {
  await db.schema.dropTable('tenant_settings').ifExists().execute();
}
