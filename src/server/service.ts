import { join } from 'node:path';
import { type AlertsService, startAlerts } from '../app/alerts.ts';
import { localCommandBus } from '../app/commands/local-bus.ts';
import type { ServiceHooks } from '../app/commands/types.ts';
import type { AppContext } from '../app/context.ts';
import { type AppJobs, openAppJobs } from '../app/jobs.ts';
import type { SyncContext } from '../collect/context.ts';
import type { DeltaRunner, RealtimeIntegration } from '../collect/realtime/types.ts';
import type { GraphClient } from '../graph/types.ts';
import { PACKAGE_ROOT } from '../util/runtime-files.ts';
import { startActivitySchedule } from './activity-schedule.ts';
import { startAdoptingIntegrations } from './adopt-integrations.ts';
import type { GraphUsage } from './api/metrics.ts';
import { type AutoRemediationSchedule, startAutoRemediation } from './auto-remediation.ts';
import { startExposureSchedule } from './exposure-schedule.ts';
import { startHeartbeat } from './heartbeat.ts';
import { type Leadership, soleLeader, whenLeader } from './leader.ts';
import { type RealtimeHandle, startRealtime } from './realtime.ts';
import { type ReviewSchedule, startReviewSchedule } from './review-schedule.ts';
import { StartError, StartedParts } from './started-parts.ts';

/**
 * The long-running product (`drivewarden serve`): for every enabled integration a
 * catch-up collection at start (a full collection the first time, deltas from the stored
 * checkpoints after), then the real-time path — webhook receiver, Graph subscriptions,
 * inbox → debounced delta runs, and the polling safety net — all driving the collector.
 * Collection and rule evaluations are jobs (app/jobs.ts): the real-time path and the start-up
 * collection enqueue, whoever works the queue runs them — this process on SQLite (an
 * in-process queue), this process and `drivewarden worker`s on PostgreSQL (pg-boss).
 */
export interface Service {
  realtime: RealtimeHandle;
  /**
   * What the API's commands may ask of this service: an integration added or enabled gets its
   * start-up collection, real time and the activity schedule; a disabled or deleted one is no
   * longer collected; a change rules read is evaluated; Graph calls use its contexts.
   */
  hooks: ServiceHooks;
  /** Resolves when the integrations added through hooks.integrationAdded so far are collected. */
  added(): Promise<void>;
  /**
   * The queue collection and rule evaluations run through (the one given in the options, or
   * this service's in-process one); `jobs.queue.idle()` waits for the work queued so far.
   */
  jobs: AppJobs;
  /** Routing and delivery of alerts; `kick()` after anything that writes events. */
  alerts: AlertsService | null;
  /** Auto-remediation rounds after rule evaluations and on a timer (nothing unless a rule is allowed). */
  autoRemediation: AutoRemediationSchedule;
  /** Scheduled review campaigns and escalation of unanswered review items. */
  reviews: ReviewSchedule;
  /** Resolves when every integration's start-up collection has finished. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface ServiceOptions {
  listen?: { host?: string; port?: number } | false;
  /** Run the start-up collection (default true). */
  initialSync?: boolean;
  /** How often the service's row in the store (read by `drivewarden status`) is refreshed (ms, default 10 s). */
  heartbeatMs?: number;
  /** How often the audit feed is read (ms, default activity.intervalSeconds). */
  activityIntervalMs?: number;
  /** Evaluate rules after sync rounds and on schedule (default true; a given queue's jobs follow its own setting). */
  rules?: boolean;
  /** Route and deliver alerts (default true). */
  alerts?: boolean;
  /** Serve the REST API and the web app on the listener (default true). */
  api?: boolean;
  /** How often auto-remediation looks for alarms past their grace period (ms, default 60 s). */
  autoRemediationIntervalMs?: number;
  /** How often each integration's exposure is counted for the overview's trend (ms, default 1 h). */
  exposureIntervalMs?: number;
  /** How often scheduled review campaigns and escalations are looked at (ms, default 5 min). */
  reviewsIntervalMs?: number;
  /**
   * The queue to enqueue collection and rule evaluations on (PostgreSQL: pg-boss, worked by
   * `drivewarden worker`s and, unless --no-work, this process). Default: an in-process queue
   * this service opens, works and closes (the embedded mode).
   */
  jobs?: AppJobs;
  /**
   * Replicas on PostgreSQL (server/leader.ts): the API, web app and webhook receiver run here
   * whatever happens; the schedules only while this process leads. Default: the only process.
   */
  leadership?: Leadership;
  /** Replicas: how often the leader looks for integrations changed through another replica (ms, default 5 s). */
  adoptIntervalMs?: number;
}

/** Where `npm run build:web` puts the web app (web/dist at the package root). */
export const WEB_DIST = join(PACKAGE_ROOT, 'web/dist');

/**
 * Starts the service, all or nothing: when a step fails (the port is taken, the HTTP server
 * thread or the queue cannot start, …) everything started before it is closed, last started
 * first, and the step's error is thrown as a StartError naming the step.
 */
export async function startService(app: AppContext, options: ServiceOptions = {}): Promise<Service> {
  const started = new StartedParts(app.logger);
  try {
    return await assembleService(app, options, started);
  } catch (err) {
    await started.close();
    throw err instanceof StartError ? err : new StartError('the service', err);
  }
}

/** Starts each part of the service, registering in `started` how it closes. */
async function assembleService(
  app: AppContext,
  options: ServiceOptions,
  started: StartedParts,
): Promise<Service> {
  const { logger } = app;
  const rulesOn = options.rules !== false;
  const contexts = new Map<string, SyncContext>();
  const opening = new Map<string, Promise<SyncContext>>();
  const clients: GraphClient[] = [];
  /** Integrations whose start-up collection finished: only these are watched and polled. */
  const ready = new Set<string>();
  // Replicas: only the leader fills `ready` (start-up and added integrations wait for
  // leadership), so the schedules below that act on ready integrations (audit feed, exposure,
  // reviews, auto-remediation, full rule evaluations) find nothing to do on a follower.
  const leadership = options.leadership ?? soleLeader();
  let closing = false;
  let stopWaiting!: () => void;
  /** Leadership, or close() on a follower that never led (nothing left to wait for). */
  const leading = Promise.race([
    leadership.acquired,
    new Promise<void>((resolve) => {
      stopWaiting = resolve;
    }),
  ]);
  started.whenClosing(() => {
    closing = true;
    stopWaiting();
  });
  // Closed last: the Graph clients every other part may use (opened on demand by contextFor).
  started.add('the Graph clients', () => Promise.all(clients.map((c) => c.close())));
  // Alerts are routed after every collection run (changes), rule evaluation and audit-feed
  // round (finding events), and on their own timer as a safety net; by the leader only, so
  // each is delivered once.
  let alerts: AlertsService | null = null;
  if (options.alerts !== false)
    whenLeader(
      leadership,
      () => (alerts = startAlerts(app)),
      () => closing,
    );
  started.add('alerts', () => alerts?.close());
  const afterRun = () => void alerts?.kick();

  /** One context (Graph client) per integration, shared by jobs run here and the schedules. */
  const contextFor = (integrationId: string): Promise<SyncContext> => {
    const ctx = contexts.get(integrationId);
    if (ctx) return Promise.resolve(ctx);
    let open = opening.get(integrationId);
    if (!open) {
      open = (async () => {
        const integration = await app.integrations.getWithCredentials(integrationId);
        const client = app.graphClientFor(integration);
        clients.push(client);
        const opened: SyncContext = {
          store: app.store,
          client,
          integration: { ...integration },
          logger,
          concurrency: app.config.sync.concurrency,
        };
        contexts.set(integrationId, opened);
        return opened;
      })().finally(() => opening.delete(integrationId));
      opening.set(integrationId, open);
    }
    return open;
  };

  // Embedded: the queue is this process's, worked here with the collector's concurrency (each
  // tenant may use all of it; the dispatcher's round-robin still shares it between tenants).
  const ownJobs = options.jobs
    ? undefined
    : await started.start('the job queue', () =>
        openAppJobs(app, { inProcess: true, contextFor, rules: rulesOn }),
      );
  const jobs = options.jobs ?? (ownJobs as AppJobs);
  started.add('the job queue', async () => {
    // Nothing enqueues any more: the jobs in hand finish (a given queue is its owner's to close),
    // then its hooks into this service go, before alerts close.
    await ownJobs?.close();
    jobs.onChanged = undefined;
    jobs.onEvaluated = undefined;
  });
  const concurrency = app.config.sync.concurrency;
  ownJobs?.queue.work(ownJobs.all, { concurrency, perTenant: concurrency });
  const evaluate = (integrationId: string) => {
    if (rulesOn)
      void jobs
        .enqueueRules(integrationId, 'incremental')
        .catch((err) => logger.warn({ err: err.message }, 'could not queue a rule evaluation'));
  };
  // Whatever a job run here changed: alerts are routed; after an evaluation also remediated.
  jobs.onChanged = afterRun;
  jobs.onEvaluated = () => {
    afterRun();
    autoRemediation.kick();
  };

  const autoRemediation: AutoRemediationSchedule = await started.start(
    'auto-remediation',
    () =>
      startAutoRemediation({
        app,
        integrations: () => [...ready],
        contextFor,
        intervalMs: options.autoRemediationIntervalMs ?? 60_000,
        onRemediated: (integrationId) => {
          evaluate(integrationId);
          afterRun();
        },
      }),
    (schedule) => schedule.stop(),
  );

  // The overview's daily exposure counts: after each start-up collection, then hourly.
  const exposure = await started.start(
    'the exposure schedule',
    () =>
      startExposureSchedule({
        db: app.store.db,
        logger,
        integrations: () => [...ready],
        intervalMs: options.exposureIntervalMs,
      }),
    (schedule) => schedule.stop(),
  );

  const reviews = await started.start(
    'the review schedule',
    () =>
      startReviewSchedule({
        app,
        integrations: () => [...ready],
        contextFor,
        intervalMs: options.reviewsIntervalMs ?? 300_000,
      }),
    (schedule) => schedule.stop(),
  );

  const runner = queueRunner(jobs, ready);

  const integrations = async (): Promise<RealtimeIntegration[]> => {
    const list = await app.integrations.list();
    const out: RealtimeIntegration[] = [];
    for (const i of list) {
      const drives = ready.has(i.id)
        ? await app.store.db
            .selectFrom('drives')
            .select('id')
            .where('integration_id', '=', i.id)
            .where('deleted_at', 'is', null)
            .execute()
        : [];
      out.push({ id: i.id, tenantId: i.tenantId, enabled: i.enabled, driveIds: drives.map((d) => d.id) });
    }
    return out;
  };

  /**
   * The start-up collection of one integration (queued: the directory, then one job per drive,
   * then a full evaluation), then its exposure count; it is watched from then on.
   */
  const bringUp = async (integrationId: string) => {
    await jobs
      .startIntegration(integrationId)
      .then(() => logger.info({ integrationId }, 'start-up collection done'))
      .catch((err) =>
        logger.error({ integrationId, err: (err as Error).message }, 'start-up collection failed'),
      );
    ready.add(integrationId);
    void exposure.record(integrationId);
    afterRun();
    autoRemediation.kick();
  };

  // Integrations added (or enabled) while running: one after the other, after the start-up ones
  // (`startup` is assigned below, before any command can run).
  let addedChain: Promise<void> = Promise.resolve();
  const queued = new Set<string>();
  const forget = (integrationId: string) => {
    ready.delete(integrationId);
    const ctx = contexts.get(integrationId);
    contexts.delete(integrationId);
    if (ctx) void ctx.client.close().catch(() => undefined);
  };
  const hooks: ServiceHooks = {
    changed(integrationId) {
      if (integrationId) evaluate(integrationId);
      else for (const id of ready) evaluate(id);
      afterRun();
    },
    integrationAdded(integrationId) {
      // A follower leaves it to the leader, which adopts it (startAdoptingIntegrations below).
      if (closing || queued.has(integrationId) || !leadership.isLeader()) return;
      queued.add(integrationId);
      addedChain = addedChain
        .then(() => startup.catch(() => undefined))
        .then(async () => {
          try {
            const info = await app.integrations.get(integrationId);
            if (closing || !info?.enabled) return;
            // A fresh context: the integration's credentials or state may have changed.
            forget(integrationId);
            await bringUp(integrationId);
            await realtime.syncSubscriptions();
            void activity.runNow();
          } catch (err) {
            logger.error({ err, integrationId }, 'could not bring up the integration');
          } finally {
            queued.delete(integrationId);
          }
        });
    },
    integrationRemoved(integrationId) {
      forget(integrationId);
    },
    withSyncContext: async (integrationId, fn) => fn(await contextFor(integrationId)),
  };
  const graphUsage = (): GraphUsage[] =>
    [...contexts.values()].map((ctx) => {
      const stats = ctx.client.stats();
      return {
        integration: ctx.integration.name,
        ruSpent: stats.ruSpent,
        requests: stats.requests,
        throttledResponses: stats.throttledResponses,
        throttleWaitMs: stats.throttleWaitMs,
      };
    });

  const realtime = await started.start(
    options.listen === false ? 'the real-time path' : 'the HTTP server and the real-time path',
    () =>
      startRealtime({
        store: app.store,
        config: app.config,
        logger,
        graphClientFor: async (id) => (await contextFor(id)).client,
        runner,
        integrations,
        listen: options.listen,
        // The HTTP server (webhook acks) runs in its own thread with its own connections, so the
        // collector's synchronous page writes on this thread never delay an acknowledgement.
        serverThread: options.listen !== false,
        // PostgreSQL: the server thread's inbox inserts and subscription reads use their own small
        // pool (SQLite: the inbox file next to the store, and the store file read-only).
        inbox: app.config.databaseUrl
          ? { kind: 'postgres', databaseUrl: app.config.databaseUrl, schema: app.store.schema }
          : undefined,
        // Inbox, polling and subscriptions on the leader only (receiving on every replica). Also
        // one process: its first reconciliation is the one below, once its integrations are up —
        // reconciling before any drive is ready would delete every drive's subscription at each
        // restart, only to create them again after the start-up collection.
        leader: leadership.acquired,
        // The API's reads run on the server's own connection; its changes come back here as commands.
        ...(options.api === false
          ? {}
          : {
              api: {
                dialect: app.store.dialect,
                commands: localCommandBus(app, hooks),
                webDir: WEB_DIST,
                graphUsage,
              },
            }),
      }),
    (handle) => handle.close(),
  );
  if (!app.config.server.publicUrl) {
    logger.warn(
      `webhooks off: DW_PUBLIC_URL is not set, so Graph cannot reach this server; relying on polling every ${Math.round(app.config.sync.pollIntervalSeconds / 60)} min`,
    );
  }

  // `drivewarden status` runs elsewhere, with its own environment: it reads what this service does.
  await started.start(
    'the heartbeat',
    () =>
      startHeartbeat(
        app.store.db,
        () => ({
          receiverUrl: realtime.url ?? null,
          receiverUp: realtime.receiverUp(),
          publicUrl: app.config.server.publicUrl ?? null,
          webhooks: {
            enabled: realtime.subscriptions.webhooksEnabled,
            message: realtime.subscriptions.offMessage,
          },
        }),
        { intervalMs: options.heartbeatMs ?? 10_000, logger },
      ),
    (beat) => beat.stop(),
  );

  // The audit feed of every ready integration, on its own schedule (after its start-up collection).
  const activity = await started.start(
    'the audit-feed schedule',
    () =>
      startActivitySchedule({
        config: app.config,
        logger,
        integrations: () => [...ready],
        contextFor,
        intervalMs: options.activityIntervalMs,
        onRound: afterRun,
      }),
    (schedule) => schedule.stop(),
  );

  // Evaluations of what only time changes (expiries, staleness): a queued job per integration;
  // the leader enqueues (only its `ready` is filled), and the singleton key keeps one queued.
  const fullRules = rulesOn
    ? setInterval(() => {
        for (const id of ready)
          void jobs.enqueueRules(id, 'full').catch((err) => logger.warn({ err }, 'could not queue rules'));
      }, app.config.rules.fullIntervalSeconds * 1000)
    : undefined;
  fullRules?.unref();
  started.add('the full rule evaluations', () => clearInterval(fullRules));

  let adopting: { stop(): void } | undefined;
  started.whenClosing(() => adopting?.stop());
  const startup = (async () => {
    await leading;
    if (closing) return;
    if (options.initialSync === false) {
      await realtime.syncSubscriptions();
      return;
    }
    for (const info of await app.integrations.list()) {
      if (info.enabled) await bringUp(info.id);
    }
    // Subscribe the drives that just became ready.
    await realtime.syncSubscriptions();
    void activity.runNow();
    if (options.leadership && !closing)
      adopting = startAdoptingIntegrations({
        list: () => app.integrations.list(),
        running: (id) => ready.has(id) || queued.has(id),
        runningIds: () => [...ready],
        add: (id) => hooks.integrationAdded(id),
        remove: (id) => hooks.integrationRemoved(id),
        intervalMs: options.adoptIntervalMs ?? 5000,
        logger,
      });
  })();
  // Closed first: the start-up collection and the integrations being added finish.
  started.add('the start-up collection', async () => {
    await startup.catch(() => undefined);
    await addedChain;
  });

  return {
    realtime,
    hooks,
    added: () => addedChain,
    jobs,
    get alerts() {
      return alerts;
    },
    autoRemediation,
    reviews,
    ready: startup,
    /** Closes every part, last started first (the start-up collection's end is waited for). */
    close: () => started.close(),
  };
}

/**
 * The real-time path's runs become jobs (PostgreSQL: durable once queued; in process: what a
 * crash loses, the next start-up collection catches up). The directory waits for the
 * integration's start-up collection: a delta round racing its full listing would overwrite
 * what only the listing carries.
 */
function queueRunner(jobs: AppJobs, ready: Set<string>): DeltaRunner {
  return {
    async runDriveDelta(integrationId, driveId, source) {
      await jobs.enqueueDrive({ integrationId, driveId, source });
    },
    async runUsersDelta(integrationId, source) {
      if (ready.has(integrationId)) await jobs.enqueueDirectory(integrationId, 'users', source);
    },
    async runGroupsDelta(integrationId, source) {
      if (ready.has(integrationId)) await jobs.enqueueDirectory(integrationId, 'groups', source);
    },
  };
}
