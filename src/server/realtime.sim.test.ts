import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import { startSimulator } from '../../sim/index.ts';
import { quietLogger } from '../../test/support/logger.ts';
import { freePort } from '../../test/support/ports.ts';
import { RecordingRunner } from '../../test/support/realtime.ts';
import { openTestStore } from '../../test/support/store.ts';
import { loadConfig } from '../config/config.ts';
import { createGraphClient } from '../graph/client.ts';
import { startRealtime } from './realtime.ts';

describe('real-time path against the simulator', () => {
  it('subscribes through Graph, gets a notification for a mutation and runs that drive’s delta', async () => {
    const sim = await startSimulator({ seed: 7, users: 6, items: 120, allowHttpNotifications: true });
    const caPem = readFileSync(sim.caCertPath, 'utf8');
    const agent = new Agent({ connect: { ca: caPem } });
    const admin = async (path: string, body?: unknown) => {
      const res = await request(`${sim.adminUrl}${path}`, {
        method: body ? 'POST' : 'GET',
        dispatcher: agent,
        headers: { authorization: `Bearer ${sim.adminSecret}`, 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      });
      return (await res.body.json()) as Record<string, unknown>;
    };
    const graph = createGraphClient({
      tenantId: sim.tenantId,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      graphBaseUrl: sim.graphBaseUrl,
      authorityUrl: sim.authorityUrl,
      caPem,
    });
    const { db } = await openTestStore('sqlite', { file: ':memory:' });
    const port = await freePort();
    const runner = new RecordingRunner();
    const drives = (await admin('/drives')).value as Array<{ id: string }>;
    const driveId = drives[0].id;
    const rt = await startRealtime({
      store: { db },
      config: loadConfig({
        DW_DATA_DIR: '/tmp/dw-test',
        DW_PUBLIC_URL: `http://127.0.0.1:${port}`,
        DW_WEBHOOK_DEBOUNCE_MS: '50',
      }),
      logger: quietLogger,
      graphClientFor: () => graph,
      runner,
      integrations: async () => [{ id: 'int-1', tenantId: sim.tenantId, enabled: true, driveIds: [driveId] }],
      listen: { host: '127.0.0.1', port },
      poll: false,
    });
    try {
      const [report] = await rt.firstSync;
      assert.deepEqual(report.errors, []);
      assert.equal(report.created.length, 2, 'drive root + users');
      const root = (await graph.request<{ id: string }>({ url: `/drives/${driveId}/root` })).body;
      await admin('/mutations', {
        op: 'createItem',
        driveId,
        parentId: root.id,
        name: 'realtime-e2e.txt',
        size: 10,
      });
      await runner.waitForRuns(1, 15_000);
      assert.deepEqual(
        runner.runs.map((r) => [r.kind, r.driveId, r.source]),
        [['drive', driveId, 'webhook']],
      );
      const status = await rt.status();
      assert.equal(status.integrations[0].subscriptions.length, 2);
      assert.deepEqual(status.integrations[0].rejected, {});
    } finally {
      await rt.close();
      await graph.close();
      await db.destroy();
      await sim.close();
      await agent.close();
    }
  });
});
