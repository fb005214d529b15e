/**
 * createGraphClient: the Graph HTTP client. One instance per tenant/integration; it owns
 * an undici Agent, an msal application, a tenant gate per API (the pause while
 * throttled), an optional RU pacer, and a concurrency limit.
 *
 * One logical request = a loop of attempts. Each attempt: take a concurrency slot, wait
 * for the tenant gate, draw its RU from the pacer, check the gate again (it may have
 * closed meanwhile), send. Then: 2xx → parse; 401 → refresh token once; 429/503 → pause
 * the whole tenant for Retry-After (or a backoff) and retry; 408/5xx/timeouts/resets/
 * truncated JSON → back off this request and retry, when it is idempotent (a POST that may
 * have been carried out fails with outcomeUnknown instead: its caller reconciles); other
 * 4xx → GraphError at once.
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import type { Logger } from 'pino';
import { USER_AGENT } from '../version.ts';
import { type Api, createTokenProvider, isRetryableAuthError } from './auth.ts';
import { buildBatchEnvelope, MAX_BATCH, normalizeBatchResponse, type PendingSub } from './batch.ts';
import { GraphError } from './errors.ts';
import { pageFromResponse } from './paging.ts';
import { estimateRu, type RuBudget, RuPacer, type RuPriority, type RuTicket } from './ru.ts';
import { backoffDelay, parseRetryAfter, sleep, TenantGate } from './throttle.ts';
import { createTransport, type RawResponse, TransportError } from './transport.ts';
import type {
  BatchItemResponse,
  GraphClient,
  GraphClientOptions,
  GraphClientStats,
  GraphPage,
  GraphRequest,
  GraphResponse,
} from './types.ts';

export const DEFAULTS = {
  graphBaseUrl: 'https://graph.microsoft.com/v1.0',
  authorityUrl: 'https://login.microsoftonline.com',
  managementBaseUrl: 'https://manage.office.com/api/v1.0',
  timeoutMs: 60_000,
  maxRetries: 8,
  maxConcurrency: 16,
  retryBaseMs: 500,
  retryMaxDelayMs: 30_000,
} as const;

/** Statuses worth another attempt. 429/503 are throttling (the whole tenant pauses). */
function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Query parameters whose values are never logged. */
const SECRET_PARAM = /token|secret|sig|signature|password|code|key/i;

/** URL for logs: query values of token-like parameters replaced. */
export function safeUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((kv) => {
      const eq = kv.indexOf('=');
      if (eq < 0) return kv;
      const key = kv.slice(0, eq);
      return SECRET_PARAM.test(decodeURIComponentSafe(key)) ? `${key}=…` : kv;
    });
  // delta(token='…') forms carry the token in the path.
  return url.slice(0, q).replace(/token=('[^']*'|[^)/]*)/gi, 'token=…') + '?' + params.join('&');
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

interface ErrorBody {
  error?: {
    code?: string;
    message?: string;
    innerError?: Record<string, unknown>;
    innererror?: Record<string, unknown>;
  };
}

function errorInfo(body: unknown): { code?: string; message?: string; requestId?: string } {
  if (!body || typeof body !== 'object') return {};
  const e = (body as ErrorBody).error;
  if (!e || typeof e !== 'object') return {};
  const inner = e.innerError ?? e.innererror;
  const rid = inner?.['request-id'] ?? inner?.requestId;
  return {
    code: typeof e.code === 'string' ? e.code : undefined,
    message: typeof e.message === 'string' ? e.message : undefined,
    requestId: typeof rid === 'string' ? rid : undefined,
  };
}

/** Parses a response body by content type; a 2xx JSON body that does not parse is a fault. */
function parseBody(res: RawResponse): { ok: true; body: unknown } | { ok: false; reason: string } {
  const ct = res.headers['content-type'] ?? '';
  if (res.body.length === 0) {
    if (ct.includes('json') && res.status >= 200 && res.status < 300 && res.status !== 204) {
      return { ok: false, reason: 'empty JSON body' };
    }
    return { ok: true, body: undefined };
  }
  const text = () => res.body.toString('utf8');
  const looksJson =
    ct.includes('json') || (!ct && /^\s*[[{]/.test(res.body.subarray(0, 16).toString('utf8')));
  if (looksJson) {
    try {
      return { ok: true, body: JSON.parse(text()) };
    } catch (err) {
      return { ok: false, reason: `invalid JSON (${res.body.length} bytes): ${(err as Error).message}` };
    }
  }
  if (ct.startsWith('text/') || ct.includes('xml')) return { ok: true, body: text() };
  return { ok: true, body: res.body };
}

interface ExecMeta {
  /** RU this request costs (batch: sum of its sub-requests). */
  ru?: number;
  /** A token known to be refused: get a fresh one before the first attempt. */
  staleToken?: string;
  /** Out: the token the answered attempt carried. */
  usedToken?: string;
}

export function createGraphClient(options: GraphClientOptions, logger?: Logger): GraphClient {
  const graphBaseUrl = (options.graphBaseUrl ?? DEFAULTS.graphBaseUrl).replace(/\/+$/, '');
  const managementBaseUrl = (options.managementBaseUrl ?? DEFAULTS.managementBaseUrl).replace(/\/+$/, '');
  const authorityUrl = (options.authorityUrl ?? DEFAULTS.authorityUrl).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const maxRetries = options.maxRetries ?? DEFAULTS.maxRetries;
  const label = options.label ?? options.clientId;
  const backoff = {
    baseMs: options.retryBaseMs ?? DEFAULTS.retryBaseMs,
    capMs: options.retryMaxDelayMs ?? DEFAULTS.retryMaxDelayMs,
  };
  const maxConcurrency = options.maxConcurrency ?? DEFAULTS.maxConcurrency;
  const log = logger?.child({ component: 'graph', tenantId: options.tenantId, label });

  const transport = createTransport({ caPem: options.caPem, timeoutMs, connections: maxConcurrency + 2 });
  const tokens = createTokenProvider(
    { ...options, graphBaseUrl, managementBaseUrl, authorityUrl },
    transport,
    USER_AGENT,
    log,
  );
  const limit = pLimit(Math.max(1, maxConcurrency));
  const gates: Record<Api, TenantGate> = { graph: new TenantGate(), management: new TenantGate() };
  const pacer: RuBudget | undefined =
    options.ruBudget ??
    (options.ruBudgetPerMinute !== undefined
      ? new RuPacer(options.ruBudgetPerMinute, options.timeScale ?? 1, options.ruPacingMarginMs)
      : undefined);
  const counters = { requests: 0, ruSpent: 0, throttledResponses: 0, retries: 0 };
  let closed = false;

  const origins: Record<Api, string> = {
    graph: new URL(graphBaseUrl).origin,
    management: new URL(managementBaseUrl).origin,
  };

  const fail = (init: ConstructorParameters<typeof GraphError>[0]): GraphError => new GraphError(init);

  function resolveUrl(url: string, api: Api, resource?: string): string {
    if (/^https?:\/\//i.test(url)) {
      const origin = new URL(url).origin;
      if (origin !== origins[api]) {
        // Never hand the bearer token to a host that is not the API's.
        throw fail({
          status: 0,
          code: 'foreignUrl',
          message: `${label}: refusing to send a ${api} token to ${origin} (expected ${origins[api]}): ${safeUrl(url)}`,
          url,
          resource,
        });
      }
      return url;
    }
    const base = api === 'management' ? managementBaseUrl : graphBaseUrl;
    return base + (url.startsWith('/') ? url : `/${url}`);
  }

  /**
   * Reads RateLimit-* headers: when the tenant is (nearly) out of budget, wait for the reset.
   * With a pacer the client already stays under its budget, so only an exhausted budget
   * (spent by someone else too) pauses it, and never longer than one pacing window.
   */
  function noteRateLimit(api: Api, headers: Record<string, string>): void {
    const raw = headers['ratelimit-remaining'];
    const remaining = Number(raw);
    const reset = parseRetryAfter(headers['ratelimit-reset']);
    if (raw === undefined || raw === '' || !Number.isFinite(remaining) || reset === undefined) return;
    const limitHeader = Number(headers['ratelimit-limit']);
    const threshold = pacer ? 0 : Number.isFinite(limitHeader) ? Math.max(10, limitHeader * 0.02) : 10;
    if (remaining <= threshold) {
      const ms = pacer ? Math.min(reset, pacer.windowMs) : reset;
      log?.debug({ remaining, resetMs: ms }, 'graph RU nearly spent, waiting for reset');
      gates[api].pause(ms);
    }
  }

  /** One attempt: slot, gate, pacer, gate again, send. */
  function attempt(
    api: Api,
    method: string,
    url: string,
    headers: Record<string, string>,
    body: string | Buffer | undefined,
    ru: number,
    priority: RuPriority,
  ): Promise<{ res?: RawResponse; error?: TransportError; ms: number }> {
    return limit(async () => {
      const gate = gates[api];
      let ticket: RuTicket | undefined;
      for (;;) {
        await gate.wait();
        if (pacer && ru > 0 && api === 'graph') {
          ticket = await pacer.acquire(ru, priority);
          if (gate.remainingMs() > 0) {
            ticket.refund();
            continue;
          }
        }
        break;
      }
      if (closed) {
        ticket?.refund();
        throw fail({ status: 0, code: 'closed', message: `${label}: the Graph client is closed`, url });
      }
      counters.requests++;
      counters.ruSpent += ru;
      const started = Date.now();
      try {
        const res = await transport.send({ method, url, headers, body });
        return { res, ms: Date.now() - started };
      } catch (err) {
        if (err instanceof TransportError) return { error: err, ms: Date.now() - started };
        throw err;
      } finally {
        ticket?.settle();
      }
    });
  }

  async function execute<T>(req: GraphRequest, meta: ExecMeta = {}): Promise<GraphResponse<T>> {
    if (closed) throw fail({ status: 0, code: 'closed', message: `${label}: the Graph client is closed` });
    const api: Api = req.api ?? 'graph';
    const method = req.method ?? 'GET';
    const url = resolveUrl(req.url, api, req.resource);
    const ru = meta.ru ?? estimateRu(method, url, api);
    const priority: RuPriority = req.priority ?? 'normal';
    const clientRequestId = randomUUID();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    delete headers.authorization;
    headers['user-agent'] = USER_AGENT;
    headers['client-request-id'] = clientRequestId;
    headers.accept ??= 'application/json';
    let body: string | Buffer | undefined;
    if (req.body !== undefined && req.body !== null) {
      if (typeof req.body === 'string' || Buffer.isBuffer(req.body)) body = req.body;
      else {
        body = JSON.stringify(req.body);
        headers['content-type'] ??= 'application/json';
      }
    }
    const where = `${method} ${safeUrl(url)}`;
    const context = { url, resource: req.resource };
    const idempotent = req.idempotent ?? method !== 'POST';

    let retriesLeft = maxRetries;
    let refreshedAfter401 = false;
    let n = 0; // attempts made, for backoff
    let staleToken: string | undefined = meta.staleToken;
    const retry = async (delayMs: number) => {
      retriesLeft--;
      counters.retries++;
      n++;
      await sleep(delayMs);
    };

    for (;;) {
      let token: string;
      try {
        token = await tokens.getToken(api, staleToken);
        staleToken = undefined;
      } catch (err) {
        if (err instanceof GraphError && isRetryableAuthError(err) && retriesLeft > 0) {
          log?.debug({ code: err.code, attempt: n }, 'graph token failed, retrying');
          await retry(backoffDelay(n, backoff));
          continue;
        }
        throw err;
      }
      headers.authorization = `Bearer ${token}`;
      meta.usedToken = token;
      const { res, error, ms } = await attempt(api, method, url, headers, body, ru, priority);

      if (error) {
        log?.debug({ method, url: safeUrl(url), error: error.kind, ms, ru }, 'graph request failed');
        // A refused connection never carried the request: safe to send again whatever it is.
        const unsent = error.kind === 'connectionRefused';
        if (error.retryable && (idempotent || unsent) && retriesLeft > 0) {
          await retry(backoffDelay(n, backoff));
          continue;
        }
        const unknown = !idempotent && !unsent;
        throw fail({
          status: 0,
          code: error.kind,
          message: `${label}: ${where} failed${error.retryable && !unknown ? ` after ${n + 1} attempts` : ''}: ${error.message}${unknown ? ' (not retried: it may have been carried out)' : ''}`,
          outcomeUnknown: unknown,
          ...context,
        });
      }
      const r = res as RawResponse;
      const parsed = parseBody(r);
      const info = parsed.ok ? errorInfo(parsed.body) : {};
      const requestId = r.headers['request-id'] ?? info.requestId;
      log?.debug(
        { method, url: safeUrl(url), status: r.status, ms, ru, requestId, attempt: n },
        'graph request',
      );
      noteRateLimit(api, r.headers);

      if (r.status < 400) {
        if (parsed.ok) return { status: r.status, headers: r.headers, body: parsed.body as T, requestId };
        if (idempotent && retriesLeft > 0) {
          await retry(backoffDelay(n, backoff));
          continue;
        }
        throw fail({
          status: r.status,
          code: 'invalidJson',
          message: `${label}: ${where} → ${r.status} with an unreadable body after ${n + 1} attempts: ${parsed.reason}`,
          outcomeUnknown: !idempotent,
          requestId,
          ...context,
        });
      }

      if (r.status === 401 && !refreshedAfter401) {
        refreshedAfter401 = true;
        staleToken = token;
        counters.retries++;
        log?.debug({ code: info.code }, 'graph 401, refreshing the token once');
        continue;
      }

      const retryAfterMs = parseRetryAfter(r.headers['retry-after']);
      const throttled = r.status === 429 || r.status === 503;
      if (throttled) counters.throttledResponses++;
      // 429 and 503 say the request was refused, not carried out: any request may go again.
      const mayRepeat = idempotent || throttled;
      if (isRetryableStatus(r.status) && mayRepeat && retriesLeft > 0) {
        const delay = retryAfterMs ?? backoffDelay(n, backoff);
        if (throttled) {
          // The tenant is throttled: nothing of this client goes out before the deadline.
          gates[api].pause(delay);
          await retry(0);
          await gates[api].wait();
        } else {
          await retry(delay);
        }
        continue;
      }
      const code = info.code ?? (r.status === 429 ? 'TooManyRequests' : `http${r.status}`);
      const unknown = isRetryableStatus(r.status) && !mayRepeat;
      const exhausted = unknown
        ? ' (not retried: it may have been carried out)'
        : isRetryableStatus(r.status)
          ? ` after ${n + 1} attempts`
          : '';
      throw fail({
        outcomeUnknown: unknown,
        status: r.status,
        code,
        message: `${label}: ${where} → ${r.status} ${code}${exhausted}: ${info.message ?? (parsed.ok && typeof parsed.body === 'string' ? parsed.body.slice(0, 200) : 'no message')}`,
        retryAfter: retryAfterMs !== undefined ? retryAfterMs / 1000 : undefined,
        requestId,
        ...context,
      });
    }
  }

  async function* pages<T>(req: GraphRequest): AsyncGenerator<GraphPage<T>> {
    let current: GraphRequest = req;
    for (;;) {
      const res = await execute<unknown>(current);
      const page = pageFromResponse<T>(res, current, label);
      yield page;
      if (!page.nextLink) return;
      current = { ...req, method: 'GET', body: undefined, url: page.nextLink };
    }
  }

  async function batch<T>(requests: Array<GraphRequest & { id: string }>): Promise<BatchItemResponse<T>[]> {
    if (requests.length > MAX_BATCH) {
      throw fail({
        status: 0,
        code: 'batchTooLarge',
        message: `${label}: a $batch holds at most ${MAX_BATCH} requests, got ${requests.length}; split it`,
        resource: 'batch',
      });
    }
    if (requests.length === 0) return [];
    const ids = new Set<string>();
    for (const r of requests) {
      if (!r.id || ids.has(r.id)) {
        throw fail({
          status: 0,
          code: 'invalidRequest',
          message: `${label}: $batch request ids must be unique and non-empty (offending id: "${r.id}")`,
          resource: 'batch',
        });
      }
      if ((r.api ?? 'graph') !== 'graph') {
        throw fail({
          status: 0,
          code: 'invalidRequest',
          message: `${label}: only Graph requests can be batched (request "${r.id}" is ${r.api})`,
          resource: 'batch',
        });
      }
      ids.add(r.id);
    }

    const results = new Map<string, BatchItemResponse<T>>();
    const tries = new Map<string, number>();
    let pending: PendingSub[] = requests.map((r) => ({
      req: r,
      url: resolveUrl(r.url, 'graph', r.resource),
    }));
    let round = 0;
    // Graph authenticates a $batch once (its envelope: a refused token is a 401 of the whole
    // batch, refreshed once by execute). A sub-response of its own 401 is treated the same:
    // the token refreshed once, those sub-requests sent again.
    let staleToken: string | undefined;
    let refreshedAfter401 = false;
    while (pending.length > 0) {
      const envelope = buildBatchEnvelope(pending, graphBaseUrl, label);
      const ru = pending.reduce((sum, p) => sum + estimateRu(p.req.method ?? 'GET', p.url, 'graph'), 0);
      const meta: ExecMeta = { ru, staleToken };
      staleToken = undefined;
      // The envelope is retried as a whole: its sub-requests are reads (GETs, and POST
      // actions that only read, like extractSensitivityLabels).
      const res = await execute<unknown>(
        {
          method: 'POST',
          url: '/$batch',
          body: envelope,
          resource: 'batch',
          idempotent: true,
          priority: pending.every((p) => p.req.priority === 'background') ? 'background' : undefined,
        },
        meta,
      );
      const byId = normalizeBatchResponse<T>(res.body);
      const again: PendingSub[] = [];
      let gateDelay = 0;
      let ownDelay = 0;
      for (const p of pending) {
        const sub = byId.get(p.req.id);
        const status = sub?.status ?? 0;
        const throttled = status === 429 || status === 503;
        if (throttled) counters.throttledResponses++;
        const retryable = !sub || status === 429 || status === 503 || status === 504;
        const used = tries.get(p.req.id) ?? 0;
        if (status === 401 && !refreshedAfter401) {
          staleToken = meta.usedToken;
          counters.retries++;
          again.push(p);
        } else if (retryable && used < maxRetries) {
          tries.set(p.req.id, used + 1);
          counters.retries++;
          again.push(p);
          const ra = sub ? parseRetryAfter(sub.headers['retry-after']) : undefined;
          const delay = ra ?? backoffDelay(round, backoff);
          if (throttled) gateDelay = Math.max(gateDelay, delay);
          else ownDelay = Math.max(ownDelay, delay);
        } else if (sub) {
          results.set(p.req.id, sub);
        } else {
          results.set(p.req.id, {
            id: p.req.id,
            status: 502,
            headers: {},
            body: {
              error: { code: 'missingBatchResponse', message: 'no response for this id in the $batch reply' },
            } as T,
          });
        }
      }
      if (staleToken) refreshedAfter401 = true;
      if (again.length === 0) break;
      log?.debug({ retrying: again.length, gateDelay, ownDelay, round }, 'graph $batch sub-requests retried');
      // The largest Retry-After among throttled sub-responses pauses the whole tenant.
      if (gateDelay > 0) gates.graph.pause(gateDelay);
      await sleep(ownDelay);
      await gates.graph.wait();
      const stillPending = new Set(again.map((p) => p.req.id));
      pending = again.map((p) => ({
        ...p,
        dependsOn: p.req.dependsOn?.filter((d) => stillPending.has(d)),
      }));
      round++;
    }
    return requests.map((r) => results.get(r.id) as BatchItemResponse<T>);
  }

  return {
    request: execute,
    pages,
    batch,
    stats(): GraphClientStats {
      return {
        ...counters,
        throttleWaitMs: gates.graph.pausedMs + gates.management.pausedMs,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      pacer?.close();
      await transport.close();
    },
  };
}
