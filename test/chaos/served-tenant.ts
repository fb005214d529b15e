import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../../sim/index.ts';
import { type AppContext, openApp } from '../../src/app/context.ts';
import type { Service } from '../../src/server/service.ts';
import { freePort } from '../support/ports.ts';
import { servedSettings } from '../support/served-settings.ts';

/**
 * A simulator tenant and a product store set up to be served on a free port (webhooks to
 * that port, polling and directory rounds an hour apart, so only what the scenario does
 * happens). `close` stops the service (when started), the store and the simulator, and
 * removes the data directory.
 */
export interface ServedTenant {
  dataDir: string;
  sim: Awaited<ReturnType<typeof startSimulator>>;
  port: number;
  app: AppContext;
  close(service?: Service): Promise<void>;
}

export async function openServedTenant(
  label: string,
  tenant: { seed: number; users: number; items: number },
): Promise<ServedTenant> {
  const dataDir = mkdtempSync(join(tmpdir(), `dw-chaos-${label}-`));
  const sim = await startSimulator({ ...tenant, allowHttpNotifications: true });
  const port = await freePort();
  const app = await openApp(servedSettings(dataDir, port));
  return {
    dataDir,
    sim,
    port,
    app,
    async close(service) {
      await service?.close();
      await app.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
