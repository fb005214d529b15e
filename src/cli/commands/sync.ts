import type { Command } from 'commander';
import { syncIntegration } from '../../collect/sync.ts';
import type { IntegrationInfo } from '../../store/integrations.ts';
import { type AppContext, withApp } from '../context.ts';
import { progressPrinter } from '../progress.ts';

interface SyncCommandOptions {
  integration?: string;
  once?: boolean;
  full?: boolean;
  json?: boolean;
}

async function targets(app: AppContext, name?: string): Promise<IntegrationInfo[]> {
  if (name) {
    const one = await app.integrations.get(name);
    if (!one) throw new Error(`no integration "${name}"`);
    if (!one.enabled) throw new Error(`integration "${one.name}" is disabled: enable it first`);
    return [one];
  }
  const all = (await app.integrations.list()).filter((i) => i.enabled);
  if (all.length === 0)
    throw new Error('no enabled integration: add one with `drivewarden integrations add`');
  return all;
}

/** One collection round over the chosen integrations; returns one result per integration. */
export async function syncOnce(app: AppContext, opts: SyncCommandOptions) {
  const results = [];
  for (const info of await targets(app, opts.integration)) {
    const integration = await app.integrations.getWithCredentials(info.id);
    const client = app.graphClientFor(integration);
    const progress = opts.json ? undefined : progressPrinter();
    try {
      const result = await syncIntegration(
        {
          store: app.store,
          client,
          integration: { ...integration },
          logger: app.logger,
          concurrency: app.config.sync.concurrency,
          onProgress: progress?.update,
        },
        { mode: opts.full ? 'full' : 'delta' },
      );
      progress?.done();
      results.push({ integration: integration.name, ...result });
    } finally {
      await client.close();
    }
  }
  return results;
}

export function registerSync(program: Command): void {
  program
    .command('sync')
    .description('collect the inventory: a full collection first, then deltas from the stored checkpoints')
    .option('--integration <name>', 'only this integration (default: every enabled one)')
    .option('--once', 'run one round and exit (default: keep running, see `drivewarden serve`)')
    .option('--full', 'enumerate every drive again instead of continuing from delta links')
    .option('--json', 'print the results as JSON on stdout')
    .action(async (opts: SyncCommandOptions) => {
      if (!opts.once) {
        throw new Error('`sync` without --once is `drivewarden serve` (webhooks + polling); use --once here');
      }
      await withApp(async (app) => {
        const results = await syncOnce(app, opts);
        const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
        if (opts.json) {
          console.log(JSON.stringify({ results, maxRssMb }));
          return;
        }
        for (const r of results) {
          const failed = Object.entries(r.resources).filter(([, s]) => s !== 'ok');
          console.log(
            `${r.integration}: ${r.drives.done}/${r.drives.total} drives (${r.drives.notProvisioned} users without OneDrive), ` +
              `${r.items} items, ${r.changes} changes, ${r.permissionCalls} permission calls, ` +
              `${r.graph.requests} requests, ${r.graph.ruSpent} RU, ${r.graph.throttledResponses} throttled`,
          );
          for (const [resource, code] of failed) console.log(`  ${resource}: not collected (${code})`);
          for (const e of r.errors.slice(0, 20))
            console.log(`  error ${e.resource_type} ${e.resource_id ?? ''}: ${e.code}: ${e.message}`);
        }
        if (results.some((r) => r.drives.failed > 0)) process.exitCode = 1;
      });
    });
}
