/** POST /v1.0/$batch: ≤20 sub-requests, each routed, counted, metered and throttled on its own. */
import type { FastifyInstance } from 'fastify';
import { GraphHttpError } from './errors.ts';

interface SubRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

const KEEP_HEADERS = [
  'content-type',
  'retry-after',
  'location',
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'preference-applied',
];

function validate(body: unknown): SubRequest[] {
  if (!body || typeof body !== 'object' || !Array.isArray((body as { requests?: unknown }).requests))
    throw new GraphHttpError(400, 'BadRequest', 'Invalid batch payload format.');
  const reqs = (body as { requests: unknown[] }).requests;
  if (reqs.length === 0)
    throw new GraphHttpError(400, 'BadRequest', 'Invalid batch payload format: no requests.');
  if (reqs.length > 20)
    throw new GraphHttpError(
      400,
      'BadRequest',
      `Too many requests in the batch: ${reqs.length}; at most 20 are allowed.`,
    );
  const ids = new Set<string>();
  const out: SubRequest[] = [];
  for (const [k, r] of reqs.entries()) {
    if (!r || typeof r !== 'object')
      throw new GraphHttpError(
        400,
        'BadRequest',
        `Invalid batch payload format: requests[${k}] is not an object.`,
      );
    const s = r as Record<string, unknown>;
    if (typeof s.id !== 'string' || s.id === '')
      throw new GraphHttpError(400, 'BadRequest', `Invalid batch payload format: requests[${k}] has no id.`);
    if (ids.has(s.id))
      throw new GraphHttpError(400, 'BadRequest', `Batch request id '${s.id}' is used more than once.`);
    ids.add(s.id);
    if (
      typeof s.method !== 'string' ||
      !['GET', 'POST', 'PATCH', 'PUT', 'DELETE'].includes(s.method.toUpperCase())
    )
      throw new GraphHttpError(
        400,
        'BadRequest',
        `Invalid batch payload format: requests[${k}] has an invalid method.`,
      );
    if (typeof s.url !== 'string' || s.url === '' || /^https?:/i.test(s.url))
      throw new GraphHttpError(
        400,
        'BadRequest',
        `Invalid batch payload format: requests[${k}].url must be a relative URL.`,
      );
    if (s.headers !== undefined && (typeof s.headers !== 'object' || s.headers === null))
      throw new GraphHttpError(
        400,
        'BadRequest',
        `Invalid batch payload format: requests[${k}].headers must be an object.`,
      );
    if (
      s.dependsOn !== undefined &&
      (!Array.isArray(s.dependsOn) || s.dependsOn.some((x) => typeof x !== 'string'))
    )
      throw new GraphHttpError(
        400,
        'BadRequest',
        `Invalid batch payload format: requests[${k}].dependsOn must be an array of ids.`,
      );
    out.push({
      id: s.id,
      method: s.method.toUpperCase(),
      url: s.url,
      headers: s.headers as Record<string, string> | undefined,
      body: s.body,
      dependsOn: s.dependsOn as string[] | undefined,
    });
  }
  for (const r of out)
    for (const dep of r.dependsOn ?? [])
      if (!ids.has(dep) || dep === r.id)
        throw new GraphHttpError(400, 'BadRequest', `Request '${r.id}' depends on unknown request '${dep}'.`);
  const done = new Set<string>();
  let progress = true;
  while (progress && done.size < out.length) {
    progress = false;
    for (const r of out)
      if (!done.has(r.id) && (r.dependsOn ?? []).every((d) => done.has(d))) {
        done.add(r.id);
        progress = true;
      }
  }
  if (done.size < out.length)
    throw new GraphHttpError(400, 'BadRequest', 'The dependsOn references of the batch form a cycle.');
  return out;
}

export function registerBatchRoute(app: FastifyInstance, internalSecret: string): void {
  app.post('/v1.0/$batch', async (req) => {
    const subs = validate(req.body);
    const results = new Map<
      string,
      { id: string; status: number; headers: Record<string, string>; body: unknown }
    >();
    const pending = [...subs];
    while (pending.length > 0) {
      for (let k = 0; k < pending.length; ) {
        const s = pending[k];
        const deps = s.dependsOn ?? [];
        if (!deps.every((d) => results.has(d))) {
          k++;
          continue;
        }
        pending.splice(k, 1);
        const failed = deps.find((d) => {
          const st = results.get(d)!.status;
          return st < 200 || st >= 300;
        });
        if (failed) {
          results.set(s.id, {
            id: s.id,
            status: 424,
            headers: { 'Content-Type': 'application/json' },
            body: {
              error: {
                code: 'FailedDependency',
                message: `Request '${s.id}' was not run because request '${failed}' it depends on failed.`,
              },
            },
          });
          continue;
        }
        const url = `/v1.0${s.url.startsWith('/') ? '' : '/'}${s.url}`;
        const headers: Record<string, string> = {};
        for (const [h, v] of Object.entries(s.headers ?? {})) headers[h.toLowerCase()] = String(v);
        if (req.headers.authorization) headers.authorization = req.headers.authorization;
        headers['x-sim-batch'] = internalSecret;
        const hasBody = s.body !== undefined && s.method !== 'GET' && s.method !== 'DELETE';
        if (hasBody && !headers['content-type']) headers['content-type'] = 'application/json';
        const res = await app.inject({
          method: s.method as 'GET',
          url,
          headers,
          payload: hasBody ? (typeof s.body === 'string' ? s.body : JSON.stringify(s.body)) : undefined,
        });
        const out: Record<string, string> = {};
        for (const [h, v] of Object.entries(res.headers)) {
          if (!KEEP_HEADERS.includes(h.toLowerCase()) || v === undefined) continue;
          const name =
            h.toLowerCase() === 'content-type'
              ? 'Content-Type'
              : h.toLowerCase() === 'retry-after'
                ? 'Retry-After'
                : h;
          out[name] = String(v);
        }
        let body: unknown;
        if (res.body.length > 0) {
          try {
            body = JSON.parse(res.body);
          } catch {
            body = res.body;
          }
        }
        // Graph authenticates a $batch once, with the envelope's Authorization header (sub-
        // requests carry none): a token refused while the batch runs fails the whole batch
        // with 401, as for any request, never one sub-response.
        if (res.statusCode === 401) {
          const error = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
          throw new GraphHttpError(
            401,
            error?.code ?? 'InvalidAuthenticationToken',
            error?.message ?? 'Access token validation failure.',
          );
        }
        results.set(s.id, { id: s.id, status: res.statusCode, headers: out, body });
      }
    }
    // Graph answers in any order; keep the request order, dependents after their dependencies.
    return { responses: [...results.values()] };
  });
}
