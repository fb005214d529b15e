import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { Config } from '../config/config.ts';
import type { Database } from '../store/schema.ts';
import { connectTrusting } from '../util/extra-ca.ts';
import { AuthError, createUser, type Role } from './principals.ts';
import { sameSecret } from './tokens.ts';

/**
 * Sign-in with Microsoft Entra ID (OpenID Connect, authorization code flow with PKCE).
 *
 * A sign-in starts with a random 256-bit `binding` that only the browser (an HttpOnly cookie,
 * see routes/auth.ts) and this process see. The `state`, the `nonce` and the PKCE
 * `code_verifier` are derived from it, so none of them is stored: the database keeps only
 * the SHA-256 of the state, with an expiry, and deletes it when the answer comes back (used
 * once). The answer is checked in this order: the state belongs to this browser's binding,
 * it is known, unexpired and unused, Microsoft did not answer an error, then openid-client
 * redeems the code and validates the ID token (iss, aud, exp, iat, nonce, and the signature
 * against the tenant's JWKS), then the tenant must be allowed and the roles or groups must
 * map to a drivewarden role.
 */

export type SsoSettings = Config['auth']['sso'];

export class SsoError extends Error {
  constructor(
    readonly code:
      | 'sso_disabled'
      | 'sso_busy'
      | 'invalid_state'
      | 'sso_refused'
      | 'tenant_not_allowed'
      | 'no_role'
      | 'username_taken'
      | 'account_disabled'
      | 'sso_unavailable',
    message: string,
  ) {
    super(message);
    this.name = 'SsoError';
  }
}

/** How long a sign-in may take between the redirect to Microsoft and the answer. */
export const SSO_STATE_TTL_MS = 10 * 60_000;
/** Sign-ins in flight at most (anyone may start one: the table must not grow without bound). */
const MAX_PENDING = 10_000;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8');
/** The state, nonce or PKCE verifier of a binding (43 base64url characters each). */
const derive = (binding: string, what: 'state' | 'nonce' | 'pkce') =>
  sha256(`${what}|${binding}`).digest('base64url');
const stateHash = (state: string) => sha256(state).digest('hex');

// ---------- the OpenID Connect client ----------

const clients = new Map<string, Promise<oidc.Configuration>>();

/** A fetch over undici carrying the extra CA (the simulator's), answering the global Response openid-client expects. */
function fetchWithCa(caPem: string): oidc.CustomFetch {
  const agent = new Agent({ connect: connectTrusting(caPem) });
  return async (url, options) => {
    const res = await undiciFetch(url, {
      method: options.method,
      headers: options.headers as Record<string, string>,
      body: options.body as string | undefined,
      redirect: options.redirect,
      signal: options.signal ?? undefined,
      dispatcher: agent,
    });
    return new Response(await res.arrayBuffer(), {
      status: res.status,
      statusText: res.statusText,
      headers: Object.fromEntries(res.headers),
    });
  };
}

/** The settings' issuer URL (`{authority}/{tenant}/v2.0`), where discovery starts. */
export function issuerUrl(settings: SsoSettings): URL {
  return new URL(`${settings.authority.replace(/\/+$/, '')}/${settings.tenant}/v2.0`);
}

function checkEnabled(settings: SsoSettings): asserts settings is SsoSettings & {
  tenant: string;
  clientId: string;
  clientSecret: string;
} {
  if (!settings.enabled || !settings.tenant || !settings.clientId || !settings.clientSecret)
    throw new SsoError('sso_disabled', 'sign-in with Microsoft is not configured (auth.sso)');
}

/**
 * The client of the settings: discovery once (a failure is retried at the next sign-in), the
 * client secret sent in the body, and ID token signatures checked against the JWKS.
 */
async function clientOf(settings: SsoSettings): Promise<oidc.Configuration> {
  checkEnabled(settings);
  const key = JSON.stringify([settings.authority, settings.tenant, settings.clientId, settings.caFile]);
  let client = clients.get(key);
  if (!client) {
    const customFetch = settings.caFile ? fetchWithCa(readFileSync(settings.caFile, 'utf8')) : undefined;
    client = oidc.discovery(
      issuerUrl(settings),
      settings.clientId,
      undefined,
      oidc.ClientSecretPost(settings.clientSecret),
      {
        timeout: 15,
        execute: [oidc.enableNonRepudiationChecks],
        ...(customFetch ? { [oidc.customFetch]: customFetch } : {}),
      },
    );
    clients.set(key, client);
    client.catch(() => clients.delete(key));
  }
  return client.catch((err: Error) => {
    throw new SsoError(
      'sso_unavailable',
      `Microsoft's sign-in metadata could not be read from ${issuerUrl(settings)}: ${err.message}`,
    );
  });
}

// ---------- starting ----------

export interface StartedSso {
  /** The browser's secret (its HttpOnly cookie); the state, nonce and verifier derive from it. */
  binding: string;
  /** Where to send the browser: Microsoft's authorize endpoint. */
  redirectUrl: string;
  expiresAt: string;
}

/** A new sign-in: its state recorded (hash only, single use) and the authorize URL. */
export async function startSso(
  db: Kysely<Database>,
  settings: SsoSettings,
  input: { redirectUri: string },
  now = new Date(),
): Promise<StartedSso> {
  const client = await clientOf(settings);
  const binding = randomBytes(32).toString('base64url');
  const state = derive(binding, 'state');
  const expiresAt = new Date(now.getTime() + SSO_STATE_TTL_MS).toISOString();
  await db.deleteFrom('sso_states').where('expires_at', '<', now.toISOString()).execute();
  const pending = await db
    .selectFrom('sso_states')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  if (Number(pending.n) >= MAX_PENDING)
    throw new SsoError('sso_busy', 'too many sign-ins in progress: try again in a few minutes');
  await db
    .insertInto('sso_states')
    .values({ state_hash: stateHash(state), created_at: now.toISOString(), expires_at: expiresAt })
    .execute();
  const url = oidc.buildAuthorizationUrl(client, {
    redirect_uri: input.redirectUri,
    response_type: 'code',
    response_mode: 'query',
    scope: 'openid profile email',
    state,
    nonce: derive(binding, 'nonce'),
    code_challenge: await oidc.calculatePKCECodeChallenge(derive(binding, 'pkce')),
    code_challenge_method: 'S256',
  });
  return { binding, redirectUrl: url.href, expiresAt };
}

// ---------- completing ----------

/** Who signed in, once every check passed. */
export interface SsoIdentity {
  issuer: string;
  /** The account's object id (`oid`). */
  subject: string;
  tenantId: string;
  username: string;
  name: string | null;
  role: Role;
}

/** Uses the state up; refused when it is not this browser's, unknown, expired or used. */
async function consumeState(
  db: Kysely<Database>,
  binding: string,
  state: string | null,
  now: Date,
): Promise<string> {
  if (!state || !sameSecret(state, derive(binding, 'state')))
    throw new SsoError(
      'invalid_state',
      'this answer from Microsoft does not belong to the sign-in this browser started: sign in again',
    );
  const row = await db
    .deleteFrom('sso_states')
    .where('state_hash', '=', stateHash(state))
    .returning(['expires_at'])
    .executeTakeFirst();
  if (!row || new Date(row.expires_at).getTime() < now.getTime())
    throw new SsoError('invalid_state', 'this sign-in is unknown, expired or already used: sign in again');
  return state;
}

/** openid-client's failure with what lies under it (the claim that failed, Microsoft's AADSTS answer). */
function failureDetail(err: unknown): string {
  const parts: string[] = [];
  let e = err as
    | { message?: string; error?: string; error_description?: string; cause?: unknown }
    | undefined;
  for (let depth = 0; e && depth < 4; depth++, e = e.cause as typeof e) {
    if (e.error) parts.push(`${e.error}: ${e.error_description ?? ''}`.trim());
    else if (e.message && !parts.includes(e.message)) parts.push(e.message);
    if (typeof e.cause !== 'object') break;
  }
  return parts.join(': ') || 'unknown error';
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];

/** The role the token's app roles or groups map to (admin first); null when none does. */
export function mappedRole(settings: SsoSettings, claims: Record<string, unknown>): Role | null {
  const roles = new Set(strings(claims.roles));
  const groups = new Set(strings(claims.groups).map((g) => g.toLowerCase()));
  const has = (values: string[], ids: string[]) =>
    values.some((v) => roles.has(v)) || ids.some((id) => groups.has(id.toLowerCase()));
  if (has(settings.adminRoles, settings.adminGroups)) return 'admin';
  if (has(settings.viewerRoles, settings.viewerGroups)) return 'viewer';
  return null;
}

function noRoleMessage(settings: SsoSettings, account: string, claims: Record<string, unknown>): string {
  const roles = [...settings.adminRoles, ...settings.viewerRoles].join(' or ');
  const overage =
    (settings.adminGroups.length > 0 || settings.viewerGroups.length > 0) &&
    typeof (claims._claim_names as Record<string, unknown> | undefined)?.groups === 'string';
  return `${account} has no drivewarden role: an Entra ID admin must assign the app role ${roles} to this account${
    settings.adminGroups.length + settings.viewerGroups.length > 0 ? ' or add it to a mapped group' : ''
  }${overage ? ' (the account is in too many groups for the token to list them: use app roles)' : ''}`;
}

/**
 * Microsoft's answer (the callback's full URL): the state used up, the code redeemed and the
 * ID token validated, the tenant and the role checked.
 */
export async function completeSso(
  db: Kysely<Database>,
  settings: SsoSettings,
  input: { binding: string; callbackUrl: string },
  now = new Date(),
): Promise<SsoIdentity> {
  checkEnabled(settings);
  const url = new URL(input.callbackUrl);
  const state = await consumeState(db, input.binding, url.searchParams.get('state'), now);
  const error = url.searchParams.get('error');
  if (error) {
    const description = url.searchParams.get('error_description');
    throw new SsoError(
      'sso_refused',
      `Microsoft refused the sign-in: ${error}${description ? `: ${description}` : ''}`,
    );
  }
  const client = await clientOf(settings);
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(client, url, {
      expectedState: state,
      expectedNonce: derive(input.binding, 'nonce'),
      pkceCodeVerifier: derive(input.binding, 'pkce'),
      idTokenExpected: true,
    });
  } catch (err) {
    throw new SsoError('sso_refused', `the sign-in could not be verified: ${failureDetail(err)}`);
  }
  const claims = (tokens.claims() ?? {}) as Record<string, unknown>;
  const tenantId = String(claims.tid ?? '').toLowerCase();
  const allowed = (settings.allowedTenants.length ? settings.allowedTenants : [settings.tenant]).map((t) =>
    t.toLowerCase(),
  );
  if (!allowed.includes(tenantId))
    throw new SsoError(
      'tenant_not_allowed',
      `accounts of tenant ${tenantId || '(none)'} may not sign in here (auth.sso.allowedTenants)`,
    );
  const oid = typeof claims.oid === 'string' ? claims.oid : '';
  if (!oid) throw new SsoError('sso_refused', 'the ID token names no account (no oid claim)');
  const account = String(claims.preferred_username ?? claims.email ?? oid);
  const role = mappedRole(settings, claims);
  if (!role) throw new SsoError('no_role', noRoleMessage(settings, account, claims));
  return {
    issuer: String(claims.iss),
    subject: oid,
    tenantId,
    username: account.toLowerCase(),
    name: typeof claims.name === 'string' ? claims.name : null,
    role,
  };
}

// ---------- the drivewarden user ----------

/**
 * The user an Entra account signs in as: the one linked to (issuer, oid), its role set to
 * what Entra says now; or a new user without a password, named after the account. A local
 * user who already has that name is never taken over: refused, an admin resolves it.
 */
export async function linkSsoUser(
  db: Kysely<Database>,
  identity: SsoIdentity,
  now = new Date(),
): Promise<{ id: string; username: string; role: Role }> {
  return db.transaction().execute(async (trx) => {
    const linked = await trx
      .selectFrom('sso_identities as i')
      .innerJoin('app_users as u', 'u.id', 'i.user_id')
      .select(['u.id', 'u.username', 'u.role', 'u.disabled'])
      .where('i.issuer', '=', identity.issuer)
      .where('i.subject', '=', identity.subject)
      .executeTakeFirst();
    if (linked) {
      if (linked.disabled)
        throw new SsoError('account_disabled', `${linked.username} is disabled in drivewarden: ask an admin`);
      if (linked.role !== identity.role)
        await trx.updateTable('app_users').set({ role: identity.role }).where('id', '=', linked.id).execute();
      await trx
        .updateTable('sso_identities')
        .set({ last_sign_in_at: now.toISOString() })
        .where('issuer', '=', identity.issuer)
        .where('subject', '=', identity.subject)
        .execute();
      return { id: linked.id, username: linked.username, role: identity.role };
    }
    const created = await createUser(
      trx,
      { username: identity.username, password: null, role: identity.role },
      now,
    ).catch((err) => {
      if (err instanceof AuthError && err.code === 'user_exists')
        throw new SsoError(
          'username_taken',
          `a drivewarden user named ${identity.username} exists already and is not linked to this Microsoft account: an admin must remove or rename it first`,
        );
      if (err instanceof AuthError && err.code === 'invalid_username')
        return createUser(
          trx,
          { username: `sso-${identity.subject}`, password: null, role: identity.role },
          now,
        );
      throw err;
    });
    await trx
      .updateTable('app_users')
      .set({ external_id: identity.subject })
      .where('id', '=', created.id)
      .execute();
    await trx
      .insertInto('sso_identities')
      .values({
        issuer: identity.issuer,
        subject: identity.subject,
        user_id: created.id,
        tenant_id: identity.tenantId,
        created_at: now.toISOString(),
        last_sign_in_at: now.toISOString(),
      })
      .execute();
    return created;
  });
}
