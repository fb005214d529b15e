/**
 * Columns that hold secrets, by table: the query console and rule SQL may not read them
 * (src/store/sql-guard/ refuses any query that touches one, `select *` included), and no
 * API returns them. `'*'` withholds the whole table.
 *
 * Adding a table with a secret column (a channel URL with a token in it, a signing key, a
 * client state): add its line here in the same change.
 */
export const SECRET_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  /** Sealed client secret and certificate of each tenant connection. */
  integrations: ['secret_enc', 'certificate_enc'],
  /** The clientState Graph echoes in every notification: whoever knows it can forge them. */
  graph_subscriptions: ['client_state'],
  /** Sealed configuration of each alert channel: webhook URLs with their tokens, signing secrets, SMTP passwords. */
  alert_channels: ['config_enc'],
  /** Password hashes of the web app's users (offline guessing). */
  app_users: ['password_hash'],
  /** Hashes of session and API tokens, and the sessions' CSRF tokens. */
  app_sessions: ['token_hash', 'csrf_token'],
  api_tokens: ['token_hash'],
  /** Delta and next links carry the drive's delta token. */
  sync_state: ['delta_link', 'next_link'],
};

/** The secret columns of a table (every column for `'*'`); empty when it holds none. */
export function secretColumnsOf(table: string): readonly string[] {
  return Object.hasOwn(SECRET_COLUMNS, table) ? SECRET_COLUMNS[table] : [];
}

/**
 * What the query console and rule SQL may read: an allow list of tables and views. A table
 * not named here cannot be read at all (the guards refuse it on both dialects, and on
 * PostgreSQL the console's role has no grant on it), so a new table stays private until
 * someone decides it is inventory. SECRET_COLUMNS still withholds columns of listed tables.
 * Left out on purpose: the web app's users, sessions, API tokens and sign-in states, review
 * link nonces, the service's own state and cursors, the migration tables.
 */
// biome-ignore format: a list
export const CONSOLE_TABLES: ReadonlySet<string> = new Set([
  // the inventory (src/resources/) and what is derived from it
  'users', 'groups', 'group_members', 'drives', 'drive_items', 'permissions', 'user_drives', 'user_mfa',
  'sensitivity_labels', 'item_labels', 'label_extractions', 'tenant_settings', 'grants', 'item_grants',
  'item_usage', 'changes', 'audit_events', 'audit_content', 'audit_feeds', 'anomaly_actor_ips',
  // how collection went
  'integrations', 'graph_subscriptions', 'sync_state', 'sync_errors', 'realtime_sync_state',
  'webhook_inbox', 'webhook_rejections',
  // rules, findings, alerts, remediation, reviews, saved queries
  'findings', 'finding_events', 'suppressions', 'pack_scores', 'rule_evaluations', 'rule_settings',
  'custom_rules', 'storage_policies', 'alert_policies', 'alert_channels', 'alert_outbox',
  'remediation_plans', 'remediation_actions', 'auto_remediation_rules', 'auto_remediation_limits',
  'review_campaigns', 'review_items', 'saved_queries',
]);

/** Whether the console may read the table at all (its secret columns stay withheld). */
export function consoleReadable(table: string): boolean {
  return CONSOLE_TABLES.has(table) && !secretColumnsOf(table).includes('*');
}
