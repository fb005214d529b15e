/**
 * Client-credentials tokens through @azure/msal-node's ConfidentialClientApplication.
 *
 * - One msal application per Graph client; one token per API (Graph and the Office 365
 *   Management API have different scopes). msal caches them; on top of that we keep the
 *   current token per API and de-duplicate concurrent acquisitions (single flight), so 16
 *   parallel requests at start-up cost one token request, and a 401 storm one refresh.
 * - msal's HTTP goes through our own INetworkModule on the client's undici Agent, so the
 *   extra CA (caPem) and the timeout apply to the authority too (msal-node 7 has no
 *   agent options; its default client is the global fetch, which ignores our CA).
 * - For an authority that is not a Microsoft cloud (the simulator), msal gets
 *   `knownAuthorities` (skips instance discovery) and `authorityMetadata` (skips the
 *   OpenID configuration request), so the first request it sends is the token request.
 * - Failures become GraphError 401 with code invalid_client / invalid_tenant /
 *   authority_unreachable / tls_error, naming tenant and label, never the secret.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  type AuthError,
  ConfidentialClientApplication,
  type Configuration,
  type INetworkModule,
  LogLevel,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import type { Logger } from 'pino';
import { GraphError } from './errors.ts';
import { type Transport, TransportError } from './transport.ts';
import type { GraphClientOptions } from './types.ts';

export type Api = 'graph' | 'management';

const MICROSOFT_AUTHORITY_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoft.com',
  'login.windows.net',
  'sts.windows.net',
  'login.microsoftonline.us',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
]);
const GRAPH_HOSTS = new Set([
  'graph.microsoft.com',
  'graph.microsoft.us',
  'dod-graph.microsoft.us',
  'microsoftgraph.chinacloudapi.cn',
]);
const MANAGEMENT_HOSTS = new Set([
  'manage.office.com',
  'manage-gcc.office.com',
  'manage.office365.us',
  'manage.protection.apps.mil',
  'manage.protection.partner.outlook.cn',
]);

/** The token scope for an API: the national cloud's resource when the base URL is one, else the public cloud's. */
export function scopeFor(api: Api, baseUrl: string): string {
  const u = new URL(baseUrl);
  if (api === 'graph') {
    return `${GRAPH_HOSTS.has(u.hostname) ? u.origin : 'https://graph.microsoft.com'}/.default`;
  }
  return `${MANAGEMENT_HOSTS.has(u.hostname) ? u.origin : 'https://manage.office.com'}/.default`;
}

/** What msal-node 7 needs for a certificate credential, from one PEM holding key + certificate. */
export function certificateCredential(pem: string): {
  thumbprintSha256: string;
  privateKey: string;
  x5c: string;
} {
  const certMatch = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
  const keyMatch = /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]+?-----END \1PRIVATE KEY-----/.exec(pem);
  if (!certMatch || !keyMatch) {
    throw new Error('certificatePem must hold both a PRIVATE KEY and a CERTIFICATE block (PEM)');
  }
  const cert = new X509Certificate(certMatch[0]);
  const key = createPrivateKey(keyMatch[0]);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error(`certificatePem: the private key must be RSA (got ${key.asymmetricKeyType})`);
  }
  if (!cert.checkPrivateKey(key))
    throw new Error('certificatePem: the private key does not match the certificate');
  return {
    thumbprintSha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
    privateKey: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    x5c: certMatch[0],
  };
}

/** msal's INetworkModule on our transport. The last transport failure is kept for error reports. */
class MsalNetworkClient implements INetworkModule {
  lastFailure: TransportError | undefined;
  constructor(
    private readonly transport: Transport,
    private readonly userAgent: string,
  ) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(
    method: string,
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent, ...(options?.headers ?? {}) };
    let res: Awaited<ReturnType<Transport['send']>>;
    try {
      res = await this.transport.send({
        method,
        url,
        headers,
        body: options?.body ?? (method === 'POST' ? '' : undefined),
        timeoutMs: timeout,
      });
    } catch (err) {
      if (err instanceof TransportError) this.lastFailure = err;
      throw err;
    }
    const text = res.body.toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? {} : JSON.parse(text);
    } catch {
      // msal reads error/error_description from the body; give it something it understands.
      body = {
        error: res.status >= 500 ? 'temporarily_unavailable' : 'invalid_response',
        error_description: `the authority answered ${res.status} with a body that is not JSON`,
      };
    }
    return { status: res.status, headers: res.headers, body: body as T };
  }
}

export interface TokenProvider {
  /**
   * A bearer token for the API. With `stale` (the token a request was refused with), a new
   * one is fetched unless another caller already replaced it.
   */
  getToken(api: Api, stale?: string): Promise<string>;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Error codes of token failures that a retry may cure (the authority was not reachable or said "later"). */
export function isRetryableAuthError(err: GraphError): boolean {
  return err.code === 'authority_unreachable' || err.code === 'temporarily_unavailable';
}

export function createTokenProvider(
  options: GraphClientOptions & { graphBaseUrl: string; authorityUrl: string; managementBaseUrl: string },
  transport: Transport,
  userAgent: string,
  logger?: Logger,
): TokenProvider {
  const { tenantId, clientId, clientSecret, certificatePem } = options;
  const label = options.label ?? clientId;
  if (!tenantId) throw new Error('GraphClientOptions.tenantId is required');
  if (!clientId) throw new Error('GraphClientOptions.clientId is required');
  if (!clientSecret === !certificatePem) {
    throw new Error(`GraphClientOptions for ${label}: give exactly one of clientSecret or certificatePem`);
  }

  const authorityBase = options.authorityUrl.replace(/\/+$/, '');
  const authority = `${authorityBase}/${tenantId}`;
  const authorityUrl = new URL(authority);
  if (authorityUrl.protocol !== 'https:') {
    throw new Error(`authorityUrl must be https (msal refuses anything else): ${options.authorityUrl}`);
  }
  const network = new MsalNetworkClient(transport, userAgent);
  const auth: Configuration['auth'] = { clientId, authority };
  if (clientSecret) auth.clientSecret = clientSecret;
  else if (certificatePem) auth.clientCertificate = certificateCredential(certificatePem);
  if (!MICROSOFT_AUTHORITY_HOSTS.has(authorityUrl.hostname)) {
    auth.knownAuthorities = [authorityUrl.host];
    auth.authorityMetadata = JSON.stringify({
      authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
      token_endpoint: `${authority}/oauth2/v2.0/token`,
      end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
      issuer: `${authority}/v2.0`,
      jwks_uri: `${authority}/discovery/v2.0/keys`,
    });
  }
  const app = new ConfidentialClientApplication({
    auth,
    system: {
      networkClient: network,
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message) => {
          if (level <= LogLevel.Warning) logger?.debug({ tenantId, label, msal: message }, 'msal');
        },
      },
    },
  });

  const cache = new Map<Api, CachedToken>();
  const inflight = new Map<Api, Promise<string>>();
  const scopes: Record<Api, string> = {
    graph: scopeFor('graph', options.graphBaseUrl),
    management: scopeFor('management', options.managementBaseUrl),
  };

  const scrub = (s: string): string => (clientSecret ? s.split(clientSecret).join('[redacted]') : s);

  const toGraphError = (err: unknown, api: Api): GraphError => {
    const failure = network.lastFailure;
    const a = err as Partial<AuthError> & { errorNo?: string; status?: number };
    const errorCode = typeof a.errorCode === 'string' ? a.errorCode : '';
    const raw =
      typeof a.errorMessage === 'string' && a.errorMessage ? a.errorMessage : String(a.message ?? err);
    const description = /Description: ([\s\S]*?)( - Correlation ID:|$)/.exec(raw)?.[1] ?? raw;
    // Entra appends trace/correlation ids and a timestamp to the description: noise in our message.
    const shortDescription = description.replace(/\s*Trace ID:[\s\S]*$/, '');
    const aadsts = /AADSTS(\d+)/.exec(raw)?.[1] ?? a.errorNo;
    let code: string;
    let detail: string;
    if (
      failure &&
      (errorCode === 'network_error' || !errorCode || /endpoints_resolution|openid_config/.test(errorCode))
    ) {
      code = failure.kind === 'tlsError' ? 'tls_error' : 'authority_unreachable';
      detail =
        failure.kind === 'tlsError'
          ? `${failure.message} (is the authority's CA in caPem?)`
          : `${authorityBase} unreachable: ${failure.message}`;
    } else if (
      aadsts === '90002' ||
      errorCode === 'invalid_tenant' ||
      /tenant .* not found/i.test(description)
    ) {
      code = 'invalid_tenant';
      detail = shortDescription;
    } else if (
      errorCode === 'invalid_client' ||
      errorCode === 'unauthorized_client' ||
      ['7000215', '7000222', '700016', '700027', '7000216'].includes(aadsts ?? '')
    ) {
      code = 'invalid_client';
      detail = shortDescription;
    } else if (errorCode === 'network_error' || /endpoints_resolution|openid_config/.test(errorCode)) {
      code = 'authority_unreachable';
      detail = `${authorityBase} unreachable: ${description}`;
    } else {
      code = errorCode || 'auth_failed';
      detail = shortDescription;
    }
    return new GraphError({
      status: 401,
      code,
      message: scrub(`token request for tenant ${tenantId} (${label}, ${api}) failed: ${code}: ${detail}`),
      resource: 'token',
      url: `${authority}/oauth2/v2.0/token`,
    });
  };

  const acquire = async (api: Api, force: boolean): Promise<string> => {
    network.lastFailure = undefined;
    const started = Date.now();
    try {
      const result = await app.acquireTokenByClientCredential({ scopes: [scopes[api]], skipCache: force });
      if (!result?.accessToken) throw new Error('the authority returned no access token');
      const expiresAt = result.expiresOn ? result.expiresOn.getTime() : Date.now() + 3_000_000;
      cache.set(api, { token: result.accessToken, expiresAt });
      logger?.debug(
        { tenantId, label, api, ms: Date.now() - started, refreshed: force },
        'graph token acquired',
      );
      return result.accessToken;
    } catch (err) {
      const ge = toGraphError(err, api);
      logger?.debug({ tenantId, label, api, code: ge.code }, 'graph token failed');
      throw ge;
    }
  };

  return {
    getToken(api, stale) {
      const current = cache.get(api);
      const fresh = current && current.expiresAt - Date.now() > 120_000;
      if (current && fresh && current.token !== stale) return Promise.resolve(current.token);
      const pending = inflight.get(api);
      if (pending) return pending;
      const force = stale !== undefined && current?.token === stale;
      const p = acquire(api, force).finally(() => inflight.delete(api));
      inflight.set(api, p);
      return p;
    },
  };
}
