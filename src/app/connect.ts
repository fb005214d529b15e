import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Config } from '../config/config.ts';
import type { IntegrationInput } from '../store/integrations.ts';
import type { AppContext } from './context.ts';
import { type AddedIntegration, addIntegration, CredentialsRejected } from './integration-add.ts';

/**
 * "Connect with Microsoft": a tenant admin grants drivewarden's own multi-tenant app
 * registration (config `connect`) consent through Microsoft's admin-consent endpoint, which
 * redirects back with the tenant id; the integration is then added with the app's credentials.
 *
 * The `state` sent along is the only credential of the callback: the browser returns from
 * Microsoft without the session cookie (SameSite=Strict cookies are not sent on a navigation
 * that started on another site), so the callback cannot see who is signed in. The state is
 * 256 random bits, stored only as its SHA-256 with the admin who asked and an expiry, and used
 * once; the callback acts for that admin if they still are one.
 */

export const CONNECT_SCOPE = 'https://graph.microsoft.com/.default';
const STATE_TTL_MS = 10 * 60_000;

export class ConnectError extends Error {
  constructor(
    readonly code: 'connect_not_configured' | 'invalid_state' | 'consent_denied' | 'not_admin',
    message: string,
  ) {
    super(message);
    this.name = 'ConnectError';
  }
}

const hashOf = (state: string) => createHash('sha256').update(state, 'utf8').digest('hex');

function appRegistration(config: Config): { clientId: string; clientSecret: string } {
  const { clientId, clientSecret } = config.connect;
  if (!clientId || !clientSecret)
    throw new ConnectError(
      'connect_not_configured',
      'Connect with Microsoft is not configured: set DW_CONNECT_CLIENT_ID and DW_CONNECT_CLIENT_SECRET (the multi-tenant app registration)',
    );
  return { clientId, clientSecret };
}

/** The admin-consent URL to send the admin to, with a fresh single-use state bound to them. */
export async function startConnect(
  app: AppContext,
  input: { userId: string; redirectUri: string },
  now = new Date(),
): Promise<{ redirectUrl: string; expiresAt: string }> {
  const { clientId } = appRegistration(app.config);
  const state = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + STATE_TTL_MS).toISOString();
  const db = app.store.db;
  await db.deleteFrom('connect_states').where('expires_at', '<', now.toISOString()).execute();
  await db
    .insertInto('connect_states')
    .values({
      state_hash: hashOf(state),
      user_id: input.userId,
      redirect_uri: input.redirectUri,
      created_at: now.toISOString(),
      expires_at: expiresAt,
    })
    .execute();
  const url = new URL(`${app.config.connect.authority.replace(/\/+$/, '')}/organizations/v2.0/adminconsent`);
  url.searchParams.set('client_id', clientId);
  url.searchParams.set('scope', CONNECT_SCOPE);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', state);
  return { redirectUrl: url.toString(), expiresAt };
}

export interface ConnectCallback {
  state: string;
  tenant?: string;
  adminConsent?: string;
  error?: string;
  errorDescription?: string;
}

/** Uses the state up (whatever the answer says): its admin, or ConnectError. */
async function consumeState(app: AppContext, state: string, now: Date): Promise<{ userId: string }> {
  const row = await app.store.db
    .deleteFrom('connect_states')
    .where('state_hash', '=', hashOf(state))
    .returning(['user_id', 'expires_at'])
    .executeTakeFirst();
  if (!row || row.expires_at < now.toISOString())
    throw new ConnectError(
      'invalid_state',
      'this consent answer is unknown, expired or already used: start Connect with Microsoft again',
    );
  const user = await app.store.db
    .selectFrom('app_users')
    .select(['role', 'disabled'])
    .where('id', '=', row.user_id)
    .executeTakeFirst();
  if (user?.role !== 'admin' || Number(user.disabled) !== 0)
    throw new ConnectError('not_admin', 'the user who started this is no longer an admin');
  return { userId: row.user_id };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Microsoft's answer: validates the state, then adds the integration of `tenant` with the
 * app's credentials and probes it. Right after consent the tenant's service principal can take
 * a few seconds to appear, so rejected credentials are tried again twice.
 */
export async function completeConnect(
  app: AppContext,
  answer: ConnectCallback,
  options: { now?: Date; retryDelayMs?: number } = {},
): Promise<AddedIntegration & { userId: string }> {
  const { userId } = await consumeState(app, answer.state, options.now ?? new Date());
  if (answer.error)
    throw new ConnectError(
      'consent_denied',
      `Microsoft refused: ${answer.error}${answer.errorDescription ? `: ${answer.errorDescription}` : ''}`,
    );
  if (answer.adminConsent?.toLowerCase() !== 'true' || !answer.tenant || !GUID.test(answer.tenant))
    throw new ConnectError(
      'consent_denied',
      'Microsoft did not confirm admin consent (admin_consent=True with a tenant id)',
    );
  const { config } = app;
  const input: IntegrationInput = {
    name: answer.tenant,
    tenantId: answer.tenant,
    ...appRegistration(config),
    ...(config.connect.authority !== 'https://login.microsoftonline.com'
      ? { authorityUrl: config.connect.authority }
      : {}),
    ...(config.connect.graphBaseUrl ? { graphBaseUrl: config.connect.graphBaseUrl } : {}),
    ...(config.connect.managementBaseUrl ? { managementBaseUrl: config.connect.managementBaseUrl } : {}),
    ...(config.connect.caFile ? { caPem: readFileSync(config.connect.caFile, 'utf8') } : {}),
  };
  const delay = options.retryDelayMs ?? 3000;
  for (let attempt = 1; ; attempt++) {
    try {
      return { ...(await addIntegration(app, input)), userId };
    } catch (err) {
      if (!(err instanceof CredentialsRejected) || attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, delay * attempt));
    }
  }
}
