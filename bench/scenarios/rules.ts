/**
 * rules: every built-in rule over a collected inventory (default 2,000 users, 1,000,000
 * items, the full-sync tenant): a first full evaluation (creates the findings), a second
 * (what the hourly schedule costs), then a 100-item delta page applied through the store's
 * write path and ONE incremental evaluation. Correct when a full evaluation after the
 * incremental one changes nothing (the incremental scope missed nothing) and no rule failed.
 *
 * `--inventory DIR` evaluates a copy of a kept data directory instead of collecting one
 * (`npm run bench -- --scenario full-sync --keep` or `--scenario rules --keep` leave
 * `<temp>/data`): the page needs no Graph, so the simulator is not started then. All runs
 * share one evaluation time, so time-dependent results stay put for the correctness check.
 */
import { evaluateIntegration } from '../../src/rules/evaluate.ts';
import { loadBuiltinRules } from '../../src/rules/loader.ts';
import { startSqliteWorkers } from '../../src/rules/parallel.ts';
import { openStore } from '../../src/store/store.ts';
import { numberFlag, round, type Scenario } from '../harness.ts';
import { prepareInventory } from '../lib/inventory.ts';
import { productEnv } from '../lib/product.ts';
import { applyBenchPage } from '../lib/rules-page.ts';
import { scenarioDir } from '../lib/temp.ts';

const seconds = (t0: number) => round((performance.now() - t0) / 1000, 3);

export const rulesBench: Scenario = {
  name: 'rules',
  description: 'every built-in rule: full evaluation of the inventory, incremental after a 100-item page',
  async run(ctx) {
    const users = numberFlag(ctx, 'users', 2_000, 20);
    const items = numberFlag(ctx, 'items', 1_000_000, 3_000);
    const seed = numberFlag(ctx, 'seed', 1, 1);
    const pageSize = numberFlag(ctx, 'page', 100, 100);
    // As the product does for a big inventory (rules.workers): rules side by side in full runs.
    const workers = numberFlag(ctx, 'workers', 2, 2);
    const tmp = scenarioDir('rules', ctx.flags.keep === 'true');
    try {
      const p = productEnv(tmp.dir);
      const { syncSeconds } = await prepareInventory(ctx, p, tmp.dir, { seed, users, items });
      const store = await openStore({ dataDir: p.dataDir });
      const executor = workers > 1 && store.file ? startSqliteWorkers(store.file, workers) : undefined;
      try {
        const { id: integrationId } = await store.db
          .selectFrom('integrations')
          .select('id')
          .executeTakeFirstOrThrow();
        if (ctx.flags.inventory) {
          // A kept inventory may hold a previous run's findings: the first evaluation starts from none.
          for (const table of ['finding_events', 'findings', 'rule_evaluations', 'rule_cursor'] as const)
            await store.db.deleteFrom(table).execute();
        }
        const rules = loadBuiltinRules();
        // One evaluation time for every run: results that depend on it (staleness, expiry)
        // must not move between the incremental evaluation and the check (the schedule's job).
        const now = new Date().toISOString();
        const evaluate = (mode: 'full' | 'incremental') =>
          evaluateIntegration(store, {
            integrationId,
            mode,
            rules,
            now,
            executor: mode === 'full' ? executor : undefined,
          });
        let t0 = performance.now();
        const first = await evaluate('full');
        const fullFirst = seconds(t0);
        ctx.log(`first full evaluation: ${fullFirst} s, ${first.findings.opened} findings opened`);
        t0 = performance.now();
        const full = await evaluate('full');
        const fullS = seconds(t0);
        ctx.log(`full evaluation: ${fullS} s`);
        const page = await applyBenchPage(store, integrationId, pageSize);
        t0 = performance.now();
        const inc = await evaluate('incremental');
        const incS = seconds(t0);
        ctx.log(
          `page of ${page.items} items (${page.changes} changes): incremental evaluation ${incS} s over ${JSON.stringify(inc.scope)}`,
        );
        const check = await evaluate('full');
        const f = check.findings;
        const unchanged = f.opened + f.reopened + f.resolved + f.changed + f.suppressed === 0;
        if (!unchanged)
          ctx.log(`the full evaluation after the incremental one changed findings: ${JSON.stringify(f)}`);
        const failed = [...first.failedRules, ...full.failedRules, ...inc.failedRules];
        if (failed.length) ctx.log(`failed rules: ${JSON.stringify(failed)}`);
        const slowest = (ms: Record<string, number>) =>
          Object.entries(ms)
            .sort((a, b) => b[1] - a[1])
            .slice(0, 5)
            .map(([id, t]) => `${id}:${t}`)
            .join(' ');
        const [{ n: itemCount }] = await store.db
          .selectFrom('drive_items')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('deleted_at', 'is', null)
          .execute();
        return {
          items: Number(itemCount),
          rules: rules.length,
          sync_seconds: syncSeconds,
          full_first_s: fullFirst,
          full_s: fullS,
          incremental_s: incS,
          full_ok: full.ok,
          full_alarm: full.alarm,
          full_error: full.error,
          findings_opened: first.findings.opened,
          workers,
          page_items: page.items,
          page_changes: page.changes,
          scope_items: inc.scope?.items ?? 0,
          incremental_rules_run: inc.rulesRun,
          incremental_opened: inc.findings.opened + inc.findings.reopened,
          incremental_resolved: inc.findings.resolved,
          slowest_rules_ms: slowest(full.ruleMs),
          incremental_slowest_rules_ms: slowest(inc.ruleMs),
          peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
          correct:
            unchanged && failed.length === 0 && inc.mode === 'incremental' && first.findings.opened > 0,
        };
      } finally {
        await executor?.close();
        await store.close();
      }
    } finally {
      tmp.cleanup();
    }
  },
};
