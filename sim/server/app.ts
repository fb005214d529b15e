/** The Fastify app: request ids, counting, latency, auth, faults, RU metering, error shapes, routes. */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime.ts';
import { registerAdminRoutes } from './admin.ts';
import { type AppCredentials, registerAuthRoutes } from './auth.ts';
import { registerBatchRoute } from './batch.ts';
import type { SimCerts } from './certs.ts';
import { registerDirectoryRoutes } from './directory.ts';
import { registerDriveRoutes } from './drives.ts';
import { GraphHttpError, type SimRequestState, sendError } from './errors.ts';
import { registerLabelRoutes } from './labels.ts';
import { RuMeter, resourceTypeOf, ruCost } from './metering.ts';
import { registerTeamworkRoutes } from './teamwork.ts';
import { registerTenantSettingsRoutes } from './tenant-settings.ts';

export interface BuiltApp {
  app: FastifyInstance;
  meter: RuMeter;
  /** Destroys sockets held open by the `hang` fault. */
  releaseHung(): void;
}

/** "/v1.0/drives/:driveId/root/delta" → "/drives/{id}/root/delta" */
export function templateOf(routeUrl: string | undefined): string {
  if (!routeUrl) return '(unmatched)';
  return routeUrl.replace(/^\/v1\.0/, '').replace(/:[A-Za-z]+/g, '{id}') || '/';
}

/**
 * Path-based addressing (`…/root:/a/b.docx`, `…/root:/a:/children`, `…/items/{id}:/rel/path:`)
 * as internal routes (`…/items/{id}/_bypath[/children]?__path=…`): a path holds slashes, which
 * a route parameter cannot.
 */
function rewritePathAddress(url: string): string | null {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const qs = q < 0 ? '' : url.slice(q + 1);
  const m = /^(\/v1\.0\/(?:drives\/[^/]+|users\/[^/]+\/drive))\/(root|items\/[^/:]+):(.*)$/.exec(path);
  if (!m) return null;
  const [, prefix, ref, rest] = m;
  // "/a/b" or "/a/b:" address the item; "/a/b:/children" its children.
  const sub = /^(.*?):?(\/children)?$/.exec(rest);
  if (!sub) return null;
  const itemRef = ref === 'root' ? 'root' : ref.slice('items/'.length);
  const target = `${prefix}/items/${itemRef}/_bypath${sub[2] ? '/children' : ''}`;
  const params = [`__path=${encodeURIComponent(sub[1])}`, qs].filter(Boolean).join('&');
  return `${target}?${params}`;
}

/** Rewrites the function-call delta shapes Graph hands out to the plain route, and path addressing. */
export function rewriteUrl(url: string): string {
  const byPath = rewritePathAddress(url);
  if (byPath) return byPath;
  const m = /^(.*\/(?:root|users|groups))\/(?:microsoft\.graph\.)?delta\((?:token='([^']*)')?\)(\?.*)?$/.exec(
    url,
  );
  if (!m) return url;
  const [, prefix, token, qs] = m;
  const params = qs ? qs.slice(1) : '';
  const parts = [params, token !== undefined ? `token=${token}` : ''].filter(Boolean).join('&');
  return `${prefix}/delta${parts ? `?${parts}` : ''}`;
}

export function buildApp(rt: Runtime, certs: SimCerts, creds: AppCredentials, adminSecret: string): BuiltApp {
  const hung = new Set<Socket>();
  const internalSecret = randomBytes(16).toString('hex');
  const app = Fastify({
    https: { key: certs.serverKey, cert: certs.serverCert },
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 4 * 1024 * 1024,
    rewriteUrl: (req) => rewriteUrl(req.url ?? '/'),
    routerOptions: { maxParamLength: 2000 },
  });
  const meter = new RuMeter(rt);
  app.decorateRequest('sim', null as unknown as SimRequestState);

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const inBatch = req.headers['x-sim-batch'] === internalSecret;
    const requestId = randomUUID();
    const clientRequestId =
      typeof req.headers['client-request-id'] === 'string' ? req.headers['client-request-id'] : requestId;
    req.sim = {
      requestId,
      clientRequestId,
      truncate: false,
      inBatch,
      resourceType: '',
      startedAt: Date.now(),
    };
    reply.header('request-id', requestId);
    reply.header('client-request-id', clientRequestId);
    if (req.url.startsWith('/_sim')) return;

    const counters = rt.counters;
    counters.requests++;
    const template = templateOf(req.routeOptions.url);
    const key = `${req.method} ${template}`;
    counters.requestsByEndpoint[key] = (counters.requestsByEndpoint[key] ?? 0) + 1;
    rt.logRequest(req.method, req.url, inBatch);
    if (!inBatch && rt.options.latencyMs > 0)
      await new Promise((r) => setTimeout(r, Math.random() * rt.options.latencyMs));
    if (!req.url.startsWith('/v1.0/')) return;

    if (!inBatch && Date.now() < meter.retryAfterUntil) counters.requestsDuringRetryAfter++;
    const fail = (status: number, code: string, message: string, headers: Record<string, string> = {}) =>
      sendError(req, reply, status, code, message, headers);

    const bearer = rt.checkBearer(req.headers.authorization, 'graph');
    if (bearer === 'missing') return fail(401, 'InvalidAuthenticationToken', 'Access token is empty.');
    if (bearer === 'invalid')
      return fail(401, 'InvalidAuthenticationToken', 'IDX14100: JWT is not well formed.');
    if (bearer === 'audience') return fail(401, 'InvalidAuthenticationToken', 'Invalid audience.');
    if (bearer === 'expired')
      return fail(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.', {
        'WWW-Authenticate':
          'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="invalid_token", error_description="The access token has expired."',
      });

    const isBatch = template === '/$batch';
    const query = (req.query ?? {}) as Record<string, string | string[] | undefined>;
    for (const rtype of resourceTypeOf(template, query, req.method)) {
      req.sim.resourceType ||= rtype;
      if (rt.faults.isForbidden(rtype, req.url)) {
        counters.faultsServed.forbidden403 = (counters.faultsServed.forbidden403 ?? 0) + 1;
        const directory = ['users', 'groups', 'signInActivity', 'mfa', 'organization'].includes(rtype);
        return fail(
          403,
          directory ? 'Authorization_RequestDenied' : 'accessDenied',
          directory
            ? 'Insufficient privileges to complete the operation.'
            : 'Either scp or roles claim need to be present in the token.',
        );
      }
    }

    const params = (req.params ?? {}) as Record<string, string>;
    const isDelta = template.endsWith('/root/delta');
    let driveId = params.driveId;
    if (!driveId && params.userId) {
      const u = rt.tenant.userById.get(params.userId);
      if (u && u.driveIdx >= 0) driveId = rt.tenant.drives[u.driveIdx].id;
    }
    const deltaWithToken =
      isDelta && typeof query.token === 'string' && query.token !== '' && query.token !== 'latest';
    if (isDelta) req.sim.driveId = driveId;
    const fault = rt.faults.pick({ path: req.url, deltaWithToken, driveId });
    if (fault) {
      counters.faultsServed[fault] = (counters.faultsServed[fault] ?? 0) + 1;
      switch (fault) {
        case 'throttle429': {
          counters.throttledResponses++;
          const ra = rt.faults.retryAfter(rt.options.timeScale);
          meter.noteRetryAfter(Number(ra));
          return fail(
            429,
            'TooManyRequests',
            'Too many requests. Please retry after the time in the Retry-After header.',
            {
              'Retry-After': ra,
            },
          );
        }
        case 'unavailable503': {
          counters.throttledResponses++;
          const ra = rt.faults.retryAfter(rt.options.timeScale);
          meter.noteRetryAfter(Number(ra));
          return fail(
            503,
            'serviceNotAvailable',
            'The service is temporarily unavailable. Please retry later.',
            {
              'Retry-After': ra,
            },
          );
        }
        case 'gatewayTimeout504':
          return fail(504, 'UnknownError', 'The gateway did not receive a timely response.');
        case 'expiredToken401':
          return fail(401, 'InvalidAuthenticationToken', 'Lifetime validation failed, the token is expired.');
        case 'gone410': {
          const err = driveId && rt.resyncError ? rt.resyncError(driveId, query) : null;
          if (err instanceof GraphHttpError) return fail(err.status, err.code, err.message, err.headers);
          return fail(410, 'resyncRequired', 'Resync required.');
        }
        case 'malformedItem':
          req.sim.malform = true;
          break;
        case 'malformedFolder':
          req.sim.malform = 'folder';
          break;
        case 'lostAnswer':
          if (inBatch) return fail(504, 'UnknownError', 'The gateway did not receive a timely response.');
          req.sim.loseAnswer = true;
          break;
        case 'hang':
        case 'reset':
        case 'truncated':
          if (inBatch) return fail(504, 'UnknownError', 'The gateway did not receive a timely response.');
          if (fault === 'truncated') {
            req.sim.truncate = true;
            break;
          }
          reply.hijack();
          if (fault === 'reset') req.raw.socket.destroy();
          else hung.add(req.raw.socket);
          return reply;
      }
    }
    if (isBatch) return;
    const charge = meter.charge(ruCost(req.method, template, query));
    for (const [k, v] of Object.entries(charge.headers)) reply.header(k, v);
    if (charge.throttled) {
      counters.throttledResponses++;
      return fail(
        429,
        'activityLimitReached',
        'The request has been throttled: the tenant used up its resource units for this minute.',
        {
          'Retry-After': charge.retryAfter ?? '1',
        },
      );
    }
  });

  // The delta request log: every drive delta request, with its caller and time span.
  app.addHook('onResponse', async (req, reply) => {
    const sim = req.sim;
    if (!sim?.driveId || sim.startedAt === undefined) return;
    const query = (req.query ?? {}) as Record<string, unknown>;
    const auth = String(req.headers.authorization ?? '');
    rt.deltaLog.push({
      driveId: sim.driveId,
      client: createHash('sha256').update(auth).digest('hex').slice(0, 12),
      startMs: sim.startedAt,
      endMs: Date.now(),
      status: reply.statusCode,
      withToken: typeof query.token === 'string' && query.token !== '',
      last: reply.statusCode !== 200 || !sim.nextLink,
    });
    if (rt.deltaLog.length > 200_000) rt.deltaLog.splice(0, rt.deltaLog.length - 200_000);
  });

  app.addHook('onSend', async (req, _reply, payload) => {
    if (req.sim?.driveId && typeof payload === 'string')
      req.sim.nextLink = payload.includes('"@odata.nextLink"');
    // The request was carried out; its answer never reaches the client.
    if (req.sim?.loseAnswer) req.raw.socket?.destroy();
    if (req.sim?.truncate && typeof payload === 'string' && payload.length > 1)
      return payload.slice(0, Math.max(1, Math.floor(payload.length / 2)));
    if (req.sim?.malform && typeof payload === 'string')
      return malformOneItem(payload, req.sim.malform === 'folder');
    return payload;
  });

  app.setErrorHandler((error, req, reply) => {
    if (error instanceof GraphHttpError)
      return sendError(req, reply, error.status, error.code, error.message, error.headers);
    const e = error as { statusCode?: number; message?: string; code?: string };
    const status = e.statusCode && e.statusCode >= 400 && e.statusCode < 500 ? e.statusCode : 500;
    if (status === 500) {
      process.stderr.write(
        `drivewarden sim: internal error on ${req.method} ${req.url}: ${(error as Error).stack}\n`,
      );
      return sendError(
        req,
        reply,
        500,
        'generalException',
        'An unexpected error occurred while processing the request.',
      );
    }
    const message =
      e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || /JSON/.test(e.message ?? '')
        ? 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.'
        : (e.message ?? 'Bad request');
    return sendError(req, reply, status, 'BadRequest', message);
  });

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/v1.0/')) {
      const seg = req.url.split('?')[0].split('/').filter(Boolean).pop() ?? '';
      return sendError(
        req,
        reply,
        400,
        'BadRequest',
        `Resource not found for the segment '${decodeURIComponent(seg)}'.`,
      );
    }
    return sendError(req, reply, 404, 'NotFound', `No such endpoint: ${req.method} ${req.url.split('?')[0]}`);
  });

  registerAdminRoutes(app, rt, adminSecret);
  registerAuthRoutes(app, rt, certs, creds);
  registerDirectoryRoutes(app, rt);
  registerDriveRoutes(app, rt);
  registerTenantSettingsRoutes(app, rt);
  registerLabelRoutes(app, rt);
  registerTeamworkRoutes(app, rt);
  registerBatchRoute(app, internalSecret);

  return {
    app,
    meter,
    releaseHung: () => {
      for (const s of hung) s.destroy();
      hung.clear();
    },
  };
}

/**
 * The malformedItem fault: one file entry in the middle of the page (not a folder, not a
 * tombstone) gets a field of the wrong type, as a Graph payload a client did not expect.
 */
function malformOneItem(payload: string, folder = false): string {
  let body: { value?: Array<Record<string, unknown>> };
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  const entries = body.value ?? [];
  // A folder: one whose children are in the same page, when there is one.
  const parents = new Set(entries.map((e) => (e.parentReference as { id?: string } | undefined)?.id));
  const candidates = entries
    .filter((e) => typeof e.id === 'string' && !e.root && !e.deleted && !e.folder === !folder)
    .sort((a, b) => Number(parents.has(b.id as string)) - Number(parents.has(a.id as string)));
  if (folder) {
    const victim = candidates[0];
    if (!victim) return payload;
    victim.size = 'large';
    return JSON.stringify(body);
  }
  const victim = candidates[Math.floor(candidates.length / 2)];
  if (!victim) return payload;
  victim.size = 'large';
  return JSON.stringify(body);
}
