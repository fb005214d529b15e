import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runDetectors } from '../src/anomalies/run.ts';
import { resolveDetectorSettings } from '../src/anomalies/settings.ts';
import type { Detection } from '../src/anomalies/types.ts';
import { recordDetections } from '../src/app/anomaly-findings.ts';
import { collectActivity } from '../src/collect/activity/collect.ts';
import { syncIntegration } from '../src/collect/sync.ts';
import { simContext, simulatorSuite } from './support/collector.ts';

const WEEK_HOURS = 7 * 24;
const key = (d: Detection) => `${d.detector}|${d.resourceId}|${d.from}`;

/**
 * The acceptance of issue 11 on the simulator: a week of background activity raises no
 * detection; each injected attack raises exactly its detector's, with evidence, right after
 * its content is read.
 */
describe('activity: background week and attack scenarios', () => {
  const suite = simulatorSuite(
    { seed: 31, users: 20, items: 6000, events: { auditBlobSeconds: 5, auditDuplicateRate: 0.05 } },
    'dw-activity-e2e-',
  );

  test('no false positive on a week of background; every scenario detected by its detector only', async () => {
    await suite.withStore('e2e', async (store, client) => {
      const { admin } = suite.env;
      let offset = 0;
      const now = () => Date.now() + offset;
      const tick = async () => {
        offset = (await admin.advanceClock(6)) - Date.now();
      };
      const ctx = simContext(store, suite.env.sim, client, 'int-e2e');
      await syncIntegration(ctx, { mode: 'full' });
      const bg = await admin.mutate<{ events: number }>({ op: 'backgroundActivity', days: 7, seed: 3 });
      await tick();
      const read = await collectActivity(ctx, { now });
      assert.equal(read.error, undefined);
      assert.equal(read.eventsNew, bg.events);
      const settings = resolveDetectorSettings();
      const detect = () => runDetectors(store.db, 'int-e2e', { now: now(), hours: WEEK_HOURS, settings });
      const background = await detect();
      assert.deepEqual(background.map(key), [], 'a week of background activity alone raises nothing');

      const seen = new Set<string>();
      const expected = {
        massDownload: 'mass_download',
        massDelete: 'mass_delete',
        massExternalShare: 'mass_external_share',
        newCountryIp: 'unusual_ip',
        anonymousLinkOnSensitive: 'new_anonymous_link_on_sensitive',
      } as const;
      for (const [scenario, detector] of Object.entries(expected)) {
        const injected = await admin.mutate<{ actorUpn: string; itemIds: string[] }>({
          op: 'attack',
          scenario: scenario as keyof typeof expected,
          ...(scenario === 'massDelete' ? { count: 150 } : {}),
        });
        await tick();
        const t0 = Date.now();
        const r = await collectActivity(ctx, { now });
        assert.equal(r.error, undefined);
        const fresh = (await detect()).filter((d) => !seen.has(key(d)));
        const elapsed = Date.now() - t0;
        for (const d of fresh) seen.add(key(d));
        assert.deepEqual(
          fresh.map((d) => d.detector),
          [detector],
          `${scenario} raises exactly ${detector}: ${fresh.map((d) => d.reason).join('; ')}`,
        );
        const [d] = fresh;
        assert.equal(d.actor, injected.actorUpn.toLowerCase());
        assert.ok(d.evidence.count > 0 && d.evidence.eventIds.length > 0, 'with evidence');
        assert.ok(elapsed < 60_000, `detected ${elapsed} ms after the content became available`);
      }

      // quota_spike comes from the inventory's drive history: a drive grows by half, the next sync sees it.
      const [drive] = await store.db
        .selectFrom('drives')
        .select(['id', 'quota_used', 'owner_email'])
        .where('integration_id', '=', 'int-e2e')
        .where('quota_used', '>', 1024 ** 3)
        .orderBy('id')
        .limit(1)
        .execute();
      assert.ok(drive, 'a drive using more than 1 GiB');
      await admin.mutate({
        op: 'setQuotaUsed',
        driveId: drive.id,
        used: Math.round(Number(drive.quota_used) * 1.5),
      });
      await syncIntegration(ctx, { mode: 'delta' });
      const fresh = (await detect()).filter((d) => !seen.has(key(d)));
      assert.deepEqual(
        fresh.map((d) => [d.detector, d.resourceType, d.resourceId, d.actor]),
        [['quota_spike', 'drive', drive.id, drive.owner_email]],
      );

      // The detections become findings with their events, once: a second pass over the same
      // span updates the same findings and writes no event.
      const first = await recordDetections(store, 'int-e2e', { now: now(), hours: WEEK_HOURS, settings });
      const findings = await store.db
        .selectFrom('findings')
        .select(['id', 'rule_id', 'status', 'resource_owner'])
        .where('integration_id', '=', 'int-e2e')
        .orderBy('rule_id')
        .execute();
      assert.deepEqual(
        [...new Set(findings.map((f) => f.rule_id))],
        [...Object.values(expected), 'quota_spike'].sort(),
      );
      assert.ok(findings.every((f) => f.status === 'open' && f.resource_owner));
      assert.equal(first.opened, findings.length);
      const events = () =>
        store.db
          .selectFrom('finding_events')
          .select('event')
          .where('integration_id', '=', 'int-e2e')
          .execute();
      assert.deepEqual(
        (await events()).map((e) => e.event),
        findings.map(() => 'opened'),
      );
      const again = await recordDetections(store, 'int-e2e', { now: now(), hours: WEEK_HOURS, settings });
      assert.deepEqual([again.opened, again.reopened, again.resolved, again.changed], [0, 0, 0, 0]);
      assert.equal((await events()).length, findings.length);
    });
  });

  test('without ActivityFeed.Read: an error of the audit feed only, mass_delete still found from the history', async () => {
    await suite.withStore('no-audit', async (store, client) => {
      const { admin } = suite.env;
      const ctx = simContext(store, suite.env.sim, client, 'int-no-audit');
      await syncIntegration(ctx, { mode: 'full' });
      await admin.setFaults([{ kind: 'forbidden403', resourceType: 'audit' }]);
      try {
        const attack = await admin.mutate<{ driveId: string }>({
          op: 'attack',
          scenario: 'massDelete',
          count: 120,
        });
        const read = await collectActivity(ctx);
        assert.equal(read.error?.code, 'AF10001');
        const round = await syncIntegration(ctx, { mode: 'delta' });
        // Everything else was collected (the audit feed may be listed as not collected).
        const missing = Object.entries(round.resources).filter(
          ([r, status]) => r !== 'audit' && status !== 'ok',
        );
        assert.deepEqual(missing, []);
        const found = await runDetectors(store.db, 'int-no-audit', {
          hours: 1,
          settings: resolveDetectorSettings(),
        });
        assert.deepEqual(
          found.map((d) => [d.detector, d.resourceType, d.resourceId, d.evidence.count]),
          [['mass_delete', 'drive', attack.driveId, 120]],
        );
      } finally {
        await admin.setFaults([]);
      }
    });
  });
});
