/**
 * full-sync: a generated tenant (default 2,000 users, 1,000,000 items; ~5% of items under
 * unique permissions, 1% anonymous links), no latency, no RU budget. The simulator and
 * the product each run in their own process; the product is the real CLI
 * (`integrations add --sim-info`, then `sync --once --json`) on a temporary store. After
 * it, the bound: the same pages parsed and written as bare rows (bench/lib/bound.ts), and
 * bound_ratio = items_per_s / bound_items_per_s.
 */
import { numberFlag, round, type Scenario } from '../harness.ts';
import { measureBound } from '../lib/bound.ts';
import { startSimProcess } from '../lib/processes.ts';
import { addIntegration, checkDataDir, productEnv, runSync } from '../lib/product.ts';
import { timeReachQueries } from '../lib/reach-timing.ts';
import { PRICE, ruMinimum } from '../lib/ru-minimum.ts';
import { profileArgs, scenarioDir } from '../lib/temp.ts';

/** extractSensitivityLabels as the simulator counts it (every call, $batch sub-requests included). */
const LABELS_ENDPOINT = 'POST /drives/{id}/items/{id}/extractSensitivityLabels';

export const fullSync: Scenario = {
  name: 'full-sync',
  description:
    'first full inventory of a generated tenant: speed, peak RSS, Graph cost vs the minimum, correctness',
  async run(ctx) {
    const users = numberFlag(ctx, 'users', 2_000, 20);
    const items = numberFlag(ctx, 'items', 1_000_000, 3_000);
    const seed = numberFlag(ctx, 'seed', 1, 1);
    const tmp = scenarioDir('full-sync', ctx.flags.keep === 'true');
    ctx.log(`tenant: ${users} users, ${items} items (seed ${seed}); temp ${tmp.dir}`);
    const t0 = performance.now();
    const sim = await startSimProcess(
      tmp.dir,
      ['--seed', String(seed), '--users', String(users), '--items', String(items)],
      { extraNodeArgs: profileArgs(ctx.flags, 'sim') },
    );
    try {
      ctx.log(
        `simulator up in ${round((performance.now() - t0) / 1000, 1)} s (pid ${sim.pid}); pricing the minimum`,
      );
      const minimum = await ruMinimum(sim.admin.truth());
      const p = productEnv(tmp.dir);
      const integrationId = await addIntegration(p, sim);
      await sim.admin.resetCounters();
      ctx.log(`integration ${integrationId} added; syncing ${minimum.items} items`);
      const run = await runSync(p, profileArgs(ctx.flags, 'product'));
      const counters = await sim.admin.counters();
      ctx.log(`sync done in ${round(run.syncSeconds, 1)} s; comparing with the ground truth`);
      const check = await checkDataDir(p, integrationId, sim.admin);
      if (!check.correct) ctx.log(`inventory differs from the truth:\n${check.detail}`);
      const reach = await timeReachQueries(p.dataDir, integrationId);
      // The bound: the same pages, parsed and written as bare rows (bench/lib/bound.ts).
      ctx.log('measuring the bound (the same pages as bare rows)');
      const drives = (await sim.admin.drives()).map((d) => d.id);
      const bound = await measureBound(sim.info, drives, tmp.dir);
      const boundPerS = bound.rows / bound.seconds;
      const itemsPerS = minimum.items / run.syncSeconds;
      const failed = Object.entries(run.result.resources).filter(([, s]) => s !== 'ok');
      if (failed.length > 0) ctx.log(`resources not collected: ${JSON.stringify(failed)}`);
      return {
        users: minimum.users,
        drives: minimum.drives,
        items: minimum.items,
        seconds: round(run.syncSeconds, 2),
        process_seconds: round(run.cli.seconds, 2),
        items_per_s: Math.round(itemsPerS),
        bound_items_per_s: Math.round(boundPerS),
        bound_ratio: round(itemsPerS / boundPerS, 3),
        bound_seconds: round(bound.seconds, 2),
        // The bound with the pages' fetching from the simulator included (sequential: a floor, not a target).
        bound_with_fetch_items_per_s: Math.round(bound.rows / bound.withFetchSeconds),
        // The same per CPU second (the product's whole process): steadier when other work shares the machine.
        cpu_seconds: round(run.cpuSeconds, 2),
        bound_cpu_seconds: round(bound.cpuSeconds, 2),
        cpu_bound_ratio: round(bound.cpuSeconds / run.cpuSeconds, 3),
        bound_rows: bound.rows,
        peak_rss_mb: run.maxRssMb,
        requests: counters.requests,
        ru_spent: counters.ruSpent,
        ru_minimum: minimum.total,
        ru_ratio: round(counters.ruSpent / minimum.total, 3),
        ru_minimum_delta: minimum.delta,
        ru_minimum_permissions: minimum.permissions,
        ru_minimum_directory: minimum.directory,
        delta_pages: counters.requestsByEndpoint['GET /drives/{id}/root/delta'] ?? 0,
        delta_pages_minimum: minimum.deltaPages,
        permission_calls: run.result.permissionCalls,
        sharing_roots: minimum.sharingRoots,
        labels_calls: counters.requestsByEndpoint[LABELS_ENDPOINT] ?? 0,
        labels_ru: (counters.requestsByEndpoint[LABELS_ENDPOINT] ?? 0) * PRICE.write,
        labels_files_minimum: minimum.labelFiles,
        ru_minimum_labels: minimum.labels,
        throttled_responses: counters.throttledResponses,
        ...reach,
        // The bare table must hold the same items, or the bound compared different work.
        correct: check.correct && bound.rows === minimum.items,
      };
    } finally {
      await sim.close();
      tmp.cleanup();
    }
  },
};
