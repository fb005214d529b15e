/**
 * Test support for the Graph client: a real local HTTPS server (certificate signed by a CA made
 * on the spot) that plays the Entra token endpoint and scripted Graph responses, and
 * records what arrived and when.
 */
import {
  constants,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  verify,
  X509Certificate,
} from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

export interface Pki {
  caCert: string;
  serverKey: string;
  serverCert: string;
}

/** A throwaway CA and a server certificate for 127.0.0.1 signed by it (EC keys: fast). */
export async function makePki(): Promise<Pki> {
  const now = new Date(Date.now() - 60_000);
  const later = new Date(Date.now() + 86_400_000);
  const ca = await generate([{ name: 'commonName', value: 'drivewarden test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: later,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: later,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] },
    ],
  });
  return { caCert: ca.cert, serverKey: server.private, serverCert: server.cert };
}

/** A self-signed RSA client certificate + key in one PEM (what certificatePem holds). */
export async function makeClientCertificatePem(): Promise<{ pem: string; cert: string }> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const res = await generate([{ name: 'commonName', value: 'drivewarden app' }], {
    keyPair: { privateKey: keyPem, publicKey: pubPem },
    algorithm: 'sha256',
  });
  return { pem: `${keyPem}\n${res.cert}`, cert: res.cert };
}

export interface Recorded {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  at: number;
}

export interface TokenRequestRecord {
  tenant: string;
  scope: string;
  clientId: string;
  credential: 'secret' | 'assertion';
}

export type GraphHandler = (req: Recorded, res: ServerResponse, n: number) => void | Promise<void>;

export interface FakeGraph {
  url: string;
  authorityUrl: string;
  graphBaseUrl: string;
  managementBaseUrl: string;
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** Graph/management requests that reached the handler (token requests excluded). */
  requests: Recorded[];
  tokenRequests: TokenRequestRecord[];
  /** Tokens still accepted; clear it to make every token "expired". */
  validTokens: Map<string, string>;
  /** Certificate whose key must sign client assertions (PEM), when testing certificate credentials. */
  trustedClientCert?: string;
  handler: GraphHandler;
  /** Graph requests handled so far (the `n` given to the handler); tests reset it. */
  count: number;
  close(): Promise<void>;
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'request-id': headers['request-id'] ?? randomUUID(),
    ...headers,
  });
  res.end(text);
}

export function graphError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const requestId = headers['request-id'] ?? randomUUID();
  json(
    res,
    status,
    { error: { code, message, innerError: { 'request-id': requestId } } },
    { ...headers, 'request-id': requestId },
  );
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function b64urlJson(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Checks a client assertion JWT (PS256 or RS256) against a certificate, like Entra does. */
function verifyAssertion(jwt: string, certPem: string, audience: string): string | undefined {
  const [h, p, s] = jwt.split('.');
  if (!h || !p || !s) return 'malformed assertion';
  const header = b64urlJson(h);
  const payload = b64urlJson(p);
  const cert = new X509Certificate(certPem);
  const key = createPublicKey(certPem);
  const data = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  let ok: boolean;
  if (header.alg === 'PS256') {
    ok = verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
    const x5t = Buffer.from(cert.fingerprint256.replace(/:/g, ''), 'hex').toString('base64url');
    if (header['x5t#S256'] !== x5t) return `x5t#S256 ${String(header['x5t#S256'])} does not match ${x5t}`;
  } else if (header.alg === 'RS256') {
    ok = verify('sha256', data, key, sig);
  } else return `unsupported alg ${String(header.alg)}`;
  if (!ok) return 'bad signature';
  if (payload.aud !== audience) return `aud ${String(payload.aud)} is not ${audience}`;
  return undefined;
}

export async function startFakeGraph(pki: Pki, opts: { tenantId?: string } = {}): Promise<FakeGraph> {
  const tenantId = opts.tenantId ?? '11111111-2222-3333-4444-555555555555';
  const clientId = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  const clientSecret = 'sup3r-s3cret-value~XYZ';
  const state: Omit<FakeGraph, 'url' | 'authorityUrl' | 'graphBaseUrl' | 'managementBaseUrl' | 'close'> = {
    tenantId,
    clientId,
    clientSecret,
    requests: [],
    tokenRequests: [],
    validTokens: new Map(),
    handler: (_req, res) => json(res, 200, { ok: true }),
    count: 0,
  };

  const server: Server = createServer({ key: pki.serverKey, cert: pki.serverCert }, async (req, res) => {
    const body = await readBody(req);
    const url = req.url ?? '/';
    const path = url;
    const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const tokenMatch = /^\/([^/]+)\/oauth2\/v2\.0\/token(\?|$)/.exec(url);
    if (tokenMatch && req.method === 'POST') {
      const form = new URLSearchParams(body);
      const tenant = decodeURIComponent(tokenMatch[1]);
      const assertion = form.get('client_assertion');
      state.tokenRequests.push({
        tenant,
        scope: form.get('scope') ?? '',
        clientId: form.get('client_id') ?? '',
        credential: assertion ? 'assertion' : 'secret',
      });
      if (tenant !== tenantId) {
        json(res, 400, {
          error: 'invalid_request',
          error_description: `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID.`,
          error_codes: [90002],
        });
        return;
      }
      if (form.get('client_id') !== clientId) {
        json(res, 400, {
          error: 'unauthorized_client',
          error_description: `AADSTS700016: Application with identifier '${form.get('client_id')}' was not found in the directory.`,
          error_codes: [700016],
        });
        return;
      }
      if (assertion) {
        const problem = state.trustedClientCert
          ? verifyAssertion(assertion, state.trustedClientCert, `${origin}/${tenant}/oauth2/v2.0/token`)
          : 'no certificate registered';
        if (problem) {
          json(res, 401, {
            error: 'invalid_client',
            error_description: `AADSTS700027: Client assertion failed signature validation: ${problem}`,
            error_codes: [700027],
          });
          return;
        }
      } else if (form.get('client_secret') !== clientSecret) {
        json(res, 401, {
          error: 'invalid_client',
          error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
          error_codes: [7000215],
        });
        return;
      }
      const token = `tok-${randomUUID()}`;
      state.validTokens.set(token, form.get('scope') ?? '');
      json(res, 200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: token });
      return;
    }
    if (/\/\.well-known\/openid-configuration(\?|$)/.test(url)) {
      const t = url.split('/')[1];
      json(res, 200, {
        authorization_endpoint: `${origin}/${t}/oauth2/v2.0/authorize`,
        token_endpoint: `${origin}/${t}/oauth2/v2.0/token`,
        issuer: `${origin}/${t}/v2.0`,
        jwks_uri: `${origin}/${t}/discovery/v2.0/keys`,
      });
      return;
    }

    const rec: Recorded = { method: req.method ?? 'GET', path, headers: req.headers, body, at: Date.now() };
    state.requests.push(rec);
    const auth = req.headers.authorization ?? '';
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!state.validTokens.has(token)) {
      graphError(res, 401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
      return;
    }
    state.count++;
    try {
      await state.handler(rec, res, state.count);
    } catch (err) {
      if (!res.headersSent) graphError(res, 500, 'testHandlerFailed', String(err));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  const fake = state as FakeGraph;
  fake.url = url;
  fake.authorityUrl = url;
  fake.graphBaseUrl = `${url}/v1.0`;
  fake.managementBaseUrl = `${url}/api/v1.0`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
