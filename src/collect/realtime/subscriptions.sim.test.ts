import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Agent, request } from 'undici';
import type { SimFaultRule } from '../../../sim/contracts.ts';
import { startSimulator } from '../../../sim/index.ts';
import { quietLogger } from '../../../test/support/logger.ts';
import { freePort } from '../../../test/support/ports.ts';
import { RecordingRunner } from '../../../test/support/realtime.ts';
import { openTestStore } from '../../../test/support/store.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { loadConfig } from '../../config/config.ts';
import { createGraphClient } from '../../graph/client.ts';
import { startRealtime } from '../../server/realtime.ts';

/**
 * Subscriptions against the simulator when Graph's answers go wrong (issue 15): a POST whose
 * answer is lost after Graph created the subscription, and lifecycle events delivered twice
 * at once. Afterwards Graph holds exactly the subscriptions the store tracks.
 */

async function withRealtime(
  faults: SimFaultRule[],
  body: (t: {
    admin: (path: string, body?: unknown) => Promise<Record<string, unknown>>;
    graphSubscriptions: () => Promise<Array<{ id: string; resource: string }>>;
    tracked: () => Promise<string[]>;
    driveId: string;
    inboxDone: () => Promise<boolean>;
  }) => Promise<void>,
): Promise<void> {
  const sim = await startSimulator({ seed: 11, users: 4, items: 60, allowHttpNotifications: true, faults });
  const caPem = readFileSync(sim.caCertPath, 'utf8');
  const agent = new Agent({ connect: { ca: caPem } });
  const admin = async (path: string, payload?: unknown) => {
    const res = await request(`${sim.adminUrl}${path}`, {
      method: payload ? 'POST' : 'GET',
      dispatcher: agent,
      headers: { authorization: `Bearer ${sim.adminSecret}`, 'content-type': 'application/json' },
      body: payload ? JSON.stringify(payload) : undefined,
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
    retryBaseMs: 20,
  });
  const { db } = await openTestStore('sqlite', { file: ':memory:' });
  const port = await freePort();
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
    runner: new RecordingRunner(),
    integrations: async () => [{ id: 'int-1', tenantId: sim.tenantId, enabled: true, driveIds: [driveId] }],
    listen: { host: '127.0.0.1', port },
    poll: false,
  });
  try {
    const [report] = await rt.firstSync;
    assert.deepEqual(report.errors, []);
    await body({
      admin,
      driveId,
      graphSubscriptions: async () =>
        (await graph.request<{ value: Array<{ id: string; resource: string }> }>({ url: '/subscriptions' }))
          .body.value,
      tracked: async () =>
        (
          await db
            .selectFrom('graph_subscriptions')
            .select('id')
            .where('status', '=', 'active')
            .orderBy('id')
            .execute()
        ).map((r) => r.id),
      inboxDone: async () =>
        (await db.selectFrom('webhook_inbox').select('id').where('processed_at', 'is', null).execute())
          .length === 0,
    });
  } finally {
    await rt.close();
    await graph.close();
    await db.destroy();
    await sim.close();
    await agent.close();
  }
}

describe('Graph subscriptions against the simulator, when answers go wrong', () => {
  it('a POST /subscriptions whose answer is lost is not sent again: the created one is found and tracked', async () => {
    const lost: SimFaultRule = { kind: 'lostAnswer', pathPattern: '^/v1\\.0/subscriptions$', atRequest: 1 };
    await withRealtime([lost], async ({ admin, graphSubscriptions, tracked }) => {
      const counters = (await admin('/counters')) as { faultsServed: Record<string, number> };
      assert.equal(counters.faultsServed.lostAnswer, 1, 'the answer of the first POST was lost');
      const live = await graphSubscriptions();
      assert.equal(live.length, 2, `one for the drive root, one for users: ${JSON.stringify(live)}`);
      assert.deepEqual(live.map((s) => s.id).sort(), await tracked(), 'Graph holds exactly what is tracked');
    });
  });

  it('subscriptionRemoved delivered twice at once re-creates the subscription once', async () => {
    await withRealtime([], async ({ admin, graphSubscriptions, tracked, driveId, inboxDone }) => {
      const before = await graphSubscriptions();
      const root = before.find((s) => s.resource.includes(driveId));
      assert.ok(root, 'the drive root is subscribed');
      await admin('/events/lifecycle', { subscriptionId: root.id, event: 'subscriptionRemoved', copies: 3 });
      await admin('/events/flush', {});
      const replaced = await waitFor('the removed subscription replaced', async () => {
        const live = await graphSubscriptions();
        const roots = live.filter((s) => s.resource.includes(driveId));
        return roots.length > 0 && roots.every((s) => s.id !== root.id) && (await inboxDone()) ? live : false;
      });
      const roots = replaced.filter((s) => s.resource.includes(driveId));
      assert.equal(roots.length, 1, `one live subscription for the drive root: ${JSON.stringify(roots)}`);
      assert.deepEqual(
        replaced.map((s) => s.id).sort(),
        await tracked(),
        'Graph holds exactly what is tracked',
      );
    });
  });
});
