/** Tables of single sign-on with Entra ID (src/auth/sso.ts), created by migration 0810-sso. */

/** An Entra ID account linked to the drivewarden user it signs in as. */
export interface SsoIdentitiesTable {
  /** The ID token's `iss` (`https://login.microsoftonline.com/{tid}/v2.0`). */
  issuer: string;
  /** The account's object id (`oid` claim): stable across apps, unlike the pairwise `sub`. */
  subject: string;
  user_id: string;
  /** The account's tenant (`tid`). */
  tenant_id: string;
  created_at: string;
  last_sign_in_at: string | null;
}

/** One sign-in in flight: single use, ten minutes. */
export interface SsoStatesTable {
  /** SHA-256 (hex) of the `state` sent to Microsoft; the state itself is never stored. */
  state_hash: string;
  created_at: string;
  expires_at: string;
}

export interface SsoTables {
  sso_identities: SsoIdentitiesTable;
  sso_states: SsoStatesTable;
}
