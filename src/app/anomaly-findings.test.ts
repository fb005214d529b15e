import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { auditRow, background, burst, type EventSpec } from '../../test/support/audit-events.ts';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { noStats, refreshBaselines } from '../anomalies/baselines.ts';
import { detectAll } from '../anomalies/detect.ts';
import { loadActivityEvents } from '../anomalies/load.ts';
import { resolveDetectorSettings } from '../anomalies/settings.ts';
import { insertAuditEvents } from '../store/audit.ts';
import type { Store } from '../store/store.ts';
import { recordDetections } from './anomaly-findings.ts';

const HOUR = 3_600_000;
/** Monday 2026-03-09 00:00 UTC; "now" is Thursday 15:00 UTC. */
const DAY0 = Date.parse('2026-03-09T00:00:00Z');
const NOW = DAY0 + 3 * 24 * HOUR + 15 * HOUR;
const settings = resolveDetectorSettings();

for (const dialect of testDialects()) {
  describe(`incremental anomaly detection (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
    });
    after(async () => cleanup());

    const arrive = (events: EventSpec[], at: number) =>
      insertAuditEvents(store.db, store.dialect, 'int-i', events.map(auditRow), new Date(at).toISOString());
    const round = async (now: number) => {
      const stats = noStats();
      const r = await recordDetections(store, 'int-i', { now, settings, stats, hours: 4 * 24 });
      return { ...r, stats };
    };
    const findings = () =>
      store.db
        .selectFrom('findings')
        .select(['rule_id', 'resource_key', 'details'])
        .where('integration_id', '=', 'int-i')
        .orderBy('rule_id')
        .execute();
    const findingEvents = async () =>
      (
        await store.db
          .selectFrom('finding_events')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('integration_id', '=', 'int-i')
          .executeTakeFirstOrThrow()
      ).n;

    test('each round judges only the windows of what arrived, reads few rows, and finds what detectAll finds', async () => {
      const bg = background(DAY0, 4, 10).filter((e) => e.time < NOW - HOUR);
      await arrive(bg, NOW - HOUR);
      const first = await round(NOW - HOUR);
      assert.equal(first.detections, 0, 'background alone raises nothing');
      assert.ok(first.stats.rows < 50, `first run read ${first.stats.rows} event rows of ${bg.length}`);

      // A download burst arrives, then a delete burst 10 h late and a new address.
      const downloads = burst('dl', 60, NOW - 30 * 60_000, 50_000, {
        actor: 'user3@contoso.test',
        ip: '10.3.0.1',
        operation: 'FileDownloaded',
      });
      await arrive(downloads, NOW - 20 * 60_000);
      const second = await round(NOW - 20 * 60_000);
      assert.deepEqual(
        (await findings()).map((f) => f.rule_id),
        ['mass_download'],
      );
      assert.ok(second.stats.rows <= 60, `second round read ${second.stats.rows} event rows`);

      const lateDeletes = burst('del', 120, NOW - 10 * HOUR, 5 * 60_000, {
        actor: 'user5@contoso.test',
        ip: '10.5.0.2',
        operation: 'FileDeleted',
      });
      const newAddress = burst('odd', 3, NOW - 5 * 60_000, 2 * 60_000, {
        actor: 'user7@contoso.test',
        ip: '185.220.101.47',
      });
      await arrive([...lateDeletes, ...newAddress], NOW);
      const third = await round(NOW);
      assert.ok(third.stats.largest <= 120, `at most ${third.stats.largest} rows held at once`);
      const found = await findings();
      assert.deepEqual(
        found.map((f) => [f.rule_id, f.resource_key]),
        [
          ['mass_delete', 'user5@contoso.test'],
          ['mass_download', 'user3@contoso.test'],
          ['unusual_ip', 'user7@contoso.test'],
        ],
      );

      // The same detections as the detectors over every event at once.
      const all = await loadActivityEvents(
        store.db,
        'int-i',
        new Date(DAY0).toISOString(),
        new Date(NOW + 1).toISOString(),
      );
      const reference = detectAll({ events: all, since: DAY0, settings });
      assert.deepEqual(
        reference.map((d) => [d.detector, d.actor, d.evidence.count]).sort(),
        found
          .map((f) => {
            const details = (typeof f.details === 'string' ? JSON.parse(f.details) : f.details) as {
              actor: string;
              evidence: { count: number };
            };
            return [f.rule_id, details.actor, details.evidence.count];
          })
          .sort(),
      );
      const unusual = found.find((f) => f.rule_id === 'unusual_ip');
      assert.ok(unusual);
      const details = typeof unusual.details === 'string' ? JSON.parse(unusual.details) : unusual.details;
      const evidence = (details as { evidence: { eventIds: string[] } }).evidence;
      assert.deepEqual(
        evidence.eventIds,
        newAddress.map((e) => e.id),
      );

      // Nothing new: nothing read, nothing written.
      const events = await findingEvents();
      const idle = await round(NOW + 60_000);
      assert.deepEqual([idle.detections, idle.stats.rows, idle.opened, idle.changed], [0, 0, 0, 0]);
      assert.equal(await findingEvents(), events);
    });

    test('the baseline is built in chunks from what is stored, and pruned past its days', async () => {
      const bg = background(DAY0, 4, 10);
      await insertAuditEvents(
        store.db,
        store.dialect,
        'int-c',
        bg.map(auditRow),
        new Date(NOW).toISOString(),
      );
      const built = await refreshBaselines(store.db, 'int-c', settings.params.unusual_ip, NOW, 500);
      assert.deepEqual(built, { events: bg.length, chunks: Math.ceil(bg.length / 500) });
      const again = await refreshBaselines(store.db, 'int-c', settings.params.unusual_ip, NOW, 500);
      assert.deepEqual(again, { events: 0, chunks: 0 }, 'folded once');
      const rows = await store.db
        .selectFrom('anomaly_actor_ips')
        .select(['actor', 'ip', 'events'])
        .where('integration_id', '=', 'int-c')
        .where('actor', '=', 'user0@contoso.test')
        .orderBy('ip')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.ip, Number(r.events)]),
        [
          ['10.0.0.1', 72],
          ['10.0.0.2', 72],
        ],
      );
      const later = NOW + 40 * 24 * HOUR;
      await recordDetections(store, 'int-i', { now: later, settings });
      const left = await store.db
        .selectFrom('anomaly_actor_ips')
        .select('ip')
        .where('integration_id', '=', 'int-i')
        .execute();
      assert.deepEqual(left, [], 'nothing used within the last 30 days');
    });
  });
}
