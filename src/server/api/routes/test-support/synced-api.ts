import { startTestApi, type TestApi } from '../../../../../test/support/api.ts';
import { simClient, simContext } from '../../../../../test/support/collector.ts';
import { registerIntegration } from '../../../../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../../../../test/support/simulator.ts';
import { syncIntegration } from '../../../../collect/sync.ts';
import type { Dialect } from '../../../../store/codec.ts';

/** The test API on a store holding a simulator tenant collected by the real collector. */
export async function syncedApi(
  dialect: Dialect,
  integrationId: string,
  sim: { seed: number; users: number; items: number } = { seed: 7, users: 30, items: 400 },
): Promise<{ env: TestSim; api: TestApi; close(): Promise<void> }> {
  const env = await startTestSim(sim);
  const api = await startTestApi({ dialect });
  await registerIntegration(api.app.store.db, dialect, integrationId, env.sim.tenantId);
  // As `integrations add` stores them: grants are classified against these (the trend re-derives them).
  await api.app.store.db
    .updateTable('integrations')
    .set({ verified_domains: JSON.stringify(env.sim.verifiedDomains) })
    .where('id', '=', integrationId)
    .execute();
  const client = simClient(env.sim);
  try {
    await syncIntegration(simContext(api.app.store, env.sim, client, integrationId), { mode: 'full' });
  } finally {
    await client.close();
  }
  return {
    env,
    api,
    async close() {
      await api.close();
      await env.close();
    },
  };
}
