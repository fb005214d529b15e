/** Tables of Connect with Microsoft (src/app/connect.ts), created by migration 0740-connect. */

/** One admin-consent round trip in flight: single use, short-lived. */
export interface ConnectStatesTable {
  /** SHA-256 (hex) of the `state` sent to Microsoft; the state itself is never stored. */
  state_hash: string;
  /** The admin who started it (the integration is added on their behalf). */
  user_id: string;
  /** The redirect_uri sent with it (where Microsoft sends the admin back). */
  redirect_uri: string;
  created_at: string;
  expires_at: string;
}

export interface ConnectTables {
  connect_states: ConnectStatesTable;
}
