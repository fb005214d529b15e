import type { FastifyInstance } from 'fastify';
import { DeltaCoordinator } from '../collect/realtime/coordinator.ts';
import { type InboxChoice, type InboxStore, openInbox } from '../collect/realtime/inbox-store.ts';
import { InboxWorker } from '../collect/realtime/inbox-worker.ts';
import { Poller } from '../collect/realtime/poller.ts';
import { getRealtimeStatus, type RealtimeStatus } from '../collect/realtime/status.ts';
import { SubscriptionCache } from '../collect/realtime/subscription-cache.ts';
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
import type { Logger } from '../util/logger.ts';
import { createServer } from './app.ts';
import { WebhookReceiver } from './webhooks/receiver.ts';

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
   * Where the webhook inbox lives (see inbox-store.ts). Default: on a SQLite store file its
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
  /** Subscriptions are reconciled (created, renewed, deleted) this often (default 15 min). */
  subscriptionCheckIntervalMs?: number;
  /** Run the polling safety net (default true). */
  poll?: boolean;
  /** Inbox rescan interval (default 1 s; new rows also wake the worker at once). */
  inboxScanIntervalMs?: number;
  retryBaseMs?: number;
}

export interface RealtimeHandle {
  server: FastifyInstance;
  /** http://host:port the server listens on (undefined when listen: false). */
  url?: string;
  receiver: WebhookReceiver;
  /** The durable webhook inbox the receiver writes and the worker reads. */
  inbox: InboxStore;
  coordinator: DeltaCoordinator;
  worker: InboxWorker;
  poller: Poller;
  subscriptions: SubscriptionManager;
  cache: SubscriptionCache;
  /** Resolves with the first reconciliation of subscriptions (never rejects). */
  firstSync: Promise<EnsureReport[]>;
  /** Reconciles subscriptions with `integrations()` now. */
  syncSubscriptions(): Promise<EnsureReport[]>;
  /** Deletes an integration's subscriptions at once (disable/delete); its polling stops at the next round. */
  removeIntegration(integrationId: string): Promise<void>;
  status(integrationId?: string): Promise<RealtimeStatus>;
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
  const inbox = await openInbox(options.store.db, options.inbox);
  const ownsInbox = !(options.inbox && 'insert' in options.inbox);
  try {
    return await start(options, inbox, ownsInbox);
  } catch (err) {
    if (ownsInbox) await inbox.close().catch(() => undefined);
    throw err;
  }
}

async function start(
  options: StartRealtimeOptions,
  inbox: InboxStore,
  ownsInbox: boolean,
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
  const receiver = new WebhookReceiver({
    db,
    inbox,
    cache,
    logger,
    now: () => timers.now(),
    onPersisted: () => worker.wake(),
  });
  const server = await createServer({ config, store, logger, deps: { receiver } });
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
  if (options.listen !== false) {
    const host = options.listen?.host ?? config.server.host;
    const port = options.listen?.port ?? config.server.port;
    await server.listen({ host, port });
    const address = server.server.address();
    if (address && typeof address === 'object') {
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
    }
  }
  worker.start();
  if (options.poll !== false) poller.start();

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
  const firstSync = syncSubscriptions();
  void firstSync.finally(scheduleCheck);
  if (!subscriptions.webhooksEnabled) logger.warn(subscriptions.offMessage);

  return {
    server,
    url,
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
    status: (integrationId) =>
      getRealtimeStatus(db, {
        now: () => timers.now(),
        coordinator,
        pendingRejections: () => receiver.pendingRejections(),
        webhooks: { enabled: subscriptions.webhooksEnabled, message: subscriptions.offMessage },
        integrationId,
        inbox,
      }),
    async close() {
      closed = true;
      if (checkTimer !== undefined) timers.clearTimeout(checkTimer);
      poller.stop();
      await server.close();
      await worker.close();
      await coordinator.close();
      await receiver.close().catch((err) => logger.warn({ err }, 'could not store rejection counters'));
      if (ownsInbox) await inbox.close().catch((err) => logger.warn({ err }, 'could not close the inbox'));
    },
  };
}
