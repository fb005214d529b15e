import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { readServiceState, writeServiceState } from './service-state.ts';

const snapshot = {
  receiverUrl: 'http://127.0.0.1:8080',
  receiverUp: true,
  publicUrl: 'https://dw.example',
  webhooks: { enabled: true },
};

for (const dialect of testDialects()) {
  describe(`service state on ${dialect}`, () => {
    test('never started, running, stale, stopped', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        assert.deepEqual(await readServiceState(store.db), {
          running: false,
          notRunning: 'never started',
          webhooks: { enabled: false, message: 'no service running (drivewarden serve or demo)' },
        });
        const t0 = Date.parse('2026-01-01T00:00:00.000Z');
        const at = (ms: number) => new Date(t0 + ms).toISOString();
        await writeServiceState(store.db, snapshot, { now: at(0), heartbeatMs: 10_000, startedAt: at(0) });
        await writeServiceState(
          store.db,
          { ...snapshot, receiverUp: false },
          { now: at(10_000), heartbeatMs: 10_000 },
        );
        const running = await readServiceState(store.db, t0 + 20_000);
        assert.equal(running.running, true);
        assert.equal(running.startedAt, at(0), 'a heartbeat keeps the start time');
        assert.equal(running.heartbeatAt, at(10_000));
        assert.equal(running.receiverUp, false);
        assert.equal(running.publicUrl, 'https://dw.example');
        assert.deepEqual(running.webhooks, { enabled: true });
        // Three missed heartbeats: gone.
        const stale = await readServiceState(store.db, t0 + 10_000 + 31_001);
        assert.equal(stale.running, false);
        assert.equal(stale.notRunning, 'heartbeat stale');
        assert.equal(stale.webhooks.enabled, false);
        await writeServiceState(
          store.db,
          { ...snapshot, publicUrl: null, webhooks: { enabled: false, message: 'polling only' } },
          { now: at(20_000), heartbeatMs: 10_000, startedAt: at(15_000) },
        );
        assert.deepEqual((await readServiceState(store.db, t0 + 21_000)).webhooks, {
          enabled: false,
          message: 'polling only',
        });
        await writeServiceState(store.db, snapshot, { now: at(25_000), heartbeatMs: 10_000, stopped: true });
        const stopped = await readServiceState(store.db, t0 + 26_000);
        assert.equal(stopped.running, false);
        assert.equal(stopped.notRunning, 'stopped');
        assert.equal(stopped.stoppedAt, at(25_000));
      } finally {
        await cleanup();
      }
    });
  });
}
