import { join } from 'node:path';
import { type AlertsService, startAlerts } from '../app/alerts.ts';
import { localCommandBus } from '../app/commands/local-bus.ts';
import type { ServiceHooks } from '../app/commands/types.ts';
import type { AppContext } from '../app/context.ts';
import { type AppJobs, directoryRound } from '../app/jobs.ts';
import { type RulesScheduler, startRulesScheduler } from '../app/rules-scheduler.ts';
import type { SyncContext } from '../collect/context.ts';
import { collectGroupsDelta } from '../collect/directory-delta.ts';
import { syncDrive } from '../collect/drive-sync.ts';
import type { DeltaRunner, RealtimeIntegration, RunSource } from '../collect/realtime/types.ts';
import { syncIntegration } from '../collect/sync.ts';
import type { GraphClient } from '../graph/types.ts';
import { PACKAGE_ROOT } from '../util/runtime-files.ts';
import { startActivitySchedule } from './activity-schedule.ts';
import type { GraphUsage } from './api/metrics.ts';
import { type AutoRemediationSchedule, startAutoRemediation } from './auto-remediation.ts';
import { startExposureSchedule } from './exposure-schedule.ts';
import { startHeartbeat } from './heartbeat.ts';
import { type RealtimeHandle, startRealtime } from './realtime.ts';
import { type ReviewSchedule, startReviewSchedule } from './review-schedule.ts';

/**
 * The long-running product (`drivewarden serve`): for every enabled integration a
 * catch-up collection at start (a full collection the first time, deltas from the stored
 * checkpoints after), then the real-time path — webhook receiver, Graph subscriptions,
 * inbox → debounced delta runs, and the polling safety net — all driving the collector.
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
  /** Rule evaluations after sync rounds and on schedule; null when turned off. */
  rules: RulesScheduler | null;
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
  /** Evaluate rules after sync rounds and on schedule (default true). */
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
   * PostgreSQL with workers: collection and rule evaluations are queued as jobs (app/jobs.ts)
   * instead of run here; whoever works the queue (workers, this process) runs them.
   */
  jobs?: AppJobs;
}

/** Where `npm run build:web` puts the web app (web/dist at the package root). */
export const WEB_DIST = join(PACKAGE_ROOT, 'web/dist');

export async function startService(app: AppContext, options: ServiceOptions = {}): Promise<Service> {
  const { logger } = app;
  const contexts = new Map<string, SyncContext>();
  const clients: GraphClient[] = [];
  /** Integrations whose start-up collection finished: only these are watched and polled. */
  const ready = new Set<string>();
  // Alerts are routed after every collection run (changes), rule evaluation and audit-feed
  // round (finding events), and on their own timer as a safety net.
  const alerts = options.alerts === false ? null : startAlerts(app);
  const afterRun = () => void alerts?.kick();
  let autoRemediation: AutoRemediationSchedule | undefined;
  const jobs = options.jobs;
  if (jobs) jobs.onChanged = afterRun;
  const rules =
    options.rules === false || jobs
      ? null
      : startRulesScheduler(app, {
          onEvaluated: () => {
            afterRun();
            autoRemediation?.kick();
          },
        });

  const contextFor = async (integrationId: string): Promise<SyncContext> => {
    let ctx = contexts.get(integrationId);
    if (!ctx) {
      const integration = await app.integrations.getWithCredentials(integrationId);
      const client = app.graphClientFor(integration);
      clients.push(client);
      ctx = {
        store: app.store,
        client,
        integration: { ...integration },
        logger,
        concurrency: app.config.sync.concurrency,
      };
      contexts.set(integrationId, ctx);
    }
    return ctx;
  };

  autoRemediation = startAutoRemediation({
    app,
    integrations: () => [...ready],
    contextFor,
    intervalMs: options.autoRemediationIntervalMs ?? 60_000,
    onRemediated: (integrationId) => {
      rules?.changed(integrationId);
      afterRun();
    },
  });

  // The overview's daily exposure counts: after each start-up collection, then hourly.
  const exposure = startExposureSchedule({
    db: app.store.db,
    logger,
    integrations: () => [...ready],
    intervalMs: options.exposureIntervalMs,
  });

  const reviews = startReviewSchedule({
    app,
    integrations: () => [...ready],
    contextFor,
    intervalMs: options.reviewsIntervalMs ?? 300_000,
  });

  const historySource = (source: RunSource) => (source === 'poll' ? 'poll' : 'webhook');
  const runner: DeltaRunner = jobs
    ? queueRunner(jobs, ready)
    : {
        async runDriveDelta(integrationId, driveId, source) {
          const result = await syncDrive(await contextFor(integrationId), driveId, {
            source: historySource(source),
          });
          // A failed round changes what rules can see too (the drive's collection error).
          rules?.changed(integrationId);
          afterRun();
          // A rejected run is retried by the real-time path with the notifications kept.
          if (result.error)
            throw new Error(`drive ${driveId}: ${result.error.code}: ${result.error.message}`);
        },
        // /users/delta and /groups/delta from their deltaLinks (drives are rediscovered by full syncs).
        // Until an integration's start-up collection is done, it reads the directory itself: a
        // delta round racing its full listing would overwrite what only the listing carries.
        async runUsersDelta(integrationId, source) {
          if (!ready.has(integrationId)) return;
          // The directory schedule (poll) also re-reads the full listing when due, every user's
          // drive and the tenant configuration (app/jobs.ts directoryRound).
          await directoryRound(await contextFor(integrationId), historySource(source));
          rules?.changed(integrationId);
          afterRun();
        },
        async runGroupsDelta(integrationId, source) {
          if (!ready.has(integrationId)) return;
          await collectGroupsDelta(await contextFor(integrationId), historySource(source));
          rules?.changed(integrationId);
          afterRun();
        },
      };

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

  /** The start-up collection of one integration, then rules and subscriptions; it is watched from then on. */
  const bringUp = async (integrationId: string) => {
    if (jobs) {
      // Queued: any worker collects it (the directory here, then one job per drive).
      await jobs
        .startIntegration(integrationId)
        .catch((err) => logger.error({ err: (err as Error).message }, 'start-up collection failed'));
      ready.add(integrationId);
      afterRun();
      return;
    }
    const ctx = await contextFor(integrationId);
    try {
      const result = await syncIntegration(ctx, { mode: 'delta' });
      logger.info(
        {
          integration: ctx.integration.name,
          items: result.items,
          changes: result.changes,
          ru: result.graph.ruSpent,
        },
        `integration ${ctx.integration.name}: start-up collection done`,
      );
    } catch (err) {
      logger.error(
        { integration: ctx.integration.name, err: (err as Error).message },
        'start-up collection failed',
      );
    }
    ready.add(integrationId);
    void exposure.record(integrationId);
    // Everything once at start: a new or upgraded rule, and what time changed while stopped.
    rules?.fullSyncDone(integrationId);
    afterRun();
  };

  // Integrations added (or enabled) while running: one after the other, after the start-up ones
  // (`startup` is assigned below, before any command can run).
  let closing = false;
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
      if (integrationId) rules?.changed(integrationId);
      else for (const id of ready) rules?.changed(id);
      afterRun();
    },
    integrationAdded(integrationId) {
      if (closing || queued.has(integrationId)) return;
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

  const realtime = await startRealtime({
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
  });
  if (!app.config.server.publicUrl) {
    logger.warn(
      `webhooks off: DW_PUBLIC_URL is not set, so Graph cannot reach this server; relying on polling every ${Math.round(app.config.sync.pollIntervalSeconds / 60)} min`,
    );
  }

  // `drivewarden status` runs elsewhere, with its own environment: it reads what this service does.
  const heartbeat = await startHeartbeat(
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
  );

  // The audit feed of every ready integration, on its own schedule (after its start-up collection).
  const activity = startActivitySchedule({
    config: app.config,
    logger,
    integrations: () => [...ready],
    contextFor,
    intervalMs: options.activityIntervalMs,
    onRound: afterRun,
  });

  // Evaluations of what only time changes (expiries, staleness): a queued job per integration;
  // every replica enqueues, and the singleton key keeps one queued.
  const fullRules = jobs
    ? setInterval(() => {
        for (const id of ready)
          void jobs.enqueueRules(id, 'full').catch((err) => logger.warn({ err }, 'could not queue rules'));
      }, app.config.rules.fullIntervalSeconds * 1000)
    : undefined;
  fullRules?.unref();

  const startup = (async () => {
    if (options.initialSync === false) return;
    for (const info of await app.integrations.list()) {
      if (info.enabled) await bringUp(info.id);
    }
    // Subscribe the drives that just became ready.
    await realtime.syncSubscriptions();
    void activity.runNow();
  })();

  return {
    realtime,
    hooks,
    added: () => addedChain,
    rules,
    alerts,
    autoRemediation,
    reviews,
    ready: startup,
    async close() {
      closing = true;
      if (fullRules) clearInterval(fullRules);
      await startup.catch(() => undefined);
      await addedChain;
      await autoRemediation?.stop();
      await exposure.stop();
      await reviews.stop();
      await activity.stop();
      await rules?.close();
      await heartbeat.stop();
      await realtime.close();
      await alerts?.close();
      await Promise.all(clients.map((c) => c.close()));
    },
  };
}

/** On PostgreSQL with workers: the real-time path's runs become jobs (durable once queued). */
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
