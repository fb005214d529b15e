import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TruthRecord } from '../../sim/contracts.ts';
import { simClient, simContext } from '../../test/support/collector.ts';
import { eventsOf, registerIntegration } from '../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore } from '../../test/support/store.ts';
import { describeDiff, diffWithTruth } from '../../test/support/truth.ts';
import type { GraphClient } from '../graph/types.ts';
import { evaluateIntegration } from '../rules/evaluate.ts';
import { loadBuiltinRules } from '../rules/loader.ts';
import { syncIntegration } from './sync.ts';

/**
 * The risk picture first, observed at the simulator: a full sync asks for no permission
 * until every drive's feed is done, and by then every item's exposure is stored at the level
 * its shared facet proves (every item public in the end is public already); the permission
 * requests then come Anyone-scope first, organization next, the rest last. Rules evaluated
 * on that early picture open findings that the exact one keeps: none closes and reopens.
 */

type ItemTruth = Extract<TruthRecord, { kind: 'item' }>;
const RANK: Record<string, number> = { anonymous: 0, organization: 1, users: 2 };
const RULES = loadBuiltinRules();
const NOW = '2026-03-01T00:00:00.000Z';

describe('risk order of a full sync', () => {
  let env: TestSim;
  before(async () => {
    env = await startTestSim({ seed: 5, users: 8, items: 500, sharedRatio: 0.15, anonymousRatio: 0.05 });
  });
  after(async () => env?.close());

  test('exposure stored before any permission call; permission calls in risk order; early findings never flap', async () => {
    const ts = await openTestStore('sqlite');
    const inner = simClient(env.sim);
    try {
      const integrationId = 'int-risk';
      await registerIntegration(ts.db, 'sqlite', integrationId, env.sim.tenantId);
      const truth = await env.admin.truthArray();
      const items = truth.filter((r): r is ItemTruth => r.kind === 'item');
      const scopeOf = new Map(items.map((i) => [`${i.driveId} ${i.id}`, i.sharedScope]));
      const roots = items.filter((i) => i.sharedScope !== null);
      for (const scope of ['anonymous', 'organization', 'users'])
        assert.ok(
          roots.some((r) => r.sharedScope === scope),
          `the tenant has sharing roots of scope ${scope}`,
        );
      const liveDrives = new Set(items.map((i) => i.driveId));

      // Observation point: the collector's first $batch of permission calls, before it is sent.
      let early: { open: Map<string, number>; critical: number } | null = null;
      const observe = async () => {
        const log = await env.admin.requests();
        assert.equal(
          log.requests.filter((r) => r.url.includes('/permissions')).length,
          0,
          'no permission request reached Graph before the first batch',
        );
        const feeds = await ts.db
          .selectFrom('sync_state')
          .select(['scope', 'phase', 'delta_link'])
          .where('integration_id', '=', integrationId)
          .where('scope', 'like', 'drive:%')
          .execute();
        assert.equal(feeds.length, liveDrives.size, 'every drive has a feed');
        for (const f of feeds) assert.ok(f.phase === 'idle' && f.delta_link, `${f.scope}: feed done`);

        const stored = await ts.db
          .selectFrom('drive_items')
          .select(['drive_id', 'id', 'exposure', 'access_root_id'])
          .where('integration_id', '=', integrationId)
          .where('deleted_at', 'is', null)
          .execute();
        assert.equal(stored.length, items.length, 'every live item stored');
        const byKey = new Map(stored.map((s) => [`${s.drive_id} ${s.id}`, s]));
        for (const i of items) {
          const s = byKey.get(`${i.driveId} ${i.id}`);
          assert.ok(s?.exposure, `${i.path}: exposure stored`);
          if (i.sharedScope !== null) {
            assert.equal(s.access_root_id, i.id, `${i.path}: a sharing root`);
            assert.equal(s.exposure, i.sharedScope === 'anonymous' ? 'public' : s.exposure);
            assert.notEqual(s.exposure, 'private', `${i.path}: shared, so not private`);
          }
          // Public comes only from Anyone links, which the facets show: exact already.
          assert.equal(s.exposure === 'public', i.exposure === 'public', `${i.path}: public or not`);
        }

        await evaluateIntegration(ts.store, { integrationId, mode: 'full', rules: RULES, now: NOW });
        const open = await ts.db
          .selectFrom('findings')
          .select(['id', 'rule_id', 'resource_key', 'severity'])
          .where('integration_id', '=', integrationId)
          .where('status', '=', 'open')
          .where('result', '=', 'alarm')
          .execute();
        early = {
          open: new Map(open.map((f) => [`${f.rule_id} ${f.resource_key}`, Number(f.id)])),
          critical: open.filter((f) => f.severity === 'critical').length,
        };
      };
      let observed = false;
      const client: GraphClient = {
        ...inner,
        async batch(requests) {
          if (!observed && requests.some((r) => r.url.includes('/permissions'))) {
            observed = true;
            await observe();
          }
          return inner.batch(requests);
        },
      };

      await env.admin.recordRequests(true);
      // Without the early reads (early-reads.test.ts covers those): the strict order.
      const result = await syncIntegration(simContext(ts.store, env.sim, client, integrationId), {
        mode: 'full',
        earlyReads: false,
      });
      const log = await env.admin.requests();
      await env.admin.recordRequests(false);
      assert.deepEqual(result.errors, []);
      assert.ok(observed && early, 'the permission phase was observed');
      assert.ok(result.exposureKnownAt && result.permissionsReadAt);
      assert.ok(result.exposureKnownAt <= result.permissionsReadAt);

      // Permission requests: each root once, after the last delta page, riskiest first.
      assert.equal(log.dropped, 0);
      const lastDelta = Math.max(...log.requests.filter((r) => r.url.includes('/delta')).map((r) => r.seq));
      const reads = log.requests.filter((r) => /\/items\/[^/]+\/permissions/.test(r.url));
      assert.equal(reads.length, roots.length, 'one read per sharing root');
      const levels = reads.map((r) => {
        const m = /\/drives\/([^/]+)\/items\/([^/?]+)\/permissions/.exec(r.url);
        assert.ok(m, r.url);
        assert.ok(r.seq > lastDelta, 'after every delta request');
        const scope = scopeOf.get(`${decodeURIComponent(m[1])} ${decodeURIComponent(m[2])}`);
        assert.ok(scope, `a sharing root: ${r.url}`);
        return RANK[scope];
      });
      for (let k = 1; k < levels.length; k++)
        assert.ok(
          levels[k - 1] <= levels[k],
          `risk order: request ${k} (${levels[k - 1]} then ${levels[k]})`,
        );

      const diff = await diffWithTruth(ts.store, integrationId, env.admin);
      assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));

      // The exact picture keeps every finding the early one opened, each opened once.
      await evaluateIntegration(ts.store, { integrationId, mode: 'full', rules: RULES, now: NOW });
      const { open: earlyOpen, critical } = early as { open: Map<string, number>; critical: number };
      assert.ok(
        critical > 0,
        'a critical finding (a key file open to anyone) opened before any permission call',
      );
      for (const [key, id] of earlyOpen) {
        const f = await ts.db
          .selectFrom('findings')
          .select('status')
          .where('id', '=', id)
          .executeTakeFirstOrThrow();
        assert.equal(f.status, 'open', `${key}: still open`);
        assert.deepEqual(await eventsOf(ts.db, id), ['opened'], `${key}: opened once, never closed`);
      }
    } finally {
      await inner.close();
      await ts.cleanup();
    }
  });
});
