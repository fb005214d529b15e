import type { FastifyInstance } from 'fastify';
import type { CommandBus } from '../app/commands/local-bus.ts';
import { DeltaCoordinator } from '../collect/realtime/coordinator.ts';
import { InboxWorker } from '../collect/realtime/inbox-worker.ts';
import { Poller } from '../collect/realtime/poller.ts';
import { getRealtimeStatus, type RealtimeStatus } from '../collect/realtime/status.ts';
import { type EnsureReport, SubscriptionManager } from '../collect/realtime/subscriptions.ts';
import {
  type DeltaRunner,
  type RealtimeIntegration,
  type RealtimeStore,
  realTimers,
  type Timers,
  targetFromResource,
} from '../collect/realtime/types.ts';
import type { Config } from '../config/config.ts';
import type { GraphClient } from '../graph/types.ts';
import {
  type InboxChoice,
  type InboxStore,
  inboxFileFor,
  openInbox,
  sqliteMainFile,
} from '../queue/webhook-inbox.ts';
import { SubscriptionCache } from '../store/subscription-cache.ts';
import type { Logger } from '../util/logger.ts';
import { createMetrics, type GraphUsage } from './api/metrics.ts';
import { createServer } from './app.ts';
import { NO_TIMINGS, type ServerThreadDatabase, type ServerTimings } from './thread/protocol.ts';
import { SupervisedServerThread } from './thread/supervisor.ts';
import { type RejectionCount, WebhookReceiver, writeRejections } from './webhooks/receiver.ts';

export interface StartRealtimeOptions {
  store: RealtimeStore;
  config: Config;
  logger: Logger;
  /** The Graph client of an integration (cached by the caller; called per subscription operation). */
  graphClientFor(integrationId: string): GraphClient | Promise<GraphClient>;
  /** The collector's delta entry points. */
  runner: DeltaRunner;
  /**
   * Integrations with their drives, read at start, every subscription check and every
   * poll round. List an integration's drives once its first full sync is done (that is
   * when subscriptions should start); disabled ones get their subscriptions deleted,
   * and subscriptions of integrations no longer listed are deleted too.
   */
  integrations(): Promise<RealtimeIntegration[]>;
  /**
   * Where the webhook inbox lives (see queue/webhook-inbox.ts). Default: on a SQLite store file its
   * own file next to it (`<store>-inbox.db`, own connection: acks never wait for the
   * collector's queries); on PostgreSQL and in-memory SQLite the main database's table.
   * On PostgreSQL pass `{ kind: 'postgres', databaseUrl }` so inserts get their own pool.
   * An InboxStore passed in is not closed by `close()`.
   */
  inbox?: InboxChoice;
  /** Defaults to real time; tests pass ManualTimers. */
  timers?: Timers;
  /** Where to listen (default config.server host/port); false = don't listen (inject only). */
  listen?: { host?: string; port?: number } | false;
  /**
   * Run the HTTP server (Fastify: /healthz, the webhook receiver) in its own worker thread,
   * so the collector's synchronous work on this thread never delays an acknowledgement.
   * The thread opens its own connections: the inbox it writes and a read-only view of the
   * subscriptions (SQLite store file, or PostgreSQL through `inbox: { kind: 'postgres' }`).
   * Default: in a thread whenever it listens and the database can be opened from another
   * thread (a SQLite file, PostgreSQL with `inbox.kind` 'postgres'); in-memory SQLite and
   * `listen: false` keep the server on this thread. `true` fails when a thread is impossible.
   */
  serverThread?: boolean;
  /** Record each POST's server time (headers → response finished) for `requestTimings()` (benchmarks). */
  recordRequestTimings?: boolean;
  /** Subscriptions are reconciled (created, renewed, deleted) this often (default 15 min). */
  subscriptionCheckIntervalMs?: number;
  /** Run the polling safety net (default true). */
  poll?: boolean;
  /**
   * Replicas (server/leader.ts): the inbox worker, the polling safety net and the periodic
   * subscription reconciliation start when this resolves — on the leader only, which calls
   * `syncSubscriptions()` itself once its integrations are up. Until then this process only
   * receives (its notifications wait in the shared inbox for the leader's worker).
   * Default: they start at once, with a first reconciliation.
   */
  leader?: Promise<void>;
  /** Inbox rescan interval (default 1 s; new rows also wake the worker at once). */
  inboxScanIntervalMs?: number;
  retryBaseMs?: number;
  /**
   * Serve the REST API and the web app on the same server: its reads use the server's own
   * connection, its changes run through `commands` here (the owner of the writable store).
   */
  api?: {
    dialect: 'sqlite' | 'postgres';
    commands: CommandBus;
    webDir?: string;
    /** The Graph clients' counters, sent to the server thread for /metrics every few seconds. */
    graphUsage?: () => GraphUsage[];
  };
}

export interface RealtimeHandle {
  /** The Fastify app on this thread; undefined when the server runs in its own thread. */
  server?: FastifyInstance;
  /** Whether the HTTP server runs in its own worker thread. */
  serverThread: boolean;
  /** http://host:port the server listens on (undefined when listen: false). */
  url?: string;
  /** Whether the receiver listens now (false without a listener, and while a dead server thread restarts). */
  receiverUp(): boolean;
  /** The receiver on this thread; undefined when the server runs in its own thread. */
  receiver?: WebhookReceiver;
  /** The durable webhook inbox the receiver writes and the worker reads. */
  inbox: InboxStore;
  coordinator: DeltaCoordinator;
  worker: InboxWorker;
  poller: Poller;
  subscriptions: SubscriptionManager;
  cache: SubscriptionCache;
  /** Resolves with the first reconciliation of subscriptions (never rejects; with `leader`: [] once leading, the service reconciles). */
  firstSync: Promise<EnsureReport[]>;
  /** Reconciles subscriptions with `integrations()` now. */
  syncSubscriptions(): Promise<EnsureReport[]>;
  /** Deletes an integration's subscriptions at once (disable/delete); its polling stops at the next round. */
  removeIntegration(integrationId: string): Promise<void>;
  status(integrationId?: string): Promise<RealtimeStatus>;
  /** Server times of the POSTs since the last call (ms), with `recordRequestTimings`. */
  requestTimings(): Promise<ServerTimings>;
  /** Stops timers, the server, runs in flight; unprocessed inbox rows stay for the next start. */
  close(): Promise<void>;
}

/**
 * Starts the whole real-time path for `drivewarden serve`: the Fastify server with
 * `/healthz` and the webhook receiver, the inbox worker (inbox → debounced delta runs,
 * lifecycle events), the subscription manager (reconciled at start and every
 * `subscriptionCheckIntervalMs`), and the polling safety net.
 *
 *   const rt = await startRealtime({ store, config, logger, graphClientFor, runner, integrations });
 *   …
 *   await rt.close();
 */
export async function startRealtime(options: StartRealtimeOptions): Promise<RealtimeHandle> {
  const threadDb =
    options.serverThread === false || options.listen === false
      ? undefined
      : await serverThreadDatabase(options.store.db, options.inbox);
  if (options.serverThread === true && !threadDb) {
    throw new Error(
      options.listen === false
        ? 'serverThread needs a listening server (listen is false)'
        : 'serverThread needs a database another thread can open: a SQLite file, or PostgreSQL with inbox { kind: "postgres", databaseUrl }',
    );
  }
  // With the server in its own thread, the thread inserts through its own pool; this thread
  // only reads and marks rows, through the main instance.
  const choice = threadDb?.kind === 'postgres' ? { kind: 'main' as const } : options.inbox;
  const inbox = await openInbox(options.store.db, choice);
  const ownsInbox = !(options.inbox && 'insert' in options.inbox);
  try {
    return await start(options, inbox, ownsInbox, threadDb);
  } catch (err) {
    if (ownsInbox) await inbox.close().catch(() => undefined);
    throw err;
  }
}

/** How a server thread would reach the databases, or undefined when it cannot (in-memory SQLite). */
async function serverThreadDatabase(
  db: StartRealtimeOptions['store']['db'],
  choice: InboxChoice | undefined,
): Promise<ServerThreadDatabase | undefined> {
  if (choice?.kind === 'postgres')
    return { kind: 'postgres', databaseUrl: choice.databaseUrl, schema: choice.schema };
  if (choice?.kind === 'main') return undefined;
  const mainFile = await sqliteMainFile(db);
  if (!mainFile) return undefined;
  if (choice && 'insert' in choice) {
    return choice.kind === 'sqlite-file' && choice.location !== ':memory:'
      ? { kind: 'sqlite', mainFile, inboxFile: choice.location }
      : undefined;
  }
  if (choice?.kind === 'sqlite') {
    if (choice.file === ':memory:') return undefined;
    return { kind: 'sqlite', mainFile, inboxFile: choice.file, synchronous: choice.synchronous };
  }
  return { kind: 'sqlite', mainFile, inboxFile: inboxFileFor(mainFile) };
}

async function start(
  options: StartRealtimeOptions,
  inbox: InboxStore,
  ownsInbox: boolean,
  threadDb: ServerThreadDatabase | undefined,
): Promise<RealtimeHandle> {
  const { store, config, logger, runner } = options;
  const db = store.db;
  const timers = options.timers ?? realTimers;
  const cache = new SubscriptionCache(db, () => timers.now());
  await cache.load();
  logger.debug({ inbox: inbox.location }, 'webhook inbox');

  const coordinator = new DeltaCoordinator({
    db,
    inbox,
    runner,
    logger,
    timers,
    debounceMs: config.sync.debounceMs,
    concurrencyPerIntegration: config.sync.concurrency,
    retryBaseMs: options.retryBaseMs,
  });
  // Seed "last synced" from the database so a restart does not poll everything at once.
  for (const st of await db
    .selectFrom('realtime_sync_state')
    .selectAll()
    .where('last_success_at', 'is not', null)
    .execute()) {
    const target = targetFromResource(st.integration_id, st.resource);
    if (target && st.last_success_at) coordinator.seedLastSuccess(target, Date.parse(st.last_success_at));
  }

  const subscriptions = new SubscriptionManager({
    db,
    cache,
    logger,
    publicUrl: config.server.publicUrl,
    pollIntervalSeconds: config.sync.pollIntervalSeconds,
    graphClientFor: options.graphClientFor,
    now: () => timers.now(),
  });
  const worker = new InboxWorker({
    db,
    inbox,
    coordinator,
    lifecycle: subscriptions,
    logger,
    timers,
    scanIntervalMs: options.inboxScanIntervalMs,
    retryBaseMs: options.retryBaseMs,
  });
  const poller = new Poller({
    coordinator,
    integrations: options.integrations,
    logger,
    timers,
    pollIntervalMs: config.sync.pollIntervalSeconds * 1000,
    directoryIntervalMs: config.sync.directoryIntervalSeconds * 1000,
    groups: Boolean(runner.runGroupsDelta),
  });

  let url: string | undefined;
  let receiver: WebhookReceiver | undefined;
  let server: FastifyInstance | undefined;
  let thread: SupervisedServerThread | undefined;
  // Rejection counters handed over by the server thread, written here (off its hot path).
  const rejections = new Map<string, RejectionCount>();
  let rejectionTimer: NodeJS.Timeout | undefined;
  const flushThreadRejections = async () => {
    if (rejections.size === 0) return;
    const counters = [...rejections.values()];
    rejections.clear();
    try {
      await writeRejections(db, counters);
    } catch (err) {
      for (const c of counters) addRejections(rejections, [c]);
      throw err;
    }
  };
  const host = options.listen === false ? undefined : (options.listen?.host ?? config.server.host);
  const port = options.listen === false ? undefined : (options.listen?.port ?? config.server.port);
  let unsubscribe: (() => void) | undefined;
  let usageTimer: NodeJS.Timeout | undefined;
  const timings: number[] = [];
  if (threadDb && host !== undefined && port !== undefined) {
    // Restarted with backoff when it dies; the process exits (code 1) when it keeps dying.
    thread = await SupervisedServerThread.start({
      config,
      database: threadDb,
      host,
      port,
      logLevel: logger.level,
      recordTimings: options.recordRequestTimings,
      logger,
      onPersisted: () => worker.wake(),
      onRejections: (counters) => addRejections(rejections, counters),
      ...(options.api ? { api: { webDir: options.api.webDir }, commands: options.api.commands } : {}),
    });
    url = thread.url;
    const t = thread;
    if (options.api?.graphUsage) {
      const usage = options.api.graphUsage;
      usageTimer = setInterval(() => t.graphUsage(usage()), 5000);
      usageTimer.unref();
    }
    unsubscribe = cache.onChange((change) => t.subscriptionChanged(change));
    rejectionTimer = setInterval(() => {
      flushThreadRejections().catch((err) =>
        logger.warn({ err }, 'could not store webhook rejection counters'),
      );
    }, 1000);
    rejectionTimer.unref();
    logger.debug({ url }, 'HTTP server running in its own thread');
  } else {
    receiver = new WebhookReceiver({
      db,
      inbox,
      cache,
      logger,
      now: () => timers.now(),
      onPersisted: () => worker.wake(),
    });
    const metrics = options.api ? createMetrics(store.db) : undefined;
    server = await createServer({
      config,
      store,
      logger,
      deps: {
        receiver,
        ...(options.api && metrics
          ? {
              api: {
                config,
                db: store.db,
                dialect: options.api.dialect,
                commands: options.api.commands,
                logger,
                metrics,
                webDir: options.api.webDir,
              },
            }
          : {}),
      },
    });
    if (metrics && options.api?.graphUsage) {
      const usage = options.api.graphUsage;
      usageTimer = setInterval(() => metrics.setGraphUsage(usage()), 5000);
      usageTimer.unref();
    }
    if (options.recordRequestTimings) {
      server.server.on('request', (req, res) => {
        if (req.method !== 'POST') return;
        const t0 = performance.now();
        res.once('finish', () => timings.push(performance.now() - t0));
      });
    }
    if (host !== undefined && port !== undefined) {
      // A port already taken: the app built for it closes (its plugins' timers, the receiver).
      const built = server;
      await built.listen({ host, port }).catch(async (err: unknown) => {
        if (usageTimer) clearInterval(usageTimer);
        await built.close().catch(() => undefined);
        await receiver?.close().catch(() => undefined);
        throw err;
      });
      const address = server.server.address();
      if (address && typeof address === 'object') {
        url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      }
    }
  }
  let syncing: Promise<EnsureReport[]> | undefined;
  const syncSubscriptions = (): Promise<EnsureReport[]> => {
    syncing ??= (async () => {
      const reports: EnsureReport[] = [];
      try {
        const list = await options.integrations();
        const listed = new Set(list.map((i) => i.id));
        for (const integration of list) {
          try {
            if (integration.enabled)
              reports.push(await subscriptions.ensure(integration, integration.driveIds));
            else await subscriptions.removeAll(integration.id);
          } catch (err) {
            logger.warn({ err, integrationId: integration.id }, 'subscription reconciliation failed');
          }
        }
        // Integrations that were deleted: their subscriptions go too.
        const known = await db
          .selectFrom('graph_subscriptions')
          .select('integration_id')
          .distinct()
          .execute();
        for (const { integration_id } of known) {
          if (!listed.has(integration_id))
            await subscriptions.removeAll(integration_id).catch(() => undefined);
        }
      } catch (err) {
        logger.warn({ err }, 'subscription reconciliation failed');
      } finally {
        syncing = undefined;
      }
      return reports;
    })();
    return syncing;
  };

  let closed = false;
  let checkTimer: unknown;
  const scheduleCheck = () => {
    if (closed) return;
    checkTimer = timers.setTimeout(
      () => {
        void syncSubscriptions().finally(scheduleCheck);
      },
      options.subscriptionCheckIntervalMs ?? 15 * 60_000,
    );
  };
  /** What runs once across replicas: draining the inbox, polling, reconciling subscriptions. */
  const runSchedules = (): void => {
    worker.start();
    if (options.poll !== false) poller.start();
  };
  let firstSync: Promise<EnsureReport[]>;
  if (options.leader) {
    // A new leader's first reconciliation is the service's, once it has brought its
    // integrations up: before that no drive is listed, and reconciling would delete every
    // drive's subscription only to create it again.
    firstSync = options.leader.then(() => {
      if (closed) return [];
      runSchedules();
      scheduleCheck();
      return [];
    });
  } else {
    runSchedules();
    firstSync = syncSubscriptions();
    void firstSync.finally(scheduleCheck);
  }
  if (!subscriptions.webhooksEnabled) logger.warn(subscriptions.offMessage);

  return {
    server,
    serverThread: thread !== undefined,
    url,
    receiverUp: () => (thread ? thread.alive : server !== undefined),
    receiver,
    inbox,
    coordinator,
    worker,
    poller,
    subscriptions,
    cache,
    firstSync,
    syncSubscriptions,
    async removeIntegration(integrationId) {
      await subscriptions.removeAll(integrationId);
    },
    async status(integrationId) {
      // The thread's latest counts first (a short wait for it; it never waits for us).
      await thread?.flushRejections();
      return getRealtimeStatus(db, {
        now: () => timers.now(),
        coordinator,
        pendingRejections: () =>
          receiver
            ? receiver.pendingRejections()
            : [...rejections.values()].map(({ integrationId, reason, count }) => ({
                integrationId,
                reason,
                count,
              })),
        webhooks: { enabled: subscriptions.webhooksEnabled, message: subscriptions.offMessage },
        integrationId,
        inbox,
      });
    },
    async requestTimings() {
      // On this thread the inbox commits and the loop are the collector's: not measured here.
      return thread ? thread.takeTimings() : { ...NO_TIMINGS, ms: timings.splice(0) };
    },
    async close() {
      closed = true;
      if (checkTimer !== undefined) timers.clearTimeout(checkTimer);
      poller.stop();
      unsubscribe?.();
      await server?.close();
      // The thread hands over its last rejection counters before it ends.
      await thread?.close();
      if (rejectionTimer) clearInterval(rejectionTimer);
      if (usageTimer) clearInterval(usageTimer);
      await worker.close();
      await coordinator.close();
      await receiver?.close().catch((err) => logger.warn({ err }, 'could not store rejection counters'));
      await flushThreadRejections().catch((err) =>
        logger.warn({ err }, 'could not store rejection counters'),
      );
      if (ownsInbox) await inbox.close().catch((err) => logger.warn({ err }, 'could not close the inbox'));
    },
  };
}

function addRejections(into: Map<string, RejectionCount>, counters: RejectionCount[]): void {
  for (const c of counters) {
    const key = `${c.integrationId}\u0000${c.reason}`;
    const known = into.get(key);
    if (known) {
      known.count += c.count;
      known.lastAt = Math.max(known.lastAt, c.lastAt);
    } else into.set(key, { ...c });
  }
}
