/**
 * JSON batching: the $batch envelope (relative URLs, JSON bodies) and the normalization of
 * its reply (responses come in any order, header names in any case, bodies sometimes
 * base64-encoded JSON strings).
 */
import { GraphError } from './errors.ts';
import type { BatchItemResponse, GraphRequest } from './types.ts';

export const MAX_BATCH = 20;

export interface PendingSub {
  req: GraphRequest & { id: string };
  /** Absolute URL of the sub-request. */
  url: string;
  /** dependsOn restricted to ids still in this envelope (set on re-sends). */
  dependsOn?: string[];
}

interface EnvelopeRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

/** The URL of a sub-request relative to the Graph version root ("/users?$top=5"). */
export function relativeBatchUrl(url: string, graphBaseUrl: string, label: string): string {
  if (url.startsWith(graphBaseUrl)) {
    const rest = url.slice(graphBaseUrl.length);
    if (rest === '' || rest.startsWith('/') || rest.startsWith('?'))
      return rest.startsWith('/') ? rest : `/${rest}`;
  }
  throw new GraphError({
    status: 0,
    code: 'invalidRequest',
    message: `${label}: ${url} is not under ${graphBaseUrl} and cannot go into a $batch`,
    url,
    resource: 'batch',
  });
}

export function buildBatchEnvelope(
  pending: PendingSub[],
  graphBaseUrl: string,
  label: string,
): { requests: EnvelopeRequest[] } {
  return {
    requests: pending.map((p) => {
      const r: EnvelopeRequest = {
        id: p.req.id,
        method: p.req.method ?? 'GET',
        url: relativeBatchUrl(p.url, graphBaseUrl, label),
      };
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(p.req.headers ?? {})) {
        if (k.toLowerCase() !== 'authorization') headers[k] = v;
      }
      if (p.req.body !== undefined && p.req.body !== null) {
        r.body = p.req.body;
        if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
          headers['Content-Type'] = 'application/json';
        }
      }
      if (Object.keys(headers).length > 0) r.headers = headers;
      const deps = p.dependsOn ?? p.req.dependsOn;
      if (deps && deps.length > 0) r.dependsOn = deps;
      return r;
    }),
  };
}

/** A sub-response body given as a base64 string of JSON becomes the object; anything else is kept. */
export function normalizeBatchBody(body: unknown): unknown {
  if (typeof body !== 'string') return body;
  const trimmed = body.trim();
  if (/^[A-Za-z0-9+/=\r\n_-]+$/.test(trimmed) && trimmed.length >= 4) {
    try {
      const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
      if (/^\s*[[{]/.test(decoded)) return JSON.parse(decoded);
    } catch {
      // not base64 JSON: keep the string
    }
  }
  if (/^\s*[[{]/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      // keep the string
    }
  }
  return body;
}

/** The $batch reply as a map id → response, header names lower-cased. */
export function normalizeBatchResponse<T>(body: unknown): Map<string, BatchItemResponse<T>> {
  const out = new Map<string, BatchItemResponse<T>>();
  const responses = (body as { responses?: unknown } | undefined)?.responses;
  if (!Array.isArray(responses)) return out;
  for (const r of responses) {
    if (!r || typeof r !== 'object') continue;
    const {
      id,
      status,
      headers,
      body: subBody,
    } = r as {
      id?: unknown;
      status?: unknown;
      headers?: Record<string, unknown>;
      body?: unknown;
    };
    if (typeof id !== 'string' && typeof id !== 'number') continue;
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers ?? {})) h[k.toLowerCase()] = String(v);
    out.set(String(id), {
      id: String(id),
      status: Number(status),
      headers: h,
      body: normalizeBatchBody(subBody) as T,
    });
  }
  return out;
}
