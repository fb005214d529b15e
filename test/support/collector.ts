/** The collector against a simulator: a Graph client for it, a sync context, a suite with a store per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { simCredentials } from '../../sim/connection.ts';
import type { SimConnectionInfo, SimOptions } from '../../sim/contracts.ts';
import type { SyncContext } from '../../src/collect/context.ts';
import { createGraphClient } from '../../src/graph/client.ts';
import type { GraphClient } from '../../src/graph/types.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { startTestSim, type TestSim } from './simulator.ts';

/**
 * A simulator for a whole `describe` block (started before, closed after) and a fresh
 * SQLite store + Graph client per test: `suite.withStore('name', async (store, client) => …)`.
 */
export function simulatorSuite(options: SimOptions, tmpPrefix: string) {
  let env: TestSim | undefined;
  let dir = '';
  before(async () => {
    env = await startTestSim(options);
    dir = mkdtempSync(join(tmpdir(), tmpPrefix));
  });
  after(async () => {
    await env?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    get env(): TestSim {
      if (!env) throw new Error('the simulator starts in the before hook');
      return env;
    },
    /** A path in the suite's temporary directory. */
    path(name: string): string {
      return join(dir, name);
    },
    async withStore(name: string, fn: (store: Store, client: GraphClient) => Promise<void>): Promise<void> {
      const store = await openStore({ file: join(dir, `${name}.db`) });
      const client = simClient(this.env.sim);
      try {
        await fn(store, client);
      } finally {
        await client.close();
        await store.close();
      }
    },
  };
}

export function simClient(
  sim: SimConnectionInfo,
  extra: { timeScale?: number; maxRetries?: number } = {},
): GraphClient {
  return createGraphClient({
    ...simCredentials(sim),
    label: 'sim',
    retryBaseMs: 5,
    retryMaxDelayMs: 50,
    maxRetries: extra.maxRetries ?? 12,
    timeoutMs: 10_000,
    ...(extra.timeScale ? { timeScale: extra.timeScale } : {}),
  });
}

export function simContext(
  store: Store,
  sim: SimConnectionInfo,
  client: GraphClient,
  integrationId = 'int-sim',
  extra: Partial<SyncContext> = {},
): SyncContext {
  return {
    store,
    client,
    integration: {
      id: integrationId,
      name: 'sim',
      tenantId: sim.tenantId,
      verifiedDomains: [...sim.verifiedDomains],
    },
    concurrency: 4,
    ...extra,
  };
}
