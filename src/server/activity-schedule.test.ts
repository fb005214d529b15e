import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { simContext, simulatorSuite } from '../../test/support/collector.ts';
import { quietLogger } from '../../test/support/logger.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { ActivityResult } from '../collect/activity/collect.ts';
import { loadConfig } from '../config/config.ts';
import { startActivitySchedule } from './activity-schedule.ts';

describe('activity schedule of the service', () => {
  const suite = simulatorSuite(
    { seed: 24, users: 5, items: 150, events: { auditBlobSeconds: 1 } },
    'dw-activity-schedule-',
  );

  test('reads the feed of ready integrations every interval, one round at a time', async () => {
    await suite.withStore('schedule', async (store, client) => {
      const { admin } = suite.env;
      const [drive] = (await admin.drives()).sort((a, b) => b.itemCount - a.itemCount);
      await admin.mutate({ op: 'massDownload', driveId: drive.id, count: 4 });
      const config = loadConfig({}, { dataDir: suite.path('data') });
      const rounds: Array<ActivityResult | null> = [];
      let inFlight = 0;
      let overlapped = false;
      const ctx = simContext(store, suite.env.sim, client, 'int-sched');
      const schedule = startActivitySchedule({
        config,
        logger: quietLogger,
        integrations: () => ['int-sched'],
        contextFor: async () => {
          if (++inFlight > 1) overlapped = true;
          return ctx;
        },
        intervalMs: 20,
        onRound: (_id, r) => {
          inFlight--;
          rounds.push(r);
        },
      });
      try {
        await waitFor('4 events stored and 3 rounds', async () => {
          const n = await store.db
            .selectFrom('audit_events')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow();
          return Number(n.n) === 4 && rounds.length >= 3;
        });
      } finally {
        await schedule.stop();
      }
      assert.equal(overlapped, false);
      assert.ok(rounds.every((r) => r !== null && r.error === undefined));
      assert.equal(
        rounds.reduce((sum, r) => sum + (r?.eventsNew ?? 0), 0),
        4,
      );
      const after = rounds.length;
      await schedule.runNow();
      assert.equal(rounds.length, after, 'no round after stop');
    });
  });
});
