/** Microsoft identity platform endpoints: token (client credentials; users' authorization codes in
 *  sign-in.ts), OpenID metadata, JWKS, instance discovery and admin consent — enough for
 *  @azure/msal-node and openid-client to run against the simulator. */
import {
  constants,
  createPublicKey,
  randomBytes,
  randomUUID,
  sign,
  verify,
  X509Certificate,
} from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime.ts';
import type { SimCerts } from './certs.ts';
import { registerSignInRoutes } from './sign-in.ts';

export interface AppCredentials {
  clientId: string;
  clientSecret: string;
}

const AUDIENCES = {
  graph: { scope: 'https://graph.microsoft.com/.default', aud: 'https://graph.microsoft.com' },
  management: { scope: 'https://manage.office.com/.default', aud: 'https://manage.office.com' },
} as const;

const b64url = (v: object | string) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function aadError(
  reply: FastifyReply,
  status: number,
  error: string,
  code: number,
  description: string,
): FastifyReply {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date()
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    });
}

export function registerAuthRoutes(
  app: FastifyInstance,
  rt: Runtime,
  certs: SimCerts,
  creds: AppCredentials,
): void {
  const tenantId = rt.tenantId;
  const knownTenant = (t: string) =>
    t.toLowerCase() === tenantId || rt.tenant.verifiedDomains.includes(t.toLowerCase());
  const clientCert = new X509Certificate(certs.clientCertPem);
  const sha1 = Buffer.from(certs.clientThumbprintSha1, 'hex').toString('base64url');
  const sha256 = Buffer.from(certs.clientThumbprintSha256, 'hex').toString('base64url');

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // Per tenant: every URL names the tenant id. For organizations/common the URLs keep that
  // segment and the issuer carries Entra's `{tenantid}` placeholder.
  const openidConfig = (t: string) => {
    const base = rt.baseUrl;
    const issuerTenant = t === 'organizations' || t === 'common' ? '{tenantid}' : t;
    return {
      token_endpoint: `${base}/${t}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${t}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${issuerTenant}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${base}/${t}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${t}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${t}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${base}/${t}/kerberos`,
      tenant_region_scope: 'NA',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  };

  app.get('/:tenant/v2.0/.well-known/openid-configuration', async (req, reply) => {
    const { tenant } = req.params as { tenant: string };
    if (!knownTenant(tenant) && tenant !== 'organizations' && tenant !== 'common')
      return aadError(reply, 400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
    return openidConfig(tenant === 'organizations' || tenant === 'common' ? tenant : tenantId);
  });

  app.get('/:tenant/discovery/v2.0/keys', async () => ({
    keys: [
      {
        kty: 'RSA',
        use: 'sig',
        kid: certs.signingKid,
        n: certs.signingPublicKeyJwk.n,
        e: certs.signingPublicKeyJwk.e,
      },
    ],
  }));

  app.get('/common/discovery/instance', async () => {
    const host = new URL(rt.baseUrl).host;
    return {
      tenant_discovery_endpoint: `${rt.baseUrl}/${tenantId}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
    };
  });

  // Admin consent: redirect back with tenant + admin_consent=True, or with an error when declined.
  app.get('/:tenant/v2.0/adminconsent', async (req, reply) => {
    const { tenant } = req.params as { tenant: string };
    const q = req.query as Record<string, string | undefined>;
    if (!q.redirect_uri || !/^https?:\/\//.test(q.redirect_uri))
      return aadError(
        reply,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'redirect_uri'.",
      );
    const back = new URL(q.redirect_uri);
    // Entra ID never redirects to a URI the app registration does not list: it shows an error.
    const registered = rt.options.redirectUris;
    const acceptable = registered
      ? registered.includes(q.redirect_uri)
      : back.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(back.hostname);
    if (!acceptable)
      return aadError(
        reply,
        400,
        'invalid_request',
        50011,
        `The redirect URI '${q.redirect_uri}' specified in the request does not match the redirect URIs configured for the application '${q.client_id ?? ''}'.`,
      );
    if (q.state !== undefined) back.searchParams.set('state', q.state);
    if (!knownTenant(tenant) && tenant !== 'organizations' && tenant !== 'common') {
      back.searchParams.set('error', 'invalid_tenant');
      back.searchParams.set('error_description', `AADSTS90002: Tenant '${tenant}' not found.`);
    } else if (q.client_id !== creds.clientId) {
      back.searchParams.set('error', 'unauthorized_client');
      back.searchParams.set(
        'error_description',
        `AADSTS700016: Application with identifier '${q.client_id}' was not found in the directory.`,
      );
    } else if (rt.options.adminConsent === 'decline' || q.sim_decision === 'decline') {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
    } else {
      back.searchParams.set('tenant', tenantId);
      back.searchParams.set('admin_consent', 'True');
      if (q.scope) back.searchParams.set('scope', q.scope);
    }
    return reply.redirect(back.toString(), 302);
  });

  const signIn = registerSignInRoutes(app, rt, certs, creds, aadError);

  app.post('/:tenant/oauth2/v2.0/token', async (req: FastifyRequest, reply) => {
    const { tenant } = req.params as { tenant: string };
    const body = (req.body ?? {}) as Record<string, string | undefined>;
    // Users' codes are redeemed at the tenant's or the multi-tenant endpoints.
    const userTenant = knownTenant(tenant) || tenant === 'organizations' || tenant === 'common';
    if (body.grant_type === 'authorization_code' && userTenant && typeof req.body === 'object')
      return signIn.redeem(body, reply);
    if (!knownTenant(tenant))
      return aadError(
        reply,
        400,
        'invalid_request',
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
      );
    if (typeof req.body !== 'object' || req.body === null)
      return aadError(
        reply,
        400,
        'invalid_request',
        900144,
        "The request body must contain the following parameter: 'grant_type'.",
      );
    if (body.grant_type !== 'client_credentials')
      return aadError(
        reply,
        400,
        'unsupported_grant_type',
        70003,
        `The app requested an unsupported grant type '${body.grant_type ?? ''}'.`,
      );
    if (!body.client_id || body.client_id !== creds.clientId)
      return aadError(
        reply,
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${body.client_id ?? ''}' was not found in the directory '${tenantId}'.`,
      );
    const scopes = (body.scope ?? '')
      .split(/\s+/)
      .filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
    const audience =
      scopes.length === 1
        ? (Object.keys(AUDIENCES) as Array<'graph' | 'management'>).find(
            (a) => AUDIENCES[a].scope === scopes[0],
          )
        : undefined;
    if (!audience)
      return aadError(
        reply,
        400,
        'invalid_scope',
        1002012,
        `The provided value for scope ${body.scope ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    if (body.client_assertion !== undefined) {
      const problem = checkAssertion(
        body,
        `${rt.baseUrl}/${tenant}/oauth2/v2.0/token`,
        creds.clientId,
        clientCert,
        sha1,
        sha256,
      );
      if (problem) return aadError(reply, 401, 'invalid_client', problem.code, problem.message);
    } else if (body.client_secret === undefined) {
      return aadError(
        reply,
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    } else if (body.client_secret !== creds.clientSecret) {
      return aadError(
        reply,
        401,
        'invalid_client',
        7000215,
        `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${creds.clientId}'.`,
      );
    }
    const nowMs = rt.clock.now();
    const expiresIn = 3599;
    const now = Math.floor(nowMs / 1000);
    const header = { typ: 'JWT', alg: 'RS256', kid: certs.signingKid, x5t: certs.signingKid };
    const payload = {
      aud: AUDIENCES[audience].aud,
      iss: `https://sts.windows.net/${tenantId}/`,
      iat: now,
      nbf: now,
      exp: now + expiresIn,
      appid: creds.clientId,
      appidacr: body.client_assertion ? '2' : '1',
      idp: `https://sts.windows.net/${tenantId}/`,
      oid: creds.clientId,
      roles:
        audience === 'graph'
          ? [
              'Files.Read.All',
              'Files.ReadWrite.All',
              'User.Read.All',
              'GroupMember.Read.All',
              'AuditLog.Read.All',
              'TeamsActivity.Send',
            ]
          : ['ActivityFeed.Read'],
      sub: creds.clientId,
      tid: tenantId,
      uti: randomBytes(16).toString('base64url'),
      ver: '1.0',
    };
    const signingInput = `${b64url(header)}.${b64url(payload)}`;
    const signature = sign('sha256', Buffer.from(signingInput), certs.signingKeyPem).toString('base64url');
    const token = `${signingInput}.${signature}`;
    rt.tokens.set(token, { audience, expiresMs: nowMs + expiresIn * 1000 });
    reply.header('cache-control', 'no-store, no-cache');
    return { token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token };
  });
}

function checkAssertion(
  body: Record<string, string | undefined>,
  audience: string,
  clientId: string,
  cert: X509Certificate,
  sha1: string,
  sha256: string,
): { code: number; message: string } | null {
  if (body.client_assertion_type !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer')
    return {
      code: 700024,
      message: "client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
    };
  const parts = (body.client_assertion ?? '').split('.');
  if (parts.length !== 3) return { code: 50027, message: 'JWT token is invalid or malformed.' };
  let header: Record<string, unknown>;
  let payload: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    return { code: 50027, message: 'JWT token is invalid or malformed.' };
  }
  const x5t = header.x5t as string | undefined;
  const x5t256 = header['x5t#S256'] as string | undefined;
  if (x5t !== sha1 && x5t256 !== sha256)
    return {
      code: 700027,
      message: `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${x5t ?? x5t256 ?? ''}']`,
    };
  const data = Buffer.from(`${parts[0]}.${parts[1]}`);
  const sig = Buffer.from(parts[2], 'base64url');
  const key = createPublicKey(cert.publicKey.export({ format: 'pem', type: 'spki' }));
  let ok = false;
  if (header.alg === 'RS256') ok = verify('sha256', data, key, sig);
  else if (header.alg === 'PS256')
    ok = verify(
      'sha256',
      data,
      { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
      sig,
    );
  if (!ok) return { code: 700027, message: 'Client assertion failed signature validation.' };
  if (payload.iss !== clientId || payload.sub !== clientId)
    return {
      code: 700021,
      message: 'Client assertion application identifier does not match client_id parameter.',
    };
  if (
    payload.aud !== audience &&
    payload.aud !== audience.replace(/\/oauth2\/v2\.0\/token$/, '/oauth2/token')
  )
    return {
      code: 700212,
      message: `No matching federated identity record found for presented assertion audience '${String(payload.aud)}'.`,
    };
  if (typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now())
    return { code: 700024, message: 'Client assertion is not within its valid time range.' };
  return null;
}
