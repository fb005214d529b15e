import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Compilable, CompiledQuery } from 'kysely';
import { auditRow, background } from '../../test/support/audit-events.ts';
import { openTestStore } from '../../test/support/store.ts';
import { insertAuditEvents } from '../store/audit.ts';
import type { Store } from '../store/store.ts';
import { chunkAddresses, eventPositionsAfter } from './baselines.ts';

const DAY0 = Date.parse('2026-03-09T00:00:00Z');
const OBSERVED = '2026-03-12T15:00:00.000Z';

async function planOf(store: Store, query: Compilable): Promise<string[]> {
  const { sql, parameters } = query.compile();
  const plan = await store.db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`explain query plan ${sql}`, [...parameters]),
  );
  return plan.rows.map((r) => r.detail);
}

test('SQLite: the baseline build reads each chunk as a range of (observed_at, id), not every event', async () => {
  // The plans of the OR spelling (observed_at > a or (observed_at = a and id > b)): a search of
  // audit_events_actor by integration alone for each chunk's aggregates, and of
  // audit_events_observed by integration alone for the next chunk's end. One collection round
  // stamps every event with the same observed_at, so with either, each of the 230 chunks of a
  // 1.15M-event first round read all 1.15M events (issue 16: first round 57 -> 144 s).
  const { store, cleanup } = await openTestStore('sqlite');
  try {
    await insertAuditEvents(store.db, store.dialect, 'int-p', background(DAY0, 2, 5).map(auditRow), OBSERVED);
    const after = { observedAt: OBSERVED, id: 'a' };
    const upTo = { observedAt: OBSERVED, id: 'm' };
    const range =
      /audit_events_observed \(integration_id=\? AND \(observed_at,id\)>\(\?,\?\) AND \(observed_at,id\)<\(\?,\?\)\)/;
    const aggregates = await planOf(store, chunkAddresses(store.db, 'int-p', after, upTo));
    assert.match(aggregates.join('\n'), range);
    assert.doesNotMatch(aggregates.join('\n'), /\bSCAN audit_events\b/);
    const first = await planOf(store, chunkAddresses(store.db, 'int-p', null, upTo));
    assert.match(
      first.join('\n'),
      /audit_events_observed \(integration_id=\? AND \(observed_at,id\)<\(\?,\?\)\)/,
    );
    const next = await planOf(
      store,
      eventPositionsAfter(store.db, 'int-p', after)
        .orderBy('observed_at')
        .orderBy('id')
        .limit(1)
        .offset(4_999),
    );
    assert.match(
      next.join('\n'),
      /audit_events_observed \(integration_id=\? AND \(observed_at,id\)>\(\?,\?\)\)/,
    );
    assert.doesNotMatch(next.join('\n'), /TEMP B-TREE FOR ORDER BY/);
  } finally {
    await cleanup();
  }
});
