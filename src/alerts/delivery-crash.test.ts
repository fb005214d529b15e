import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startHttpReceiver } from '../../test/support/alert-receivers.ts';
import { waitFor } from '../../test/support/wait.ts';
import { openStore } from '../store/store.ts';
import { SecretBox } from '../util/secret-box.ts';
import { parseChannelConfig } from './channels/config.ts';
import { alertsHarness, insertFindingEvents, insertIntegration } from './test-support.ts';

const fixture = fileURLToPath(new URL('./delivery-child.fixture.ts', import.meta.url));

test('kill -9 during a delivery, restart: every alert delivered, none twice to the idempotent receiver', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-alert-crash-'));
  const key = randomBytes(32).toString('base64');
  const receiver = await startHttpReceiver({ dedupe: true });
  const store = await openStore({ dataDir: dir });
  const h = alertsHarness(store, { box: SecretBox.fromKey(key) });
  let child: ChildProcess | undefined;
  const start = () =>
    new Promise<ChildProcess>((resolve, reject) => {
      const c = spawn(process.execPath, ['--import', 'tsx', fixture, dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DW_SECRET_KEY: key, DW_LOG_LEVEL: 'silent' },
      });
      let err = '';
      c.stderr?.on('data', (d) => {
        err += d;
      });
      c.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) resolve(c);
      });
      c.on('exit', (code, signal) => {
        if (signal !== 'SIGKILL') reject(new Error(`child exited (${code}): ${err}`));
      });
    });
  try {
    await insertIntegration(store.db, store);
    await h.channels.add(
      'hook',
      parseChannelConfig('webhook', {
        url: receiver.url,
        secret: `whsec_${randomBytes(24).toString('base64')}`,
      }),
    );
    await h.policies.add({ name: 'every-finding', kind: 'rule', channels: ['hook'], digestThreshold: 1000 });
    await insertFindingEvents(
      store.db,
      Array.from({ length: 20 }, () => ({})),
    );

    // The 8th request arrives: the process dies before it can record the receiver's 200.
    let killedDuring: string | undefined;
    receiver.onRequest = (req) => {
      if (receiver.requests.length === 8 && child) {
        killedDuring = String(req.headers['webhook-id']);
        child.kill('SIGKILL');
      }
    };
    child = await start();
    const first = child;
    await new Promise<void>((resolve) => first.once('exit', () => resolve()));
    assert.ok(killedDuring, 'killed while a request was in flight');

    child = await start();
    const keys = await waitFor(
      'every alert delivered',
      async () => {
        const rows = await store.db
          .selectFrom('alert_outbox')
          .select(['idempotency_key', 'status'])
          .execute();
        return rows.length === 20 && rows.every((r) => r.status === 'delivered')
          ? rows.map((r) => r.idempotency_key)
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    child.kill('SIGKILL');

    assert.deepEqual([...receiver.processed.keys()].sort(), [...keys].sort(), 'each alert processed once');
    const sent = receiver.requests.map((r) => String(r.headers['webhook-id']));
    const repeated = sent.filter((id, i) => sent.indexOf(id) !== i);
    assert.deepEqual(
      repeated,
      [killedDuring],
      'only the delivery cut by the kill was sent again, with its key',
    );
  } finally {
    child?.kill('SIGKILL');
    await h.close();
    await store.close();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
