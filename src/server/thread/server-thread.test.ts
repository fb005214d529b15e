import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { Kysely } from 'kysely';
import { quietLogger } from '../../../test/support/logger.ts';
import { fetchGraphClient, RecordingRunner, subscriptionRow } from '../../../test/support/realtime.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { loadConfig } from '../../config/config.ts';
import { inboxFileFor } from '../../queue/webhook-inbox.ts';
import type { Database } from '../../store/schema.ts';
import { openStore } from '../../store/store.ts';
import { clientStateDigest } from '../../store/subscription-cache.ts';
import { type RealtimeHandle, startRealtime } from '../realtime.ts';

const TENANT = '11111111-2222-3333-4444-555555555555';
const SECRET = 'secret-d1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';

async function insertSubscription(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('graph_subscriptions')
    .values(
      subscriptionRow({
        tenant_id: TENANT,
        client_state: SECRET,
        expiration: new Date(Date.now() + 20 * 86_400_000).toISOString(),
      }),
    )
    .execute();
}

const body = (subscriptionId: string, clientState = SECRET) =>
  JSON.stringify({
    value: [
      {
        subscriptionId,
        clientState,
        changeType: 'updated',
        resource: 'drives/d1/root',
        tenantId: TENANT,
        resourceData: null,
      },
    ],
  });

const post = (url: string, payload: string) =>
  fetch(`${url}/webhooks/graph`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: payload,
  });

/**
 * A client on its own thread (like Graph, it does not share our event loop): on "go" it
 * POSTs `count` notifications one after another, counts the inbox file's rows through its
 * own read-only connection, then wakes the main thread (blocked in Atomics.wait on
 * `signal`) and reports what it saw.
 */
const SENDER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
(async () => {
  // warm up (fetch's first use loads undici) before saying ready
  await (await fetch(workerData.url + '/healthz')).arrayBuffer();
  parentPort.postMessage({ type: 'ready' });
  parentPort.once('message', async () => {
    const results = [];
    for (let i = 0; i < workerData.count; i++) {
      const res = await fetch(workerData.url + '/webhooks/graph', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: workerData.body,
      });
      await res.arrayBuffer();
      results.push({ status: res.status });
    }
    const db = new Database(workerData.inboxFile, { readonly: true });
    const durable = db.prepare('select count(*) as n from webhook_inbox').get().n;
    db.close();
    const signal = new Int32Array(workerData.signal);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
    parentPort.postMessage({ type: 'done', results, durable });
  });
})();
`;

interface SenderReport {
  results: Array<{ status: number }>;
  durable: number;
}

async function startRt(dir: string, runner: RecordingRunner) {
  const store = await openStore({ dataDir: dir });
  await insertSubscription(store.db);
  const rt = await startRealtime({
    store,
    config: loadConfig({ DW_DATA_DIR: dir, DW_PUBLIC_URL: 'https://example.test' }),
    logger: quietLogger,
    graphClientFor: () => fetchGraphClient('http://127.0.0.1:9'),
    runner,
    integrations: async () => [{ id: 'int-1', tenantId: TENANT, enabled: true, driveIds: ['d1'] }],
    listen: { host: '127.0.0.1', port: 0 },
    poll: false,
  });
  return { store, rt };
}

describe('HTTP server in its own thread', () => {
  it('keeps acknowledging (202, rows durable) while the main thread is blocked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-server-thread-'));
    const runner = new RecordingRunner();
    const { store, rt } = await startRt(dir, runner);
    let sender: Worker | undefined;
    try {
      await rt.firstSync;
      assert.equal(rt.serverThread, true);
      assert.equal(rt.server, undefined);
      const inboxFile = inboxFileFor(store.file!);
      const signal = new SharedArrayBuffer(4);
      sender = new Worker(SENDER, {
        eval: true,
        workerData: {
          url: rt.url,
          body: body('sub-d1'),
          inboxFile,
          count: 5,
          signal,
          sqlite: createRequire(import.meta.url).resolve('better-sqlite3'),
        },
      });
      const s = sender;
      const messages = new Map<string, Promise<unknown>>();
      for (const type of ['ready', 'done']) {
        messages.set(
          type,
          new Promise((resolve, reject) => {
            s.on('message', (m: { type: string }) => {
              if (m.type === type) resolve(m);
            });
            s.once('error', reject);
          }),
        );
      }
      await messages.get('ready');

      // Block this thread's event loop synchronously, as a long collector page would, until
      // the sender has its acknowledgements and has counted the rows: no timer, no I/O
      // callback, no message runs on this thread meanwhile, however long that takes.
      sender.postMessage('go');
      // ('not-equal': the sender was done before the wait began, still without this event loop)
      const woken = Atomics.wait(new Int32Array(signal), 0, 0, 60_000);
      assert.notEqual(woken, 'timed-out', 'the sender finished while the main thread was blocked');

      const report = (await messages.get('done')) as SenderReport;
      assert.equal(report.results.length, 5, 'acks arrived while the main thread was blocked');
      assert.ok(
        report.results.every((r) => r.status === 202),
        'every POST acknowledged with 202',
      );
      // Durable before the main thread could run anything: counted through another connection.
      assert.equal(
        report.durable,
        report.results.length,
        'every acknowledged notification is in the inbox file',
      );

      // Once unblocked, the main thread's inbox worker turns them into a delta run.
      await runner.waitForRuns(1);
      await waitFor('the rows processed', async () => (await rt.inbox.count({ processed: false })) === 0);
      assert.equal(await rt.inbox.count({ processed: true }), report.results.length);
      assert.ok(runner.runs.every((r) => r.driveId === 'd1'));
    } finally {
      await sender?.terminate();
      await rt.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves /healthz, counts rejections from the thread, and sees subscriptions before they are committed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-server-thread-'));
    const runner = new RecordingRunner();
    let rt: RealtimeHandle | undefined;
    const started = await startRt(dir, runner);
    rt = started.rt;
    try {
      await rt.firstSync;
      const health = await fetch(`${rt.url}/healthz`);
      assert.equal(health.status, 200);
      assert.equal(((await health.json()) as { database: string }).database, 'ok');

      // forged: counted by the thread, visible in status at once, nothing persisted
      assert.equal((await post(rt.url!, body('sub-d1', 'forged'))).status, 202);
      assert.equal((await post(rt.url!, body('sub-unknown'))).status, 202);
      assert.equal(await rt.inbox.count(), 0);
      const status = await rt.status();
      assert.deepEqual(status.integrations.find((i) => i.integrationId === 'int-1')?.rejected, {
        client_state_mismatch: 1,
      });
      assert.deepEqual(status.rejectedUnattributed, { unknown_subscription: 1 });

      // The manager puts a new subscription in its cache before committing the row (Graph may
      // notify at once): the change is forwarded to the thread's cache.
      rt.cache.set({
        id: 'sub-new',
        integration_id: 'int-1',
        tenant_id: TENANT,
        resource: '/drives/d1/root',
        change_type: 'updated',
        client_state: clientStateDigest('secret-new'),
        status: 'active',
      });
      await rt.requestTimings(); // a round trip to the thread: it has applied the change before
      assert.equal((await post(rt.url!, body('sub-new', 'secret-new'))).status, 202);
      await waitFor('the row from the new subscription', async () => (await rt!.inbox.count()) === 1);
      rt.cache.delete('sub-new');
      await rt.requestTimings();
      assert.equal((await post(rt.url!, body('sub-new', 'secret-new'))).status, 202);

      // close hands the thread's last counters over and writes them to the main database
      await rt.close();
      rt = undefined;
      const rows = await started.store.db
        .selectFrom('webhook_rejections')
        .select(['integration_id', 'reason', 'count'])
        .orderBy('reason')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.integration_id, r.reason, Number(r.count)]),
        [
          ['int-1', 'client_state_mismatch', 1],
          ['', 'unknown_subscription', 2],
        ],
      );
    } finally {
      await rt?.close();
      await started.store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
