import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SimAdminClient } from '../sim/admin-client.ts';
import { simCredentials } from '../sim/connection.ts';
import { startSimulator } from '../sim/index.ts';
import { openApp } from '../src/app/context.ts';
import { startService } from '../src/server/service.ts';
import { freePort } from './support/ports.ts';
import { servedSettings } from './support/served-settings.ts';

/**
 * A restarted single-process serve keeps its Graph subscriptions: its first reconciliation
 * runs once its integrations are up (before, it ran with no drive ready, deleted every drive's
 * subscription and created them again after the start-up collection).
 */
describe('serve restart and Graph subscriptions (SQLite)', () => {
  it('a restart deletes and creates no subscription', async () => {
    const sim = await startSimulator({ seed: 43, users: 5, items: 120, allowHttpNotifications: true });
    const admin = new SimAdminClient(sim);
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-restart-subs-'));
    const port = await freePort();
    const settings = servedSettings(dataDir, port);
    const run = async () => {
      const app = await openApp(settings);
      const service = await startService(app, { listen: { host: '127.0.0.1', port }, alerts: false });
      await service.ready;
      const active = await app.store.db
        .selectFrom('graph_subscriptions')
        .select(['id', 'resource'])
        .where('status', '=', 'active')
        .orderBy('id')
        .execute();
      await service.close();
      await app.close();
      return active;
    };
    try {
      const seeded = await openApp(settings);
      await seeded.integrations.create({
        name: 'restart',
        ...simCredentials(sim),
        verifiedDomains: sim.verifiedDomains,
      });
      await seeded.close();
      const first = await run();
      const drives = (await admin.drives()).length;
      assert.ok(
        first.filter((s) => s.resource.startsWith('/drives/')).length >= drives,
        `every drive subscribed (${first.length} subscriptions, ${drives} drives)`,
      );
      await admin.resetCounters();
      const second = await run();
      const byEndpoint = (await admin.counters()).requestsByEndpoint;
      const calls = (method: string) =>
        Object.entries(byEndpoint)
          .filter(([k]) => k.startsWith(`${method} /subscriptions`))
          .reduce((n, [, v]) => n + v, 0);
      assert.equal(calls('DELETE'), 0, 'no subscription deleted by the restart');
      assert.equal(calls('POST'), 0, 'no subscription created by the restart');
      assert.deepEqual(second, first, 'the same subscriptions after the restart');
    } finally {
      await admin.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
