/**
 * throttled-sync: a full sync of 100,000 items while the simulator enforces the documented
 * per-minute RU budget under a time scale (--time-scale 60: a budget minute lasts 1 s), and
 * the product paces itself to the same budget (DW_GRAPH_RU_BUDGET, DW_GRAPH_TIME_SCALE).
 * The fastest any client could finish is ru_minimum / budget rate.
 */

import { join } from 'node:path';
import { numberFlag, round, type Scenario } from '../harness.ts';
import { criticalRules, watchCriticalFindings } from '../lib/critical-watch.ts';
import { startSimProcess } from '../lib/processes.ts';
import { addIntegration, checkStore, productEnv, runSync } from '../lib/product.ts';
import { ruBudgetForUsers, ruMinimum } from '../lib/ru-minimum.ts';
import { formatTimeline, watchRuTimeline } from '../lib/ru-timeline.ts';
import { profileArgs, scenarioDir, sleep } from '../lib/temp.ts';

export const throttledSync: Scenario = {
  name: 'throttled-sync',
  description: 'full sync under the per-minute RU budget (time-scaled): time vs the budget limit, throttling',
  async run(ctx) {
    const users = numberFlag(ctx, 'users', 500, 20);
    const items = numberFlag(ctx, 'items', 100_000, 3_000);
    const seed = numberFlag(ctx, 'seed', 1, 1);
    const timeScale = numberFlag(ctx, 'time-scale', 60, 60);
    // Quick: a budget below the licence table so the small tenant still spans several windows.
    const budget = numberFlag(ctx, 'budget', ruBudgetForUsers(users), 300);
    const tmp = scenarioDir('throttled-sync', ctx.flags.keep === 'true');
    ctx.log(`tenant: ${users} users, ${items} items; budget ${budget} RU/min, time scale ${timeScale}`);
    const sim = await startSimProcess(
      tmp.dir,
      [
        '--seed',
        String(seed),
        '--users',
        String(users),
        '--items',
        String(items),
        '--ru-budget',
        String(budget),
        '--time-scale',
        String(timeScale),
      ],
      { extraNodeArgs: profileArgs(ctx.flags, 'sim') },
    );
    try {
      const minimum = await ruMinimum(sim.admin.truth());
      const p = productEnv(tmp.dir, {
        DW_GRAPH_RU_BUDGET: String(budget),
        DW_GRAPH_TIME_SCALE: String(timeScale),
      });
      const integrationId = await addIntegration(p, sim);
      // Let the budget window the probe used run out, then count from zero.
      await sleep(Math.ceil((60_000 / timeScale) * 1.1));
      await sim.admin.resetCounters();
      const ruPerSecond = (budget * timeScale) / 60;
      const limitSeconds = minimum.total / ruPerSecond;
      ctx.log(
        `ru_minimum ${minimum.total} RU at ${ruPerSecond} RU/s: no client can finish under ${round(limitSeconds, 1)} s`,
      );
      const watch = watchCriticalFindings(join(p.dataDir, 'drivewarden.db'), integrationId);
      const timeline = watchRuTimeline(sim.admin, budget, 60_000 / timeScale);
      const run = await runSync(p, profileArgs(ctx.flags, 'product'));
      const criticalAt = await watch.stop();
      const used = await timeline.stop();
      ctx.log(`RU per budget window (budget ${budget}):\n${formatTimeline(used)}`);
      const since = (iso: string | null) =>
        iso === null ? null : round((Date.parse(iso) - Date.parse(run.result.startedAt)) / 1000, 2);
      const counters = await sim.admin.counters();
      const check = await checkStore(p, integrationId, sim.admin);
      if (!check.correct) ctx.log(`inventory differs from the truth:\n${check.detail}`);
      return {
        items: minimum.items,
        budget_ru_per_min: budget,
        time_scale: timeScale,
        seconds: round(run.syncSeconds, 2),
        process_seconds: round(run.cli.seconds, 2),
        // CPU the sync process used: near `seconds` means it was CPU-bound, not budget-bound.
        product_cpu_s: round(run.cpuSeconds, 2),
        limit_seconds: round(limitSeconds, 2),
        time_ratio: round(run.syncSeconds / limitSeconds, 3),
        exposure_known_s: since(run.result.exposureKnownAt),
        permissions_read_s: since(run.result.permissionsReadAt),
        first_critical_finding_s:
          criticalAt === null ? null : round((criticalAt - Date.parse(run.result.startedAt)) / 1000, 2),
        critical_rules: criticalRules()
          .map((r) => r.id)
          .join(','),
        ru_spent: counters.ruSpent,
        ru_minimum: minimum.total,
        requests: counters.requests,
        throttled_responses: counters.throttledResponses,
        requests_during_retry_after: counters.requestsDuringRetryAfter,
        product_throttle_wait_ms: run.result.graph.throttleWaitMs,
        budget_idle_share: round(used.idleShare, 3),
        budget_windows_under_half: used.lowWindows,
        correct: check.correct,
      };
    } finally {
      await sim.close();
      tmp.cleanup();
    }
  },
};
