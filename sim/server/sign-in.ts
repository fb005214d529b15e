/**
 * Users signing in to the app registration with OpenID Connect, as Entra ID serves it: the
 * authorize endpoint (an account picker page, or an automatic mode for tests), the
 * authorization_code grant of the token endpoint (auth.ts hands it over) with PKCE, and RS256
 * ID tokens with Microsoft's v2.0 claims. The admin API's POST /_sim/sign-in sets the automatic
 * user, app role assignments and a one-shot tamper of the next ID token.
 *
 * Entra's documented behaviour kept here: a redirect_uri not registered on the app is an error
 * page (AADSTS50011), never a redirect; errors after that go back to the redirect_uri with
 * `error`, `error_description` and the `state`; a code lives about ten minutes (AADSTS70008),
 * is redeemed once (AADSTS54005), with the redirect_uri it was issued for (AADSTS500112) and the
 * verifier of its code_challenge (AADSTS501481).
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, randomUUID, sign } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { SimIdTokenTamper, SimSignInOptions } from '../contracts.ts';
import type { SimUser } from '../model/tenant.ts';
import type { Runtime } from '../runtime.ts';
import type { AppCredentials } from './auth.ts';
import type { SimCerts } from './certs.ts';

const CODE_TTL_MS = 10 * 60_000;
const GROUPS_OVERAGE = 200;

interface IssuedCode {
  userIdx: number;
  redirectUri: string;
  scope: string;
  nonce: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: string;
  expiresMs: number;
  redeemed: boolean;
}

export interface SignInState {
  appRoles: Map<string, string[]>;
  groupClaims: boolean;
  autoUser: string | null;
  tamper: SimIdTokenTamper | null;
  codes: Map<string, IssuedCode>;
}

type AadError = (
  reply: FastifyReply,
  status: number,
  error: string,
  code: number,
  description: string,
) => FastifyReply;

const b64url = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Whether the app registration lists this redirect URI (the same rule as /adminconsent). */
export function redirectUriRegistered(rt: Runtime, uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  const registered = rt.options.redirectUris;
  if (registered) return registered.includes(uri);
  return url.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

export function newSignInState(options: SimSignInOptions | undefined): SignInState {
  return {
    appRoles: new Map(
      Object.entries(options?.appRoles ?? {}).map(([upn, roles]) => [upn.toLowerCase(), roles]),
    ),
    groupClaims: options?.groupClaims ?? true,
    autoUser: options?.autoUser ?? null,
    tamper: null,
    codes: new Map(),
  };
}

export function registerSignInRoutes(
  app: FastifyInstance,
  rt: Runtime,
  certs: SimCerts,
  creds: AppCredentials,
  aadError: AadError,
): { redeem: (body: Record<string, string | undefined>, reply: FastifyReply) => FastifyReply } {
  const state = newSignInState(rt.options.signIn);
  const tenantId = rt.tenantId;
  // A key Microsoft never published: what a forged token is signed with (made when first asked for).
  let foreignKey: KeyObject | undefined;
  const knownTenant = (t: string) =>
    ['organizations', 'common'].includes(t.toLowerCase()) ||
    t.toLowerCase() === tenantId ||
    rt.tenant.verifiedDomains.includes(t.toLowerCase());
  const userByUpn = (upn: string) =>
    rt.tenant.users.find((u) => !u.deleted && u.userPrincipalName.toLowerCase() === upn.toLowerCase());

  const errorPage = (reply: FastifyReply, code: number, message: string) =>
    reply
      .code(400)
      .type('text/html; charset=utf-8')
      .send(
        `<!doctype html><html><head><title>Sign in to your account</title></head><body><h1>Sorry, but we’re having trouble signing you in.</h1><p id="error">AADSTS${code}: ${escapeHtml(message)}</p></body></html>`,
      );

  /** The checks Entra makes before it will redirect anywhere; an error page when one fails. */
  function checkRequest(
    tenant: string,
    q: Record<string, string | undefined>,
    reply: FastifyReply,
  ): { back: URL } | FastifyReply {
    if (!knownTenant(tenant)) return errorPage(reply, 90002, `Tenant '${tenant}' not found.`);
    if (q.client_id !== creds.clientId)
      return errorPage(
        reply,
        700016,
        `Application with identifier '${q.client_id ?? ''}' was not found in the directory '${tenantId}'.`,
      );
    if (!q.redirect_uri || !redirectUriRegistered(rt, q.redirect_uri))
      return errorPage(
        reply,
        50011,
        `The redirect URI '${q.redirect_uri ?? ''}' specified in the request does not match the redirect URIs configured for the application '${creds.clientId}'.`,
      );
    return { back: new URL(q.redirect_uri) };
  }

  /** Back to the app with an error (Entra keeps the state). */
  const errorBack = (
    reply: FastifyReply,
    back: URL,
    q: Record<string, string | undefined>,
    error: string,
    description: string,
  ) => {
    if (q.state !== undefined) back.searchParams.set('state', q.state);
    back.searchParams.set('error', error);
    back.searchParams.set('error_description', description);
    return reply.redirect(back.toString(), 302);
  };

  /** Checks of the request's OAuth parameters; a code for `user` sent back. */
  function answer(
    reply: FastifyReply,
    back: URL,
    q: Record<string, string | undefined>,
    user: SimUser | undefined,
  ) {
    if (q.response_type !== 'code')
      return errorBack(
        reply,
        back,
        q,
        'unsupported_response_type',
        `AADSTS700054: response_type '${q.response_type ?? ''}' is not enabled for the application.`,
      );
    if (!(q.scope ?? '').split(/\s+/).includes('openid'))
      return errorBack(
        reply,
        back,
        q,
        'invalid_scope',
        "AADSTS70011: The provided value for the input parameter 'scope' is not valid: openid is needed for an ID token.",
      );
    const method = q.code_challenge_method ?? (q.code_challenge ? 'plain' : '');
    if (q.code_challenge && !['S256', 'plain'].includes(method))
      return errorBack(
        reply,
        back,
        q,
        'invalid_request',
        'AADSTS501491: Invalid size of Code_Challenge parameter or unsupported code_challenge_method.',
      );
    if (!user)
      return errorBack(
        reply,
        back,
        q,
        'access_denied',
        'AADSTS50034: The user account does not exist in this directory.',
      );
    if (!user.accountEnabled)
      return errorBack(reply, back, q, 'access_denied', 'AADSTS50057: The user account is disabled.');
    const code = `1.${randomBytes(48).toString('base64url')}`;
    state.codes.set(code, {
      userIdx: user.idx,
      redirectUri: q.redirect_uri as string,
      scope: q.scope ?? '',
      nonce: q.nonce,
      codeChallenge: q.code_challenge,
      codeChallengeMethod: method,
      expiresMs: rt.clock.now() + CODE_TTL_MS,
      redeemed: false,
    });
    back.searchParams.set('code', code);
    if (q.state !== undefined) back.searchParams.set('state', q.state);
    back.searchParams.set('session_state', randomUUID());
    return reply.redirect(back.toString(), 302);
  }

  const AUTHORIZE_FIELDS = [
    'client_id',
    'response_type',
    'redirect_uri',
    'scope',
    'state',
    'nonce',
    'code_challenge',
    'code_challenge_method',
    'response_mode',
    'prompt',
  ];

  function pickerPage(tenant: string, q: Record<string, string | undefined>): string {
    const hidden = AUTHORIZE_FIELDS.filter((k) => q[k] !== undefined)
      .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(q[k] as string)}">`)
      .join('');
    const users = rt.tenant.users
      .filter((u) => !u.deleted && u.accountEnabled && u.userType === 'Member')
      .slice(0, 50);
    const buttons = users
      .map(
        (u) =>
          `<li><button type="submit" name="sim_user" value="${escapeHtml(u.userPrincipalName)}">${escapeHtml(u.displayName)} <small>${escapeHtml(u.userPrincipalName)}</small></button></li>`,
      )
      .join('');
    return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head><body><h1>Pick an account</h1><p>Simulated Microsoft Entra ID (tenant ${escapeHtml(tenantId)})</p><form method="post" action="/${escapeHtml(tenant)}/oauth2/v2.0/authorize">${hidden}<ul>${buttons}</ul></form></body></html>`;
  }

  app.get('/:tenant/oauth2/v2.0/authorize', async (req, reply) => {
    const { tenant } = req.params as { tenant: string };
    const q = req.query as Record<string, string | undefined>;
    const checked = checkRequest(tenant, q, reply);
    if (!('back' in checked)) return checked;
    if (state.autoUser) return answer(reply, checked.back, q, userByUpn(state.autoUser));
    return reply.type('text/html; charset=utf-8').send(pickerPage(tenant, q));
  });

  app.post('/:tenant/oauth2/v2.0/authorize', async (req, reply) => {
    const { tenant } = req.params as { tenant: string };
    const q = (req.body ?? {}) as Record<string, string | undefined>;
    const checked = checkRequest(tenant, q, reply);
    if (!('back' in checked)) return checked;
    return answer(reply, checked.back, q, userByUpn(q.sim_user ?? ''));
  });

  app.post('/_sim/sign-in', async (req) => {
    const body = (req.body ?? {}) as {
      autoUser?: string | null;
      appRoles?: Record<string, string[]>;
      groupClaims?: boolean;
      tamperNextIdToken?: SimIdTokenTamper | null;
    };
    if (body.autoUser !== undefined) state.autoUser = body.autoUser;
    if (body.appRoles)
      for (const [upn, roles] of Object.entries(body.appRoles)) state.appRoles.set(upn.toLowerCase(), roles);
    if (body.groupClaims !== undefined) state.groupClaims = body.groupClaims;
    if (body.tamperNextIdToken !== undefined) state.tamper = body.tamperNextIdToken;
    return { ok: true };
  });

  function groupsOf(user: SimUser): string[] {
    return rt.tenant.groups
      .filter((g) => g.securityEnabled && rt.tenant.transitiveMembers(g.idx).some((m) => m.id === user.id))
      .map((g) => g.id);
  }

  function idToken(issued: IssuedCode): string {
    const user = rt.tenant.users[issued.userIdx];
    const tamper = state.tamper ?? {};
    state.tamper = null;
    const now = Math.floor(rt.clock.now() / 1000);
    const claims: Record<string, unknown> = {
      aud: tamper.aud ?? creds.clientId,
      iss: tamper.iss ?? `${rt.baseUrl}/${tamper.tid ?? tenantId}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + (tamper.expiresInSeconds ?? 3600),
      name: user.displayName,
      ...((tamper.nonce ?? issued.nonce) !== undefined ? { nonce: tamper.nonce ?? issued.nonce } : {}),
      oid: user.id,
      preferred_username: user.userPrincipalName,
      rh: `0.${randomBytes(24).toString('base64url')}.`,
      // Pairwise: the same account has another `sub` in every app.
      sub: createHash('sha256').update(`${user.id}|${creds.clientId}`).digest('base64url').slice(0, 43),
      tid: tamper.tid ?? tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '2.0',
    };
    if (issued.scope.split(/\s+/).includes('email') && user.mail) claims.email = user.mail;
    const roles = state.appRoles.get(user.userPrincipalName.toLowerCase());
    if (roles?.length) claims.roles = roles;
    if (state.groupClaims) {
      const groups = groupsOf(user);
      if (groups.length > GROUPS_OVERAGE) {
        claims._claim_names = { groups: 'src1' };
        claims._claim_sources = {
          src1: { endpoint: `https://graph.microsoft.com/v1.0/users/${user.id}/getMemberObjects` },
        };
      } else if (groups.length) claims.groups = groups;
    }
    const header = { typ: 'JWT', alg: 'RS256', kid: certs.signingKid };
    const input = `${b64url(header)}.${b64url(claims)}`;
    if (tamper.forgeSignature) foreignKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const key = tamper.forgeSignature ? (foreignKey as KeyObject) : certs.signingKeyPem;
    return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
  }

  /** grant_type=authorization_code at /{tenant}/oauth2/v2.0/token (the tenant and content type checked by the caller). */
  function redeem(body: Record<string, string | undefined>, reply: FastifyReply): FastifyReply {
    if (!body.client_id || body.client_id !== creds.clientId)
      return aadError(
        reply,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${body.client_id ?? ''}' was not found in the directory '${tenantId}'.`,
      );
    if (body.client_secret === undefined)
      return aadError(
        reply,
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    if (body.client_secret !== creds.clientSecret)
      return aadError(
        reply,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${creds.clientId}'.`,
      );
    if (!body.code)
      return aadError(
        reply,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'code'.",
      );
    const issued = state.codes.get(body.code);
    if (!issued)
      return aadError(
        reply,
        400,
        'invalid_grant',
        9002313,
        'Invalid request. Request is malformed or invalid.',
      );
    if (issued.redeemed)
      return aadError(
        reply,
        400,
        'invalid_grant',
        54005,
        'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
      );
    if (rt.clock.now() >= issued.expiresMs) {
      state.codes.delete(body.code);
      return aadError(
        reply,
        400,
        'invalid_grant',
        70008,
        'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
      );
    }
    issued.redeemed = true;
    if (body.redirect_uri !== issued.redirectUri)
      return aadError(
        reply,
        400,
        'invalid_grant',
        500112,
        `The reply address '${body.redirect_uri ?? ''}' does not match the reply address '${issued.redirectUri}' provided when requesting Authorization code.`,
      );
    if (issued.codeChallenge) {
      const verifier = body.code_verifier ?? '';
      const computed =
        issued.codeChallengeMethod === 'S256'
          ? createHash('sha256').update(verifier).digest('base64url')
          : verifier;
      if (!verifier || computed !== issued.codeChallenge)
        return aadError(
          reply,
          400,
          'invalid_grant',
          501481,
          'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
        );
    }
    const now = Math.floor(rt.clock.now() / 1000);
    const user = rt.tenant.users[issued.userIdx];
    // Delegated Graph token for the user; not one the simulator's Graph accepts (it serves the app only).
    const accessClaims = {
      aud: '00000003-0000-0000-c000-000000000000',
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + 3599,
      oid: user.id,
      scp: 'openid profile email User.Read',
      tid: tenantId,
      upn: user.userPrincipalName,
      ver: '1.0',
    };
    const accessInput = `${b64url({ typ: 'JWT', alg: 'RS256', kid: certs.signingKid })}.${b64url(accessClaims)}`;
    const accessToken = `${accessInput}.${sign('sha256', Buffer.from(accessInput), certs.signingKeyPem).toString('base64url')}`;
    reply.header('cache-control', 'no-store, no-cache');
    return reply.send({
      token_type: 'Bearer',
      scope: `${issued.scope
        .split(/\s+/)
        .filter((s) => s !== 'openid' && s !== 'offline_access')
        .join(' ')} User.Read`.trim(),
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: accessToken,
      id_token: idToken(issued),
    });
  }

  return { redeem };
}
