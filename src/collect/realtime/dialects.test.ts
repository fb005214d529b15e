import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quietLogger } from '../../../test/support/logger.ts';
import { RecordingRunner, subscriptionRow } from '../../../test/support/realtime.ts';
import { openTestStore, testDialects } from '../../../test/support/store.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { WebhookReceiver } from '../../server/webhooks/receiver.ts';
import { SubscriptionCache } from '../../store/subscription-cache.ts';
import { DeltaCoordinator } from './coordinator.ts';
import { InboxWorker } from './inbox-worker.ts';
import { ManualTimers } from './manual-timers.ts';
import { getRealtimeStatus } from './status.ts';

for (const dialect of testDialects()) {
  describe(`realtime tables on ${dialect}`, () => {
    it('inbox, rejection counters, processing and status work', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      const db = store.db;
      // A simulated clock: the debounced run happens when the test advances it, not while the
      // status before it is still being read (PostgreSQL round trips take real time).
      const timers = new ManualTimers();
      const runner = new RecordingRunner(timers);
      const coordinator = new DeltaCoordinator({ db, runner, logger: quietLogger, timers, debounceMs: 10 });
      const worker = new InboxWorker({
        db,
        coordinator,
        lifecycle: { reauthorize: async () => undefined, recreate: async () => undefined },
        logger: quietLogger,
        timers,
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
        await waitFor('the rows handed to the coordinator', () =>
          coordinator.snapshot().some((t) => t.pendingRows === 2),
        );
        await timers.advance(10);
        await runner.waitForRuns(1);
        await coordinator.idle();
        await timers.advance(100); // later scans start nothing more
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
