import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ScenarioContext } from '../harness.ts';
import { round } from '../harness.ts';
import { startSimProcess } from './processes.ts';
import { addIntegration, type ProductEnv, runSync } from './product.ts';

/**
 * The inventory a scenario measures on: a copy of `--inventory <dir>` (a kept data directory,
 * so a 1,000,000-item store is collected once), else a simulator tenant collected now.
 * Returns the collection time (null for a copy).
 */
export async function prepareInventory(
  ctx: ScenarioContext,
  p: ProductEnv,
  tmpDir: string,
  tenant: { seed: number; users: number; items: number },
): Promise<{ syncSeconds: number | null }> {
  const from = ctx.flags.inventory;
  if (from && from !== 'true') {
    if (!existsSync(join(from, 'drivewarden.db')))
      throw new Error(`--inventory ${from}: no drivewarden.db there`);
    ctx.log(`copying the inventory in ${from}`);
    cpSync(from, p.dataDir, { recursive: true });
    return { syncSeconds: null };
  }
  ctx.log(`tenant: ${tenant.users} users, ${tenant.items} items (seed ${tenant.seed}); temp ${tmpDir}`);
  const sim = await startSimProcess(tmpDir, [
    '--seed',
    String(tenant.seed),
    '--users',
    String(tenant.users),
    '--items',
    String(tenant.items),
  ]);
  try {
    await addIntegration(p, sim);
    const run = await runSync(p);
    const syncSeconds = round(run.syncSeconds, 1);
    ctx.log(`collected in ${syncSeconds} s`);
    return { syncSeconds };
  } finally {
    await sim.close();
  }
}
