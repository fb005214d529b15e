import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Compilable, CompiledQuery, sql } from 'kysely';
import { auditRow, background, burst } from '../../test/support/audit-events.ts';
import { queryPlan } from '../../test/support/query-plan.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { insertAuditEvents } from '../store/audit.ts';
import { ACCESS } from './detectors/off-hours.ts';
import { VOLUME_OPERATIONS } from './detectors/volume.ts';
import { resolveDetectorSettings } from './settings.ts';
import { actorBucketCounts } from './span.ts';

/**
 * The detectors' counts per actor and window (span.ts actorBucketCounts) are ranges of
 * audit_events_operation (integration_id, operation, time, actor_upn), migration 0960, read
 * from the index alone. Without it SQLite searched audit_events_time (integration_id, time) and
 * looked up every event of the judged range (a week and its margins in a first round), whatever
 * its operation, for its operation and actor: over a week of a 216,642-event store the download,
 * delete and access counts took 0.27 / 0.28 / 0.56 CPU s, with the index 0.024 / 0.001 / 0.28
 * (docs/performance.md). PostgreSQL: the index can serve the same counts (see `plan`).
 */

const INTEGRATION = 'int-plans';
const DAY0 = Date.parse('2026-03-09T00:00:00Z');
const RANGE = { from: DAY0, to: DAY0 + 3 * 86_400_000 };

const settings = resolveDetectorSettings();
const COUNTS = {
  mass_delete: VOLUME_OPERATIONS.mass_delete,
  mass_download: VOLUME_OPERATIONS.mass_download,
  mass_external_share: VOLUME_OPERATIONS.mass_external_share,
  off_hours_bulk_access: [...ACCESS],
} as const;

for (const dialect of testDialects()) {
  describe(`the detectors' counts per actor and window are index-only (${dialect})`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(dialect);
      const rows = [
        ...background(DAY0, 3, 5),
        // Each burst inside one bucket of its detector's window (1 and 10 minutes).
        ...burst('dl', 60, DAY0 + 20 * 3_600_000, 30_000, {
          actor: 'user1@contoso.test',
          ip: '10.1.0.1',
          operation: 'FileDownloaded',
        }),
        ...burst('del', 120, DAY0 + 30 * 3_600_000, 300_000, {
          actor: 'user2@contoso.test',
          ip: '10.2.0.1',
          operation: 'FileDeleted',
        }),
        ...burst('share', 30, DAY0 + 40 * 3_600_000, 600_000, {
          actor: 'user3@contoso.test',
          ip: '10.3.0.1',
          operation: 'AnonymousLinkCreated',
        }),
      ].map(auditRow);
      await insertAuditEvents(t.db, t.store.dialect, INTEGRATION, rows, '2026-03-12T15:00:00.000Z');
      // What autovacuum keeps on a live store: statistics, and the visibility map an index-only
      // scan needs (insert-driven autovacuum, PostgreSQL 13+).
      if (dialect === 'postgres') await sql`vacuum analyze audit_events`.execute(t.db);
    });
    after(() => t.cleanup());

    /**
     * SQLite: the plan as is. PostgreSQL: whether the index can serve the count, not which of
     * two the planner prefers today: its index-only scan is cheap only where the visibility map
     * is set, which other tests' open transactions on the same server can hold back (vacuum
     * cannot mark pages all-visible then). So the older audit_events_by_operation is dropped
     * for the EXPLAIN, with sequential and bitmap scans off, in a transaction rolled back.
     */
    const plan = async (query: Compilable): Promise<string> => {
      const q = query.compile();
      if (dialect === 'sqlite') return queryPlan(t.db, dialect, q);
      return t.db.connection().execute(async (c) => {
        await sql`begin`.execute(c);
        try {
          await sql`drop index audit_events_by_operation`.execute(c);
          await sql`set local enable_seqscan = off`.execute(c);
          await sql`set local enable_bitmapscan = off`.execute(c);
          const r = await c.executeQuery<{ 'QUERY PLAN': string }>(
            CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]),
          );
          return r.rows.map((x) => x['QUERY PLAN']).join('\n');
        } finally {
          await sql`rollback`.execute(c);
        }
      });
    };

    for (const [detector, operations] of Object.entries(COUNTS)) {
      test(`${detector}: a range of audit_events_operation per operation, no table lookup`, async () => {
        const p = settings.params[detector as keyof typeof COUNTS];
        const query = actorBucketCounts(t.db, INTEGRATION, [...operations], RANGE, p);
        const explained = await plan(query);
        if (dialect === 'sqlite') {
          assert.match(
            explained,
            /SEARCH audit_events USING COVERING INDEX audit_events_operation \(integration_id=\? AND operation=\? AND time>\? AND time<\?\)/,
          );
        } else {
          assert.match(explained, /Index (Only )?Scan using audit_events_operation/);
          assert.doesNotMatch(explained, /audit_events_time\b/);
        }
        // The counts themselves: the injected bursts are there, per actor.
        const rows = await query.execute();
        const total = (actor: string) =>
          rows.filter((r) => r.actor_upn === actor).reduce((n, r) => n + Number(r.n), 0);
        if (detector === 'mass_download') assert.equal(total('user1@contoso.test'), 60);
        if (detector === 'mass_delete') assert.equal(total('user2@contoso.test'), 120);
        if (detector === 'mass_external_share') assert.equal(total('user3@contoso.test'), 30);
      });
    }
  });
}
