import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { sql } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import { VERSION } from '../version.ts';
import type { ApiDeps } from './api/deps.ts';
import { installErrorHandlers } from './api/errors.ts';
import { registerApi } from './api/index.ts';
import { apiReviewDeps } from './reviews/api-deps.ts';
import { type ReviewRouteDeps, reviewRoutes } from './reviews/routes.ts';
import { webRoutes } from './web.ts';
import type { WebhookReceiver } from './webhooks/receiver.ts';
import { webhookRoutes } from './webhooks/routes.ts';

export interface ServerDeps {
  /** When given, the Graph webhook routes are mounted. */
  receiver?: WebhookReceiver;
  /** Request body limit of the webhook routes (bytes; default 256 KiB, see webhooks/routes.ts). */
  webhookBodyLimit?: number;
  /** When given, the owners' review page; with api deps and without these, it is mounted on the API's. */
  reviews?: ReviewRouteDeps;
  /** Time a request (headers and body) may take to arrive (ms, default 10 s). */
  requestTimeoutMs?: number;
  /** When given, the REST API (/api/v1, /openapi.json, /docs) with sign-in and roles. */
  api?: ApiDeps;
}

export interface CreateServerOptions {
  config: Config;
  /** The main database (the server thread's own read-only instance there). */
  store: Pick<Store, 'db'>;
  logger: Logger;
  deps?: ServerDeps;
}

/**
 * The Fastify app: `GET /healthz`, with a receiver the Graph webhook routes, with api deps
 * the REST API and the web app. Not
 * listening yet: call `app.listen({ host: config.server.host, port: config.server.port })`.
 * Per-request logging is off (notification bursts would flood the log); errors are logged.
 */
export async function createServer(options: CreateServerOptions): Promise<FastifyInstance> {
  const { store, logger, deps = {} } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Behind a load balancer: request.ip is the client's address from X-Forwarded-For.
    trustProxy: fastifyTrustProxy(options.config.server.trustProxy),
    logController: new LogController({ disableRequestLogging: true }),
    // Graph's notifications are small; the other routes (later) take JSON of modest size.
    bodyLimit: deps.webhookBodyLimit ?? 1024 * 1024,
    // A request must arrive whole within this time: slow bodies do not hold connections.
    // Node checks it every connectionsCheckingInterval (30 s by default: too coarse).
    requestTimeout: deps.requestTimeoutMs ?? 10_000,
    http: {
      connectionsCheckingInterval: Math.min(1000, Math.max(100, (deps.requestTimeoutMs ?? 10_000) / 2)),
    },
  });

  // Node enforces requestTimeout only when headersTimeout is not longer than it.
  app.server.headersTimeout = Math.min(app.server.headersTimeout, deps.requestTimeoutMs ?? 10_000);
  installErrorHandlers(app);
  // First: the access hook it installs must see every route registered after it.
  if (deps.api) await registerApi(app, deps.api);

  app.get('/healthz', { config: { access: 'public' } }, async (_request, reply) => {
    let database: 'ok' | 'error' = 'ok';
    try {
      await sql`select 1`.execute(store.db);
    } catch {
      database = 'error';
    }
    return reply.code(database === 'ok' ? 200 : 503).send({
      status: database === 'ok' ? 'ok' : 'degraded',
      version: VERSION,
      database,
      uptimeSeconds: Math.round(process.uptime()),
    });
  });

  if (deps.receiver) {
    await webhookRoutes(app, { receiver: deps.receiver, logger, bodyLimit: deps.webhookBodyLimit });
  }
  const reviews = deps.reviews ?? (deps.api ? apiReviewDeps(deps.api) : undefined);
  if (reviews) await reviewRoutes(app, reviews);
  // Last: its catch-all GET route yields to every route above.
  if (deps.api?.webDir) await webRoutes(app, { webDir: deps.api.webDir });
  return app;
}

/** A hop count as proxy-addr takes it: the nearest `hops` addresses are proxies. */
function fastifyTrustProxy(
  value: Config['server']['trustProxy'],
): boolean | string[] | ((addr: string, i: number) => boolean) {
  return typeof value === 'number' ? (_addr, i) => i < value : value;
}
