import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { quietLogger } from '../../test/support/logger.ts';
import { freePort } from '../../test/support/ports.ts';
import {
  FakeGraphSubscriptions,
  fetchGraphClient,
  RecordingRunner,
  subscriptionRow,
} from '../../test/support/realtime.ts';
import { openTestStore } from '../../test/support/store.ts';
import { waitFor } from '../../test/support/wait.ts';
import { ManualTimers } from '../collect/realtime/manual-timers.ts';
import type { RealtimeIntegration } from '../collect/realtime/types.ts';
import { loadConfig } from '../config/config.ts';
import { startRealtime } from './realtime.ts';

describe('startRealtime end to end (local Graph /subscriptions)', () => {
  it('subscribes, receives a notification, runs the delta, reports status, deletes on disable', async () => {
    const graph = new FakeGraphSubscriptions();
    await graph.start();
    const { db } = await openTestStore('sqlite', { file: ':memory:' });
    const port = await freePort();
    const config = loadConfig({
      DW_DATA_DIR: '/tmp/dw-test',
      DW_PUBLIC_URL: `http://127.0.0.1:${port}`,
      DW_WEBHOOK_DEBOUNCE_MS: '30',
    });
    // A simulated clock (from now): the 30 ms debounce ends when the test advances it, so the
    // three notifications coalesce however slowly a busy machine delivers them.
    const timers = new ManualTimers(Date.now());
    const runner = new RecordingRunner(timers);
    const integrations: RealtimeIntegration[] = [
      { id: 'int-1', tenantId: graph.tenantId, enabled: true, driveIds: ['d1', 'd2'] },
    ];
    const rt = await startRealtime({
      store: { db },
      config,
      logger: quietLogger,
      timers,
      graphClientFor: () => fetchGraphClient(graph.baseUrl),
      runner,
      integrations: async () => integrations,
      listen: { host: '127.0.0.1', port },
      poll: false,
    });
    const handedOn = (driveOrResource: string, rows: number) =>
      waitFor(`${rows} rows for ${driveOrResource} handed to the coordinator`, () =>
        rt.coordinator
          .snapshot()
          .some((t) => (t.driveId ?? t.resource) === driveOrResource && t.pendingRows === rows),
      );
    try {
      const reports = await rt.firstSync;
      assert.equal(reports[0].created.length, 3);
      const d2 = [...graph.subscriptions.values()].find((s) => s.resource === '/drives/d2/root');
      assert.ok(d2);
      // Graph delivers three notifications for drive d2 and a forged one
      for (let i = 0; i < 3; i++) assert.equal(await graph.notify(d2.id), 202);
      assert.equal(await graph.notify(d2.id, { clientState: 'forged' }), 202);
      await handedOn('d2', 3);
      await timers.advance(30);
      await runner.waitForRuns(1);
      await timers.advance(1000); // later scans start nothing more
      await rt.coordinator.idle();
      assert.deepEqual(
        runner.runs.map((r) => [r.integrationId, r.kind, r.driveId, r.source]),
        [['int-1', 'drive', 'd2', 'webhook']],
      );
      const status = await rt.status();
      assert.equal(status.webhooks.enabled, true);
      const drive = status.targets.find((t) => t.driveId === 'd2');
      assert.equal(drive?.pendingNotifications, 0);
      assert.equal(drive?.lastSource, 'webhook');
      assert.ok(drive?.lastDeltaAt);
      assert.equal(status.integrations[0].subscriptions.length, 3);
      assert.deepEqual(status.integrations[0].rejected, { client_state_mismatch: 1 });
      // lifecycle: Graph removed the users subscription → re-created, then a users delta
      const users = [...graph.subscriptions.values()].find((s) => s.resource === 'users');
      assert.ok(users);
      assert.equal(await graph.notify(users.id, { lifecycleEvent: 'subscriptionRemoved' }), 202);
      graph.subscriptions.delete(users.id);
      await handedOn('users', 1);
      await timers.advance(30);
      await runner.waitForRuns(2);
      assert.equal(runner.runs[1].kind, 'users');
      assert.equal(runner.runs[1].source, 'lifecycle');
      const usersRows = await db
        .selectFrom('graph_subscriptions')
        .select('id')
        .where('resource', '=', 'users')
        .execute();
      assert.equal(usersRows.length, 1);
      assert.notEqual(usersRows[0].id, users.id);
      // disable: every subscription deleted on Graph and here
      integrations[0].enabled = false;
      await rt.syncSubscriptions();
      assert.equal(graph.subscriptions.size, 0);
      assert.equal((await db.selectFrom('graph_subscriptions').select('id').execute()).length, 0);
    } finally {
      await rt.close();
      await graph.close();
      await db.destroy();
    }
  });

  it('without a public URL: no subscriptions, a clear message, polling still runs', async () => {
    const { db } = await openTestStore('sqlite', { file: ':memory:' });
    const config = loadConfig({ DW_DATA_DIR: '/tmp/dw-test', DW_POLL_INTERVAL_SECONDS: '600' });
    const runner = new RecordingRunner();
    let graphAsked = 0;
    const rt = await startRealtime({
      store: { db },
      config,
      logger: quietLogger,
      graphClientFor: () => {
        graphAsked++;
        throw new Error('must not be called');
      },
      runner,
      integrations: async () => [{ id: 'int-1', tenantId: 't', enabled: true, driveIds: ['d1'] }],
      listen: { host: '127.0.0.1', port: 0 },
    });
    try {
      const [report] = await rt.firstSync;
      assert.equal(report.webhooks, 'off');
      assert.equal(report.message, 'webhooks off: DW_PUBLIC_URL not set, relying on polling every 10 min');
      const status = await rt.status();
      assert.deepEqual(status.webhooks, { enabled: false, message: report.message });
      await runner.waitForRuns(2); // the first drive and the users delta are polled at once
      assert.deepEqual(runner.runs.map((r) => `${r.kind}:${r.source}`).sort(), ['drive:poll', 'users:poll']);
      assert.equal(graphAsked, 0);
    } finally {
      await rt.close();
      await db.destroy();
    }
  });
});

describe('receiver load smoke test', () => {
  it('acknowledges 2,000 notifications sent in bursts with 202 and persists all of them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-rt-load-'));
    const { db } = await openTestStore('sqlite', { file: join(dir, 'load.db') });
    const runner = new RecordingRunner();
    const config = loadConfig({ DW_DATA_DIR: dir, DW_PUBLIC_URL: 'https://example.test' });
    const tenantId = '11111111-2222-3333-4444-555555555555';
    const drives = Array.from({ length: 20 }, (_, i) => `d${i}`);
    const now = new Date().toISOString();
    await db
      .insertInto('graph_subscriptions')
      .values(
        drives.map((d) =>
          subscriptionRow({
            id: `sub-${d}`,
            tenant_id: tenantId,
            resource: `/drives/${d}/root`,
            client_state: `secret-${d}-${'x'.repeat(32)}`,
            created_at: now,
          }),
        ),
      )
      .execute();
    const rt = await startRealtime({
      store: { db },
      config,
      logger: quietLogger,
      graphClientFor: () => fetchGraphClient('http://127.0.0.1:9'),
      runner,
      // subscriptions exist (inserted above); only the users one is missing and cannot be created here
      integrations: async () => [{ id: 'int-1', tenantId, enabled: true, driveIds: drives }],
      listen: { host: '127.0.0.1', port: 0 },
      poll: false,
    });
    try {
      const url = `${rt.url}/webhooks/graph`;
      const total = 2000;
      const burst = 100;
      const latencies: number[] = [];
      const statuses = new Map<number, number>();
      const body = (i: number) => {
        const d = drives[i % drives.length];
        return JSON.stringify({
          value: [
            {
              subscriptionId: `sub-${d}`,
              clientState: `secret-${d}-${'x'.repeat(32)}`,
              changeType: 'updated',
              resource: `drives/${d}/root`,
              tenantId,
              resourceData: null,
            },
          ],
        });
      };
      const send = async (i: number) => {
        const t0 = performance.now();
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: body(i),
        });
        await res.body.dump();
        latencies.push(performance.now() - t0);
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      };
      // Bursts: `burst` requests at once, the next burst when they are all answered. The
      // client shares this process (and CPU) with the server, so figures are pessimistic.
      const started = performance.now();
      for (let sent = 0; sent < total; sent += burst) {
        await Promise.all(Array.from({ length: Math.min(burst, total - sent) }, (_, j) => send(sent + j)));
      }
      const elapsed = performance.now() - started;
      assert.deepEqual([...statuses], [[202, total]]);
      // a store file: the inbox is its own file next to it
      assert.equal(rt.inbox.kind, 'sqlite-file');
      assert.equal(await rt.inbox.count(), total);
      latencies.sort((a, b) => a - b);
      const pct = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))].toFixed(1);
      console.log(
        `receiver load: ${total} notifications in bursts of ${burst} concurrent requests, ${(total / (elapsed / 1000)).toFixed(0)}/s; ack latency p50 ${pct(50)} ms, p99 ${pct(99)} ms, max ${pct(100)} ms`,
      );
      // and the worker turns them into few runs: at most a handful per drive
      await new Promise((r) => setTimeout(r, 600));
      await rt.coordinator.idle();
      assert.equal(await rt.inbox.count({ processed: false }), 0);
      console.log(
        `receiver load: ${runner.runs.length} delta runs for ${total} notifications over ${drives.length} drives`,
      );
      assert.ok(runner.runs.length >= drives.length, 'every drive ran');
    } finally {
      await rt.close();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
