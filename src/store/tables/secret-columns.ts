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
};

/** The secret columns of a table (every column for `'*'`); empty when it holds none. */
export function secretColumnsOf(table: string): readonly string[] {
  return Object.hasOwn(SECRET_COLUMNS, table) ? SECRET_COLUMNS[table] : [];
}
