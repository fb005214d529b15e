import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simCredentials } from '../../sim/connection.ts';
import { quietLogger } from '../../test/support/logger.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { waitFor } from '../../test/support/wait.ts';
import { loadConfig } from '../config/config.ts';
import { SavedQueries } from '../query/saved-queries.ts';
import { addSchedule, getSchedule, nextRun } from '../remediate/review-schedules.ts';
import { startService } from '../server/service.ts';
import { type AppContext, assembleApp } from './context.ts';
import { launchDueSchedules } from './review-campaigns.ts';
import { openReviewSender } from './review-delivery.ts';

const DAY = 86_400_000;

/**
 * Scheduled campaigns: a saved query of outside shares, each quarter. The running service
 * launches it once when due; a restarted service does not launch it again in the same period;
 * the next run is stored, and periods missed while down launch once.
 */
for (const dialect of testDialects()) {
  describe(`scheduled review campaigns (${dialect})`, () => {
    let ts: TestSim;
    let t: TestStore;
    let app: AppContext;
    let dir: string;
    before(async () => {
      ts = await startTestSim({ users: 8, items: 300, sharedRatio: 0.1, deltaRepeatRate: 0 });
      t = await openTestStore(dialect);
      dir = mkdtempSync(join(tmpdir(), 'dw-review-sched-'));
      app = assembleApp(loadConfig({}, { dataDir: dir, logLevel: 'silent' }), quietLogger, t.store);
    });
    after(async () => {
      await t?.cleanup();
      await ts?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('launched once per period by the service, also across a restart', async () => {
      const integration = await app.integrations.create({
        name: 'svc',
        ...simCredentials(ts.sim),
        verifiedDomains: ts.sim.verifiedDomains,
      });
      await new SavedQueries(t.store).save({
        name: 'outside-grants',
        description: 'grants to people outside the tenant',
        sql: "select g.drive_id, g.permission_id from grants g where g.audience in ('external', 'guest') and g.is_owner = false",
      });
      const start = new Date();
      const schedule = await addSchedule(
        t.db,
        t.store.dialect,
        {
          integrationId: integration.id,
          name: 'quarterly outside shares',
          source: { kind: 'query', id: 'outside-grants', params: {} },
          scope: 'external',
          every: 'quarterly',
          expiresDays: 14,
          escalateAfterDays: 7,
          delivery: null,
          escalationChannel: null,
          baseUrl: null,
          nextRunAt: start.toISOString(),
          createdBy: 'test',
        },
        start,
      );
      const campaigns = () =>
        t.db.selectFrom('review_campaigns').select(['id', 'origin', 'schedule_id']).orderBy('id').execute();

      for (let run = 0; run < 2; run++) {
        const service = await startService(app, {
          listen: false,
          alerts: false,
          rules: false,
          reviewsIntervalMs: 100,
        });
        try {
          await service.ready;
          service.reviews.kick();
          await waitFor('a launch', async () => (await campaigns()).length >= 1, {
            timeoutMs: 30_000,
            intervalMs: 50,
          });
          // Several more rounds on the timer.
          await new Promise((r) => setTimeout(r, 500));
          await service.reviews.idle();
        } finally {
          await service.close();
        }
      }
      const launched = await campaigns();
      assert.equal(launched.length, 1, 'once, across the restart');
      assert.equal(launched[0].origin, 'query outside-grants');
      assert.equal(Number(launched[0].schedule_id), schedule.id);
      const items = await t.db
        .selectFrom('review_items')
        .select('permission_id')
        .where('campaign_id', '=', Number(launched[0].id))
        .execute();
      assert.ok(items.length > 0, 'the query rows became review items');
      const stored = await getSchedule(t.db, 'quarterly outside shares');
      assert.equal(stored?.nextRunAt, nextRun('quarterly', start).toISOString(), 'the next run is stored');
      assert.equal(stored?.lastCampaignId, Number(launched[0].id));
      assert.equal(stored?.lastError, null);

      // Two periods later (the service was down meanwhile): one launch, the next run in the future.
      const later = new Date(start.getTime() + 200 * DAY);
      const sender = openReviewSender(app, async () => {
        throw new Error('no Graph needed');
      });
      try {
        const out = await launchDueSchedules(app, sender, later);
        assert.equal(out.length, 1);
        assert.equal(out[0].error, null);
        assert.deepEqual(await launchDueSchedules(app, sender, later), []);
      } finally {
        await sender.close();
      }
      const moved = await getSchedule(t.db, String(schedule.id));
      assert.ok(Date.parse(moved?.nextRunAt ?? '') > later.getTime());
      assert.equal((await campaigns()).length, 2);
    });
  });
}
