import { z } from 'zod';
import type { SyncContext } from '../collect/context.ts';
import { collectUsers } from '../collect/directory.ts';
import { collectGroupsDelta, collectUsersDelta, usersListingDue } from '../collect/directory-delta.ts';
import { syncDrive } from '../collect/drive-sync.ts';
import { discoverDrives } from '../collect/drives.ts';
import { syncIntegration } from '../collect/sync.ts';
import { refreshTenantConfig } from '../collect/tenant-config.ts';
import type { GraphClient } from '../graph/types.ts';
import { MemoryBackend } from '../jobs/memory-backend.ts';
import { PgBossBackend } from '../jobs/pgboss-backend.ts';
import { createJobQueue } from '../jobs/queue.ts';
import type { JobKind, JobQueue } from '../jobs/types.ts';
import { StaleEvaluationError } from '../rules/cursor.ts';
import { ensureItemIndexes } from '../store/deferred-indexes.ts';
import {
  driveKey,
  type ExclusiveLocks,
  LocalLocks,
  PgAdvisoryLocks,
  runExclusive,
} from '../store/exclusive.ts';
import type { AppContext } from './context.ts';
import { RuleExecutors } from './rule-executors.ts';
import { evaluateForService } from './rules.ts';

/**
 * The work of `serve` as jobs (app/ wiring over jobs/): what a `drivewarden worker` (and a
 * `serve` that works jobs) runs, and what `serve` enqueues on PostgreSQL instead of running.
 *
 * | kind | singleton key | priority |
 * |---|---|---|
 * | drive.delta: one drive's delta run (webhook, lifecycle, poll, or part of a start-up collection) | the drive | webhook/lifecycle 30, poll 20, start-up 10 |
 * | directory.delta: users (with the directory schedule's re-reads) or groups | the integration and resource | 25 |
 * | integration.sync: a start-up collection (directory, drives discovered, then one drive.delta per drive) | the integration | 15 |
 * | rules.evaluate: an incremental or full evaluation | the integration and mode | 5 |
 *
 * An incremental evaluation is queued `rules.debounceMs` ahead: the changes of a burst of runs
 * are evaluated once. A full one follows each start-up collection (and the service's timer).
 * Drive runs and evaluations run under store/exclusive.ts: never two at once for one drive
 * (or one integration's rules), in any process.
 */
export const PRIORITY = { realtime: 30, directory: 25, poll: 20, startup: 15, fullDrive: 10, rules: 5 };

const Source = z.enum(['webhook', 'lifecycle', 'poll', 'full']);
const DrivePayload = z.object({
  integrationId: z.string().min(1),
  driveId: z.string().min(1),
  source: Source,
});
const DirectoryPayload = z.object({
  integrationId: z.string().min(1),
  resource: z.enum(['users', 'groups']),
  source: Source,
});
const IntegrationPayload = z.object({ integrationId: z.string().min(1) });
const RulesPayload = z.object({ integrationId: z.string().min(1), mode: z.enum(['full', 'incremental']) });

export type DriveJob = z.infer<typeof DrivePayload>;

export interface AppJobs {
  queue: JobQueue;
  kinds: {
    drive: JobKind<DriveJob>;
    directory: JobKind<z.infer<typeof DirectoryPayload>>;
    integration: JobKind<z.infer<typeof IntegrationPayload>>;
    rules: JobKind<z.infer<typeof RulesPayload>>;
  };
  /** Every kind, for `queue.work`. */
  all: Array<JobKind<never>>;
  enqueueDrive(job: DriveJob): Promise<string | null>;
  enqueueDirectory(
    integrationId: string,
    resource: 'users' | 'groups',
    source: DriveJob['source'],
  ): Promise<string | null>;
  enqueueRules(integrationId: string, mode: 'full' | 'incremental'): Promise<string | null>;
  /**
   * Queues an integration's start-up collection; resolves when it finished: pg-boss (by polling
   * its state) once the directory is read and the drives' jobs queued; in process once the
   * integration's drives and its full evaluation ran too.
   */
  startIntegration(integrationId: string): Promise<void>;
  /** Called after a job changed what rules and alerts read (serve kicks its alert routing). */
  onChanged?: (integrationId: string) => void;
  /** Called after a rule evaluation ran in this process (serve kicks alerts and auto-remediation). */
  onEvaluated?: (integrationId: string) => void;
  close(): Promise<void>;
}

export interface AppJobsOptions {
  /** The process cannot keep its exclusive runs safe any more (lost lock session): it must stop. */
  onLocksLost?: (err: Error) => void;
  /** pg-boss's schema (default `pgboss_<store schema>` or `pgboss`). */
  bossSchema?: string;
  /** Seconds before an active job of a dead worker goes back to the queue (default 15 min; tests shorten it). */
  leaseSeconds?: number;
  maintenanceIntervalSeconds?: number;
  /** The queue in this process's memory whatever the store: a service that does all its work itself. */
  inProcess?: boolean;
  /** Where jobs get an integration's Graph client and store (default: contexts of their own). */
  contextFor?: (integrationId: string) => Promise<SyncContext>;
  /** Evaluate rules after collection (default true). */
  rules?: boolean;
}

const historySource = (s: DriveJob['source']) => (s === 'poll' ? 'poll' : s === 'full' ? 'delta' : 'webhook');

/** Opens the queue of this app: pg-boss on PostgreSQL, in memory on SQLite (or when `inProcess`). */
export async function openAppJobs(app: AppContext, options: AppJobsOptions = {}): Promise<AppJobs> {
  const { store, logger } = app;
  const pg = store.dialect === 'postgres' && store.databaseUrl;
  const backend =
    pg && !options.inProcess
      ? await PgBossBackend.open({
          databaseUrl: store.databaseUrl as string,
          schema: options.bossSchema ?? (store.schema ? `pgboss_${store.schema}` : 'pgboss'),
          maintenanceIntervalSeconds: options.maintenanceIntervalSeconds,
          logger,
        })
      : new MemoryBackend();
  const locks: ExclusiveLocks = pg
    ? await PgAdvisoryLocks.open(store.databaseUrl as string, store.schema ?? 'public', (err) => {
        logger.error({ err: err.message }, 'the advisory-lock connection was lost');
        options.onLocksLost?.(err);
      })
    : new LocalLocks();
  const queue = createJobQueue(backend, logger);
  const contexts = new Map<string, Promise<SyncContext>>();
  const clients: GraphClient[] = [];
  const executors = new RuleExecutors(app);
  const lease = options.leaseSeconds;
  const evaluateRules = options.rules !== false;
  const inProcess = backend instanceof MemoryBackend;

  const ownContext = (integrationId: string): Promise<SyncContext> => {
    let ctx = contexts.get(integrationId);
    if (!ctx) {
      ctx = (async () => {
        const integration = await app.integrations.getWithCredentials(integrationId);
        const client = app.graphClientFor(integration);
        clients.push(client);
        return {
          store,
          client,
          integration: { ...integration },
          logger,
          concurrency: app.config.sync.concurrency,
        };
      })();
      contexts.set(integrationId, ctx);
      ctx.catch(() => contexts.delete(integrationId));
    }
    return ctx;
  };
  const contextFor = options.contextFor ?? ownContext;

  const jobs: AppJobs = {
    queue,
    kinds: {} as AppJobs['kinds'],
    all: [],
    enqueueDrive: (job) =>
      queue.enqueue(jobs.kinds.drive, job, {
        tenant: job.integrationId,
        priority:
          job.source === 'poll'
            ? PRIORITY.poll
            : job.source === 'full'
              ? PRIORITY.fullDrive
              : PRIORITY.realtime,
        singletonKey: `${job.integrationId}:${job.driveId}`,
      }),
    enqueueDirectory: (integrationId, resource, source) =>
      queue.enqueue(
        jobs.kinds.directory,
        { integrationId, resource, source },
        { tenant: integrationId, priority: PRIORITY.directory, singletonKey: `${integrationId}:${resource}` },
      ),
    enqueueRules: (integrationId, mode) =>
      queue.enqueue(
        jobs.kinds.rules,
        { integrationId, mode },
        {
          tenant: integrationId,
          priority: PRIORITY.rules,
          singletonKey: `${integrationId}:${mode}`,
          delayMs: mode === 'incremental' ? app.config.rules.debounceMs : undefined,
        },
      ),
    async startIntegration(integrationId) {
      const id = await queue.enqueue(
        jobs.kinds.integration,
        { integrationId },
        { tenant: integrationId, priority: PRIORITY.startup, singletonKey: integrationId },
      );
      if (!(backend instanceof PgBossBackend)) {
        // In process the integration's queue drains when its drives are collected: the full
        // evaluation runs on all of them (pg-boss: queued behind them, it may overtake the last).
        await queue.idle(integrationId);
        // A first collection's drives wrote without the API's sort indexes (store/deferred-indexes.ts).
        await ensureItemIndexes(store);
        if (!evaluateRules) return;
        await jobs.enqueueRules(integrationId, 'full');
        return queue.idle(integrationId);
      }
      if (!id) return;
      for (;;) {
        const state = await backend.state(`dw_tenant_${integrationId.replace(/[^A-Za-z0-9_.-]/g, '_')}`, id);
        if (state === 'completed' || state === 'failed' || state === 'cancelled' || state === undefined)
          return;
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async close() {
      await queue.close();
      await executors.close();
      await locks.close();
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    },
  };
  const changed = (integrationId: string) => {
    if (evaluateRules)
      void jobs
        .enqueueRules(integrationId, 'incremental')
        .catch((err) => logger.warn({ err: err.message }, 'could not queue a rule evaluation'));
    jobs.onChanged?.(integrationId);
  };

  jobs.kinds.drive = {
    name: 'drive.delta',
    schema: DrivePayload,
    expireInSeconds: lease,
    async handler({ integrationId, driveId, source }) {
      const ctx = await contextFor(integrationId);
      const outcome = await runExclusive(
        store.db,
        locks,
        driveKey(integrationId, driveId),
        source,
        async (src) => syncDrive(ctx, driveId, { source: historySource(src as DriveJob['source']) }),
      );
      if (!outcome.ran) return; // the holder runs it again
      // In process a start-up collection's drives are evaluated once, fully, after the last.
      if (source === 'full' && inProcess) jobs.onChanged?.(integrationId);
      else changed(integrationId);
      // Recorded in the store either way; retried unless Files.Read.All is missing (a drive_item
      // error: only an admin's consent helps, and the poll tries again).
      const e = outcome.result.error;
      if (e && e.resourceType === 'drive_sync') throw new Error(`drive ${driveId}: ${e.code}: ${e.message}`);
    },
  };
  jobs.kinds.directory = {
    name: 'directory.delta',
    schema: DirectoryPayload,
    expireInSeconds: lease,
    async handler({ integrationId, resource, source }) {
      const ctx = await contextFor(integrationId);
      await runExclusive(store.db, locks, `directory:${integrationId}:${resource}`, source, async (src) => {
        if (resource === 'groups') return collectGroupsDelta(ctx, historySource(src as DriveJob['source']));
        return directoryRound(ctx, src === 'poll' ? 'poll' : 'webhook');
      });
      changed(integrationId);
    },
  };
  jobs.kinds.integration = {
    name: 'integration.sync',
    schema: IntegrationPayload,
    expireInSeconds: lease,
    async handler({ integrationId }) {
      const info = await app.integrations.get(integrationId);
      if (!info?.enabled) return;
      const ctx = await contextFor(integrationId);
      // The directory, tenant settings and drive discovery here; each drive as its own job, so
      // every worker takes part and a dead worker loses one drive's run, not the collection.
      const outcome = await runExclusive(store.db, locks, `integration:${integrationId}`, 'full', () =>
        syncIntegration(ctx, { mode: 'delta', items: false }),
      );
      // Another worker is collecting it (this job's lease ran out under it): it queues the drives.
      if (!outcome.ran) return;
      const drives = await store.db
        .selectFrom('drives')
        .select('id')
        .where('integration_id', '=', integrationId)
        .where('deleted_at', 'is', null)
        .execute();
      for (const d of drives) await jobs.enqueueDrive({ integrationId, driveId: d.id, source: 'full' });
      // Everything once at start: a new or upgraded rule, and what time changed while stopped
      // (in process: startIntegration, once the drives are collected).
      if (evaluateRules && !inProcess) await jobs.enqueueRules(integrationId, 'full');
    },
  };
  jobs.kinds.rules = {
    name: 'rules.evaluate',
    schema: RulesPayload,
    expireInSeconds: lease,
    async handler({ integrationId, mode }) {
      const info = await app.integrations.get(integrationId);
      if (!info?.enabled) return;
      await runExclusive(store.db, locks, `rules:${integrationId}`, mode, async (m) => {
        try {
          await evaluateForService(app, executors, info, m === 'full' ? 'full' : 'incremental');
        } catch (err) {
          // Another process wrote newer results meanwhile: nothing is lost.
          if (!(err instanceof StaleEvaluationError)) throw err;
        }
      });
      jobs.onEvaluated?.(integrationId);
    },
  };
  jobs.all = Object.values(jobs.kinds) as Array<JobKind<never>>;
  return jobs;
}

/**
 * A users round: /users/delta from its deltaLink; on the directory schedule (poll) also the
 * full listing when a day old (sign-in activity and managers come only with it), every user's
 * drive (quota, new OneDrives) and the tenant settings and label catalogue (no notifications).
 */
export async function directoryRound(ctx: SyncContext, source: 'webhook' | 'poll'): Promise<void> {
  if (source === 'poll' && (await usersListingDue(ctx))) await collectUsers(ctx, 'poll');
  await collectUsersDelta(ctx, source);
  if (source === 'poll') await discoverDrives(ctx, 'poll');
  if (source === 'poll') await refreshTenantConfig(ctx, 'poll');
}
