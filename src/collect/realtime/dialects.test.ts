import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebhookReceiver } from '../../server/webhooks/receiver.ts';
import { openTestStore, TEST_DIALECTS } from '../../store/test-support.ts';
import { DeltaCoordinator } from './coordinator.ts';
import { InboxWorker } from './inbox-worker.ts';
import { getRealtimeStatus } from './status.ts';
import { SubscriptionCache } from './subscription-cache.ts';
import { quietLogger, RecordingRunner, subscriptionRow } from './test-support.ts';

for (const dialect of TEST_DIALECTS) {
  describe(`realtime tables on ${dialect}`, () => {
    it('inbox, rejection counters, processing and status work', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      const db = store.db;
      const runner = new RecordingRunner();
      const coordinator = new DeltaCoordinator({ db, runner, logger: quietLogger, debounceMs: 10 });
      const worker = new InboxWorker({
        db,
        coordinator,
        lifecycle: { reauthorize: async () => undefined, recreate: async () => undefined },
        logger: quietLogger,
        scanIntervalMs: 20,
      });
      const cache = new SubscriptionCache(db);
      const receiver = new WebhookReceiver({
        db,
        cache,
        logger: quietLogger,
        onPersisted: () => worker.wake(),
      });
      try {
        await db
          .insertInto('graph_subscriptions')
          .values(
            subscriptionRow({
              id: 'sub-1',
              tenant_id: 'T',
              client_state: 'secret',
              notification_url: 'https://x/webhooks/graph',
            }),
          )
          .execute();
        await cache.load();
        const ok = { subscriptionId: 'sub-1', clientState: 'secret', tenantId: 'T', changeType: 'updated' };
        const result = await receiver.accept([
          ok,
          ok,
          { ...ok, clientState: 'nope' },
          { ...ok, subscriptionId: 'zz' },
        ]);
        assert.deepEqual(result, { accepted: 2, rejected: 2 });
        await receiver.accept([{ ...ok, clientState: 'nope' }]);
        await receiver.flushRejections();
        await receiver.accept([{ ...ok, clientState: 'nope' }]);
        await receiver.flushRejections();
        const before = await getRealtimeStatus(db);
        assert.equal(before.targets[0].pendingNotifications, 2);
        assert.ok(before.targets[0].lagMs >= 0);
        assert.deepEqual(before.integrations[0].rejected, { client_state_mismatch: 3 });
        assert.deepEqual(before.rejectedUnattributed, { unknown_subscription: 1 });
        worker.start();
        await runner.waitForRuns(1);
        await new Promise((r) => setTimeout(r, 50));
        await coordinator.idle();
        const after = await getRealtimeStatus(db);
        assert.equal(after.targets[0].pendingNotifications, 0);
        assert.equal(after.targets[0].lastSource, 'webhook');
        assert.ok(after.targets[0].lastDeltaAt);
        assert.equal(runner.runs.length, 1);
      } finally {
        await worker.close();
        await coordinator.close();
        await receiver.close();
        await cleanup();
      }
    });
  });
}
