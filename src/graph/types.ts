import type { RuBudget } from './ru.ts';
/**
 * The contract of the Graph HTTP client (implemented in ./client.ts). Nothing here is
 * OneDrive-specific: collectors build URLs, the client moves bytes, pays RU and copes
 * with throttling, faults and paging.
 */

export interface GraphCredentials {
  tenantId: string;
  clientId: string;
  /** One of the two. */
  clientSecret?: string;
  /** PEM with the private key and the certificate (client_assertion). */
  certificatePem?: string;
}

export interface GraphClientOptions extends GraphCredentials {
  /** e.g. https://graph.microsoft.com/v1.0 or the simulator's graphBaseUrl. */
  graphBaseUrl?: string; // default https://graph.microsoft.com/v1.0
  /** e.g. https://login.microsoftonline.com or the simulator's authorityUrl. */
  authorityUrl?: string; // default https://login.microsoftonline.com
  /** Office 365 Management Activity API base (…/api/v1.0); token scope https://manage.office.com/.default. */
  managementBaseUrl?: string; // default https://manage.office.com/api/v1.0
  /** Extra CA certificates (PEM) to trust, for the simulator or a TLS-inspecting proxy. Never disables checks. */
  caPem?: string;
  /** Per-tenant RU budget per minute the client paces itself to (undefined = no pacing, only react to 429). */
  ruBudgetPerMinute?: number;
  /** Divides the pacing minute, to match a simulator running with timeScale. */
  timeScale?: number;
  timeoutMs?: number; // default 60_000
  maxRetries?: number; // default 8
  /** Max requests in flight to this tenant. */
  maxConcurrency?: number; // default 16
  /** Label used in errors and logs, e.g. the integration name. */
  label?: string;
  /** (added) Base of the exponential backoff when no Retry-After is given. */
  retryBaseMs?: number; // default 500
  /** (added) Cap of one backoff delay. */
  retryMaxDelayMs?: number; // default 30_000
  /** (added) Extra length added to the pacing window to absorb latency jitter (default 1 % of the window, ≥ 10 ms). */
  ruPacingMarginMs?: number;
  /**
   * Where RU are drawn from instead of an own pacer (ruBudgetPerMinute is then ignored): a budget
   * shared by every process working for the tenant (jobs/ru-budget.ts). Closed with the client.
   */
  ruBudget?: RuBudget;
}

export interface GraphRequest {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Absolute URL (nextLink/deltaLink, opaque) or a path relative to graphBaseUrl ("/users?$top=999"). */
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  /** Which API: 'graph' (default) or 'management' (different token scope). */
  api?: 'graph' | 'management';
  /** Resource type for error reports and RU accounting labels: 'users', 'items', 'permissions', … */
  resource?: string;
  /** (added) batch() only: ids of requests in the same batch that must succeed first. */
  dependsOn?: string[];
  /**
   * Whether sending it twice does no harm (default: every method but POST). A request that is
   * not gets no retry once it may have reached Graph (timeout, reset, 500/502/504, an
   * unreadable 2xx): it fails with GraphError.outcomeUnknown and the caller reconciles.
   * Refusals that prove it was not carried out (429, 503, connection refused) are retried.
   */
  idempotent?: boolean;
  /**
   * 'background': RU only from what other requests leave (see RuPriority in ru.ts). A $batch is
   * background when every sub-request is.
   */
  priority?: 'background';
}

export interface GraphResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
  requestId?: string;
}

/** One page of a collection: value plus at most one of nextLink / deltaLink. */
export interface GraphPage<T> {
  value: T[];
  nextLink?: string;
  deltaLink?: string;
  requestId?: string;
}

export interface BatchItemResponse<T = unknown> {
  id: string;
  status: number;
  headers: Record<string, string>;
  body: T;
}

export interface GraphClientStats {
  requests: number;
  ruSpent: number; // estimated with Graph's published prices (see docs/graph-behaviour.md)
  throttledResponses: number; // 429/503 seen (batch sub-requests included)
  throttleWaitMs: number; // total time the tenant was paused
  retries: number;
}

export interface GraphClient {
  /** One request, retried on 429/503/504/timeouts/resets/truncated bodies; throws GraphError otherwise. */
  request<T = unknown>(req: GraphRequest): Promise<GraphResponse<T>>;
  /** Streams pages of a collection or delta feed, following @odata.nextLink until a page has none. */
  pages<T = unknown>(req: GraphRequest): AsyncGenerator<GraphPage<T>>;
  /** Up to 20 requests in one POST /$batch; sub-requests answered 429/503 are retried until done. */
  batch<T = unknown>(requests: Array<GraphRequest & { id: string }>): Promise<BatchItemResponse<T>[]>;
  stats(): GraphClientStats;
  close(): Promise<void>;
}
