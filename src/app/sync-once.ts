import type { SyncProgress } from '../collect/context.ts';
import { syncIntegration } from '../collect/sync.ts';
import type { IntegrationInfo } from '../store/integrations.ts';
import { runActivityRound } from './activity.ts';
import type { AppContext } from './context.ts';

export interface SyncOnceOptions {
  /** Only this integration (name or id); default every enabled one. */
  integration?: string;
  /** Enumerate every drive again instead of continuing from delta links. */
  full?: boolean;
  /** Also read the audit feed (default: config activity.enabled). */
  activity?: boolean;
  /** A progress display per integration (the CLI's and the demo's stderr line). */
  progress?: () => { update(p: SyncProgress): void; done(): void };
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
export async function syncOnce(app: AppContext, opts: SyncOnceOptions) {
  const results = [];
  for (const info of await targets(app, opts.integration)) {
    const integration = await app.integrations.getWithCredentials(info.id);
    const client = app.graphClientFor(integration);
    const progress = opts.progress?.();
    try {
      const ctx = {
        store: app.store,
        client,
        integration: { ...integration },
        logger: app.logger,
        concurrency: app.config.sync.concurrency,
        onProgress: progress?.update,
      };
      const result = await syncIntegration(ctx, { mode: opts.full ? 'full' : 'delta' });
      progress?.done();
      // After the inventory, so that events resolve to the items just collected.
      const activity = opts.activity === false ? null : await runActivityRound(app.config, ctx);
      results.push({ integration: integration.name, ...result, activity });
    } finally {
      await client.close();
    }
  }
  return results;
}
