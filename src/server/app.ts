import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { sql } from 'kysely';
import type { Config } from '../config/config.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import { VERSION } from '../version.ts';
import type { ApiDeps } from './api/deps.ts';
import { installErrorHandlers } from './api/errors.ts';
import { registerApi } from './api/index.ts';
import { type ReviewRouteDeps, reviewRoutes } from './reviews/routes.ts';
import type { WebhookReceiver } from './webhooks/receiver.ts';
import { webhookRoutes } from './webhooks/routes.ts';

export interface ServerDeps {
  /** When given, the Graph webhook routes are mounted. */
  receiver?: WebhookReceiver;
  /** Request body limit of the webhook routes (bytes; default 1 MiB). */
  webhookBodyLimit?: number;
  /** When given, the owners' review page (needs a writable store and Graph clients). */
  reviews?: ReviewRouteDeps;
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
    logController: new LogController({ disableRequestLogging: true }),
    // Graph's notifications are small; the other routes (later) take JSON of modest size.
    bodyLimit: deps.webhookBodyLimit ?? 1024 * 1024,
  });

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
  if (deps.reviews) await reviewRoutes(app, deps.reviews);
  return app;
}
