/**
 * full-sync: a generated tenant (default 2,000 users, 1,000,000 items; ~5% of items under
 * unique permissions, 1% anonymous links), no latency, no RU budget. The simulator and
 * the product each run in their own process; the product is the real CLI on a temporary
 * store, after `integrations add --sim-info`:
 * - `--store sqlite` (default): `sync --once --json` on SQLite, one process;
 * - `--store postgres --workers N`: a throwaway database on DW_BENCH_PG_URL, N `drivewarden
 *   worker` processes and a `serve --no-work` whose start-up queues the collection; timed from
 *   the integration.sync job's enqueue to the last drive job's completion (pg-boss's rows),
 *   CPU summed over the workers, peak RSS per worker (bench/lib/postgres-workers.ts).
 * After it, the bound (the machine's, always SQLite): the same pages parsed and written as
 * bare rows (bench/lib/bound.ts), and bound_ratio = items_per_s / bound_items_per_s.
 */
import { randomBytes } from 'node:crypto';
import { freePort } from '../../test/support/ports.ts';
import { type Figures, numberFlag, round, type Scenario, type ScenarioContext } from '../harness.ts';
import { measureBound } from '../lib/bound.ts';
import {
  backendCpuSeconds,
  backendCpuSpent,
  createBenchDatabase,
  type LongRunningCli,
  startCliProcess,
  waitForQueuedCollection,
} from '../lib/postgres-workers.ts';
import { type SimProcess, startSimProcess } from '../lib/processes.ts';
import {
  addIntegration,
  checkStore,
  type ProductEnv,
  productEnv,
  productStore,
  runSync,
} from '../lib/product.ts';
import { timeReachQueries } from '../lib/reach-timing.ts';
import { PRICE, ruMinimum } from '../lib/ru-minimum.ts';
import { profileArgs, scenarioDir } from '../lib/temp.ts';

/** extractSensitivityLabels as the simulator counts it (every call, $batch sub-requests included). */
const LABELS_ENDPOINT = 'POST /drives/{id}/items/{id}/extractSensitivityLabels';

/** Jobs at once per worker: the drives `sync --once` runs at once (DW_SYNC_CONCURRENCY's default). */
const WORKER_CONCURRENCY = 4;

/** One collection by the product, whatever the store. */
interface Collection {
  /** The collection's own duration (s). */
  seconds: number;
  /** CPU seconds of the processes that collected, summed. */
  cpuSeconds: number;
  /** Peak RSS of the largest of them (MB). */
  peakRssMb: number;
  /** Every drive collected (a failed drive job, or a resource not collected, is false). */
  complete: boolean;
  /** Figures only one store has. */
  extra: Figures;
}

export const fullSync: Scenario = {
  name: 'full-sync',
  description:
    'first full inventory of a generated tenant (--store sqlite|postgres, --workers N): speed, peak RSS, Graph cost vs the minimum, correctness',
  async run(ctx) {
    const users = numberFlag(ctx, 'users', 2_000, 20);
    const items = numberFlag(ctx, 'items', 1_000_000, 3_000);
    const seed = numberFlag(ctx, 'seed', 1, 1);
    const store = ctx.flags.store ?? 'sqlite';
    if (store !== 'sqlite' && store !== 'postgres')
      throw new Error(`--store must be sqlite or postgres, got "${store}"`);
    const workers = numberFlag(ctx, 'workers', 1, 1);
    if (!Number.isInteger(workers) || workers < 1)
      throw new Error(`--workers must be a whole number ≥ 1, got "${ctx.flags.workers}"`);
    if (store === 'sqlite' && workers !== 1)
      throw new Error('--workers needs --store postgres (on SQLite one process collects)');
    const tmp = scenarioDir('full-sync', ctx.flags.keep === 'true');
    ctx.log(`tenant: ${users} users, ${items} items (seed ${seed}); ${store}; temp ${tmp.dir}`);
    const t0 = performance.now();
    const sim = await startSimProcess(
      tmp.dir,
      ['--seed', String(seed), '--users', String(users), '--items', String(items)],
      { extraNodeArgs: profileArgs(ctx.flags, 'sim') },
    );
    const db = store === 'postgres' ? await createBenchDatabase() : undefined;
    try {
      ctx.log(
        `simulator up in ${round((performance.now() - t0) / 1000, 1)} s (pid ${sim.pid}); pricing the minimum`,
      );
      const minimum = await ruMinimum(sim.admin.truth());
      const p = productEnv(
        tmp.dir,
        db ? { DW_DATABASE_URL: db.url, DW_SECRET_KEY: randomBytes(32).toString('base64') } : {},
      );
      const integrationId = await addIntegration(p, sim);
      await sim.admin.resetCounters();
      ctx.log(`integration ${integrationId} added; collecting ${minimum.items} items`);
      const run = db
        ? await collectWithWorkers(ctx, p, sim, integrationId, workers)
        : await collectWithSync(ctx, p);
      const counters = await sim.admin.counters();
      ctx.log(`collected in ${round(run.seconds, 1)} s; comparing with the ground truth`);
      const check = await checkStore(p, integrationId, sim.admin);
      if (!check.correct) ctx.log(`inventory differs from the truth:\n${check.detail}`);
      const reach = await timeReachQueries(productStore(p), integrationId);
      const bound = await measureMachineBound(ctx, sim, tmp.dir);
      const itemsPerS = minimum.items / run.seconds;
      return {
        store,
        workers,
        users: minimum.users,
        drives: minimum.drives,
        items: minimum.items,
        seconds: round(run.seconds, 2),
        ...run.extra,
        items_per_s: Math.round(itemsPerS),
        bound_items_per_s: Math.round(bound.perS),
        bound_ratio: round(itemsPerS / bound.perS, 3),
        bound_seconds: round(bound.seconds, 2),
        // The bound with the pages' fetching from the simulator included (sequential: a floor, not a target).
        bound_with_fetch_items_per_s: Math.round(bound.withFetchPerS),
        // The same per CPU second (the product's processes): steadier when other work shares the machine.
        cpu_seconds: round(run.cpuSeconds, 2),
        cpu_ms_per_item: round((run.cpuSeconds * 1000) / minimum.items, 3),
        bound_cpu_seconds: round(bound.cpuSeconds, 2),
        cpu_bound_ratio: round(bound.cpuSeconds / run.cpuSeconds, 3),
        bound_rows: bound.rows,
        peak_rss_mb: run.peakRssMb,
        requests: counters.requests,
        ru_spent: counters.ruSpent,
        ru_minimum: minimum.total,
        ru_ratio: round(counters.ruSpent / minimum.total, 3),
        ru_minimum_delta: minimum.delta,
        ru_minimum_permissions: minimum.permissions,
        ru_minimum_directory: minimum.directory,
        delta_pages: counters.requestsByEndpoint['GET /drives/{id}/root/delta'] ?? 0,
        delta_pages_minimum: minimum.deltaPages,
        sharing_roots: minimum.sharingRoots,
        labels_calls: counters.requestsByEndpoint[LABELS_ENDPOINT] ?? 0,
        labels_ru: (counters.requestsByEndpoint[LABELS_ENDPOINT] ?? 0) * PRICE.write,
        labels_files_minimum: minimum.labelFiles,
        ru_minimum_labels: minimum.labels,
        throttled_responses: counters.throttledResponses,
        ...reach,
        // The bare table must hold the same items, or the bound compared different work.
        correct: check.correct && run.complete && bound.rows === minimum.items,
      };
    } finally {
      await sim.close();
      await db?.drop();
      tmp.cleanup();
    }
  },
};

/** `sync --once --json` on SQLite: one process, its own timestamps and resource usage. */
async function collectWithSync(ctx: ScenarioContext, p: ProductEnv): Promise<Collection> {
  const run = await runSync(p, profileArgs(ctx.flags, 'product'));
  const failed = Object.entries(run.result.resources).filter(([, s]) => s !== 'ok');
  if (failed.length > 0) ctx.log(`resources not collected: ${JSON.stringify(failed)}`);
  return {
    seconds: run.syncSeconds,
    cpuSeconds: run.cpuSeconds,
    peakRssMb: run.maxRssMb,
    // Failed resources were reported but never made the run incorrect: the truth check judges.
    complete: run.result.drives.failed === 0,
    extra: {
      process_seconds: round(run.cli.seconds, 2),
      permission_calls: run.result.permissionCalls,
    },
  };
}

/**
 * N workers and a `serve --no-work` on PostgreSQL: serve's start-up queues the integration's
 * collection (integration.sync, then one drive.delta per drive), the workers do it. Each
 * worker runs WORKER_CONCURRENCY jobs at once, all of them for this one tenant.
 */
async function collectWithWorkers(
  ctx: ScenarioContext,
  p: ProductEnv,
  sim: SimProcess,
  integrationId: string,
  count: number,
): Promise<Collection> {
  const concurrency = String(WORKER_CONCURRENCY);
  // Info level for "worker taking jobs" (a collection logs nothing at info).
  const workers = Array.from({ length: count }, () =>
    startCliProcess(['worker', '--concurrency', concurrency, '--per-tenant', concurrency], {
      ...p.env,
      DW_LOG_LEVEL: 'info',
    }),
  );
  let serve: LongRunningCli | undefined;
  try {
    // The simulator keeps its delta log from the start (`integrations add`'s probe is in it).
    const logged = (await sim.admin.deltaLog()).length;
    // Every worker ready before anything is queued: the enqueue starts the clock.
    for (const w of workers) await w.waitForOutput('worker taking jobs', 300_000);
    const readyCpu = workers.reduce((sum, w) => sum + w.usage().cpuSeconds, 0);
    const pgBefore = await backendCpuSeconds(p.databaseUrl as string);
    ctx.log(
      `${count} worker(s) taking jobs (pids ${workers.map((w) => w.pid).join(', ')}); starting serve --no-work`,
    );
    // Polling far away: nothing but the start-up collection runs while it is measured.
    serve = startCliProcess(['serve', '--no-work', '--port', String(await freePort())], {
      ...p.env,
      DW_POLL_INTERVAL_SECONDS: '3600',
    });
    const watched = [...workers, serve];
    const done = await waitForQueuedCollection(p.databaseUrl as string, integrationId, {
      timeoutMs: 3 * 3600_000,
      // A worker or serve that died would leave the wait to its timeout: fail at once instead.
      onPoll: () => {
        for (const w of watched) w.usage();
      },
    });
    const usage = workers.map((w) => w.usage());
    const pgCpu = backendCpuSpent(pgBefore, await backendCpuSeconds(p.databaseUrl as string));
    // Each process has its own token, so the simulator tells the workers' delta requests apart.
    const collecting = new Set((await sim.admin.deltaLog()).slice(logged).map((r) => r.client)).size;
    if (done.failedDriveJobs > 0) ctx.log(`${done.failedDriveJobs} drive jobs failed`);
    return {
      seconds: done.seconds,
      cpuSeconds: usage.reduce((sum, u) => sum + u.cpuSeconds, 0),
      peakRssMb: Math.max(...usage.map((u) => u.peakRssMb)),
      complete: done.failedDriveJobs === 0,
      extra: {
        worker_concurrency: WORKER_CONCURRENCY,
        collecting_workers: collecting,
        worker_cpu_seconds: usage.map((u) => round(u.cpuSeconds, 1)).join(' '),
        // The workers' CPU until every one of them took jobs (Node, the store, pg-boss): in cpu_seconds.
        workers_ready_cpu_seconds: round(readyCpu, 2),
        // PostgreSQL's own CPU in the collection (its backends on this database; a floor: closed ones are lost).
        pg_cpu_seconds: pgCpu === null ? null : round(pgCpu, 2),
        worker_peak_rss_mb: usage.map((u) => u.peakRssMb).join(' '),
        drive_jobs: done.driveJobs,
        failed_drive_jobs: done.failedDriveJobs,
        // Rule evaluations the drive runs queued, run inside the measured window (sync --once runs none).
        rules_jobs: done.rulesJobs,
      },
    };
  } finally {
    await serve?.stop();
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** The machine's bound: the same pages as bare SQLite rows (bench/lib/bound.ts), whatever the store measured. */
async function measureMachineBound(ctx: ScenarioContext, sim: SimProcess, dir: string) {
  ctx.log('measuring the bound (the same pages as bare rows)');
  const drives = (await sim.admin.drives()).map((d) => d.id);
  const bound = await measureBound(sim.info, drives, dir);
  return {
    ...bound,
    perS: bound.rows / bound.seconds,
    withFetchPerS: bound.rows / bound.withFetchSeconds,
  };
}
