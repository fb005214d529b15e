/**
 * The HTTP server thread (started by host.ts through boot.mjs): the Fastify app with
 * `/healthz` and the webhook receiver, on its own event loop, so the collector's
 * synchronous work on the main thread never delays an acknowledgement. It owns its
 * connections: the inbox it writes (SQLite inbox file / PostgreSQL pool) and a read-only
 * view of the subscriptions (SQLite main file read-only, WAL / the same PostgreSQL pool).
 * It never waits for the main thread.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import { type InboxWriter, KyselyInboxStore } from '../../queue/webhook-inbox.ts';
import { openKysely, openSqlite } from '../../store/connection.ts';
import type { Database } from '../../store/schema.ts';
import { SubscriptionCache } from '../../store/subscription-cache.ts';
import { createLogger } from '../../util/logger.ts';
import type { ApiDeps } from '../api/deps.ts';
import { createMetrics } from '../api/metrics.ts';
import { ThreadCommandBus } from '../api/thread-bus.ts';
import { createServer } from '../app.ts';
import { WebhookReceiver } from '../webhooks/receiver.ts';
import { InboxWriterThread } from './inbox-writer-thread.ts';
import type { FromServerThread, ServerThreadData, ToServerThread } from './protocol.ts';

const data = workerData as ServerThreadData;
if (!parentPort) throw new Error('server-thread entry must run in a worker thread');
const port: MessagePort = parentPort;
const post = (message: FromServerThread) => port.postMessage(message);

function openDatabases(): { db: Kysely<Database>; dialect: 'sqlite' | 'postgres' } {
  const spec = data.database;
  if (spec.kind === 'sqlite') {
    const main = openSqlite(spec.mainFile, { readonly: true, busyTimeoutMs: 5000 });
    const { db } = openKysely({ dialect: 'sqlite', database: main });
    return { db, dialect: 'sqlite' };
  }
  const { db } = openKysely({
    dialect: 'postgres',
    databaseUrl: spec.databaseUrl,
    schema: spec.schema,
    maxConnections: spec.connections ?? 2,
  });
  return { db, dialect: 'postgres' };
}

/**
 * The inbox: on SQLite its file is written by a writer thread of its own (inbox-writer.ts: a
 * synchronous commit must not hold this thread's loop); on PostgreSQL through this pool (the
 * driver does not block the loop). A writer thread that dies takes this thread down with it, so
 * the supervisor starts both again.
 */
async function openInbox(): Promise<InboxWriter & { close(): Promise<void> }> {
  const spec = data.database;
  if (spec.kind === 'postgres') return new KyselyInboxStore(db);
  return InboxWriterThread.start(spec.inboxFile, {
    synchronous: spec.synchronous,
    onDeath: (err) => {
      setImmediate(() => {
        throw err;
      });
    },
  });
}

const logger = createLogger(data.logLevel);
const { db, dialect } = openDatabases();
const timings: number[] = [];
const commitMs: number[] = [];
const loopDelay = data.recordTimings ? monitorEventLoopDelay({ resolution: 5 }) : undefined;
loopDelay?.enable();
let inbox: (InboxWriter & { close(): Promise<void> }) | undefined;
const metrics = createMetrics(db);
// API changes run on the main thread (the owner of the writable store and Graph clients).
const commands = new ThreadCommandBus((message) => post(message));
const api: ApiDeps | undefined = data.api
  ? { config: data.config, db, dialect, commands, logger, metrics, webDir: data.api.webDir }
  : undefined;
const cache = new SubscriptionCache(db);
let receiver: WebhookReceiver | undefined;
let reloadTimer: NodeJS.Timeout | undefined;

/** Tells the host which start-up step runs now (its start-up limit is on silence, not on the whole start). */
const step = (name: string) => post({ type: 'starting', step: name });

/** A step that cannot hang but may be slow: said again every `progressEveryMs` while it runs. */
async function longStep<T>(name: string, run: () => Promise<T>): Promise<T> {
  step(name);
  const every = data.progressEveryMs;
  const again = every ? setInterval(() => step(name), every) : undefined;
  try {
    return await run();
  } finally {
    clearInterval(again);
  }
}

async function start(): Promise<string> {
  step('loading the subscriptions');
  await cache.load();
  // SQLite: the writer thread loads its modules as this one did.
  const opened = await longStep('starting the inbox writer', openInbox);
  inbox = opened;
  receiver = new WebhookReceiver({
    db,
    // With recordTimings, each commit is timed (the inbox insert is the thread's only write).
    inbox: data.recordTimings ? timedInbox(opened, commitMs) : opened,
    cache,
    logger,
    flushIntervalMs: data.rejectionFlushMs ?? 500,
    onPersisted: () => post({ type: 'persisted' }),
    onRejections: (counters) => post({ type: 'rejections', counters }),
  });
  // Without messages from the main thread too: deleted or changed subscriptions show up here.
  reloadTimer = setInterval(() => {
    cache.load().catch((err) => logger.warn({ err }, 'server thread: could not reload subscriptions'));
  }, data.cacheReloadMs ?? 30_000);
  reloadTimer.unref();
  step('building the server');
  const server = await createServer({
    config: data.config,
    store: { db },
    logger,
    deps: { receiver, webhookBodyLimit: data.webhookBodyLimit, api },
  });
  server.server.on('request', (req, res) => {
    if (req.method !== 'POST' || !req.url?.startsWith('/webhooks/')) return;
    const t0 = performance.now();
    res.once('finish', () => {
      const ms = performance.now() - t0;
      metrics.observeWebhookAck(ms / 1000, res.statusCode);
      if (data.recordTimings) timings.push(ms);
    });
  });
  step('listening');
  await server.listen({ host: data.host, port: data.port });
  closeServer = () => server.close();
  const address = server.server.address();
  if (!address || typeof address !== 'object') return `http://${data.host}:${data.port}`;
  return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
}

let closeServer: (() => Promise<unknown>) | undefined;
let closing: Promise<void> | undefined;

function close(): Promise<void> {
  closing ??= (async () => {
    if (reloadTimer) clearInterval(reloadTimer);
    commands.close();
    await closeServer?.().catch((err) => logger.warn({ err }, 'server thread: close failed'));
    // The last counters go to the main thread (onRejections), which writes them.
    await receiver?.close().catch(() => undefined);
    await inbox?.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    post({ type: 'closed' });
    port.close();
  })();
  return closing;
}

port.on('message', (message: ToServerThread) => {
  switch (message.type) {
    case 'subscription':
      cache.apply(message.change);
      break;
    case 'reload-subscriptions':
      cache.load().catch((err) => logger.warn({ err }, 'server thread: could not reload subscriptions'));
      break;
    case 'flush-rejections': {
      const counters = receiver?.takeRejections() ?? [];
      post({ type: 'rejections', counters, requestId: message.requestId });
      break;
    }
    case 'command-result':
      commands.settle(message.requestId, message);
      break;
    case 'graph-usage':
      metrics.setGraphUsage(message.usage);
      break;
    case 'take-timings':
      post({
        type: 'timings',
        requestId: message.requestId,
        ms: timings.splice(0),
        commitMs: commitMs.splice(0),
        loopDelayP99Ms: loopDelay ? loopDelay.percentile(99) / 1e6 : null,
        loopDelayMaxMs: loopDelay ? loopDelay.max / 1e6 : null,
      });
      loopDelay?.reset();
      break;
    case 'close':
      void close();
      break;
    case 'crash':
      setImmediate(() => {
        throw new Error(message.message);
      });
      break;
  }
});

start().then(
  (url) => post({ type: 'ready', url }),
  async (err: unknown) => {
    post({ type: 'start-failed', message: err instanceof Error ? err.message : String(err) });
    await close();
  },
);

function timedInbox(writer: InboxWriter, into: number[]): InboxWriter {
  return {
    async insert(rows) {
      const t0 = performance.now();
      try {
        return await writer.insert(rows);
      } finally {
        into.push(performance.now() - t0);
      }
    },
  };
}
