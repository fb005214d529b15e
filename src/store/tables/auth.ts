/** Tables of sign-in (src/auth/), created by migration 0700-auth. */

/** A person who signs in to the web app and API. */
export interface AppUsersTable {
  id: string;
  /** Lower-case sign-in name (unique). */
  username: string;
  /** `scrypt$N$r$p$salt$hash` (base64 parts); null for accounts that sign in only through Entra ID. */
  password_hash: string | null;
  role: 'admin' | 'viewer';
  /** Entra ID object id of an SSO account (`oid` claim), when it signs in that way. */
  external_id: string | null;
  created_at: string;
  /** The one-time password printed at first start must be changed: 1 until it is. */
  must_change_password: number;
  disabled: number;
  last_sign_in_at: string | null;
}

/** A signed-in browser session; the cookie carries the token, the table only its SHA-256. */
export interface AppSessionsTable {
  token_hash: string;
  user_id: string;
  /** Synchronizer token the web app echoes in `x-csrf-token` on every unsafe request. */
  csrf_token: string;
  created_at: string;
  expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

/** An API token for automation (`Authorization: Bearer dw_…`); only its SHA-256 is kept. */
export interface ApiTokensTable {
  id: string;
  name: string;
  token_hash: string;
  /** Shown in lists so people can tell tokens apart (`dw_abcd…`). */
  prefix: string;
  user_id: string;
  /** The token's role: never above its user's. */
  role: 'admin' | 'viewer';
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
}

export interface AuthTables {
  app_users: AppUsersTable;
  app_sessions: AppSessionsTable;
  api_tokens: ApiTokensTable;
}
