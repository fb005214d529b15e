import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { progressPrinter } from '../../app/progress.ts';
import { refuseWhileServiceWrites } from '../../app/service-guard.ts';
import { syncOnce } from '../../app/sync-once.ts';
import { COLLECTOR_HEAP_GROWTH_PERCENT, limitHeapGrowth } from '../../util/heap-growth.ts';

interface SyncCommandOptions {
  integration?: string;
  once?: boolean;
  full?: boolean;
  json?: boolean;
  activity?: boolean;
}

export function registerSync(program: Command): void {
  program
    .command('sync')
    .description('collect the inventory: a full collection first, then deltas from the stored checkpoints')
    .option('--integration <name>', 'only this integration (default: every enabled one)')
    .option('--once', 'run one round and exit (default: keep running, see `drivewarden serve`)')
    .option('--full', 'enumerate every drive again instead of continuing from delta links')
    .option('--no-activity', 'skip the audit feed (default: read it unless activity.enabled is false)')
    .option('--json', 'print the results as JSON on stdout')
    .action(async (opts: SyncCommandOptions) => {
      if (!opts.once) {
        throw new Error('`sync` without --once is `drivewarden serve` (webhooks + polling); use --once here');
      }
      limitHeapGrowth(COLLECTOR_HEAP_GROWTH_PERCENT);
      await withApp(async (app) => {
        await refuseWhileServiceWrites(
          app,
          'sync --once',
          'it already keeps the inventory current (webhooks and polling); stop it first, or see `drivewarden status`',
        );
        const results = await syncOnce(app, {
          integration: opts.integration,
          full: opts.full,
          activity: opts.activity,
          progress: opts.json ? undefined : () => progressPrinter(),
        });
        const usage = process.resourceUsage();
        const maxRssMb = Math.round(usage.maxRSS / 1024);
        // CPU seconds of the whole process (start-up included): steadier than wall time on a busy machine.
        const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
        if (opts.json) {
          console.log(JSON.stringify({ results, maxRssMb, cpuSeconds }));
          return;
        }
        for (const r of results) {
          const failed = Object.entries(r.resources).filter(([, s]) => s !== 'ok');
          console.log(
            `${r.integration}: ${r.drives.done}/${r.drives.total} drives (${r.drives.notProvisioned} users without OneDrive), ` +
              `${r.items} items, ${r.changes} changes, ${r.permissionCalls} permission calls, ${r.labelCalls} label reads, ` +
              `${r.graph.requests} requests, ${r.graph.ruSpent} RU, ${r.graph.throttledResponses} throttled`,
          );
          for (const [resource, code] of failed) console.log(`  ${resource}: not collected (${code})`);
          const a = r.activity;
          if (a)
            console.log(
              a.error
                ? `  audit feed: not collected (${a.error.code}: ${a.error.message})`
                : `  audit feed: ${a.eventsNew} new events from ${a.contentRead} blobs (${a.windows} windows)`,
            );
          for (const e of r.errors.slice(0, 20))
            console.log(`  error ${e.resource_type} ${e.resource_id ?? ''}: ${e.code}: ${e.message}`);
        }
        if (results.some((r) => r.drives.failed > 0)) process.exitCode = 1;
      });
    });
}
