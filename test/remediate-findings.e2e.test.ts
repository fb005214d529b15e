import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { removeAndReread } from '../src/app/remediate.ts';
import { planForFinding, planForRule } from '../src/remediate/targets.ts';
import { listActions } from '../src/remediate/trail.ts';
import { evaluateIntegration } from '../src/rules/evaluate.ts';
import { loadBuiltinRules } from '../src/rules/loader.ts';
import { findingsByKey, type SyncedStore, syncedStore } from './support/rules.ts';
import { startTestSim, type TestSim } from './support/simulator.ts';
import { testDialects } from './support/store.ts';

/**
 * Issue 13's acceptance with the rules engine: an Anyone link the built-in rule alarms on is
 * removed from its finding; the link leaves Graph's ground truth, the trail holds the
 * removal, and ONE incremental evaluation after the re-read resolves the finding.
 */

const LINK_RULE = 'permission_anonymous_link_absent';

for (const dialect of testDialects()) {
  describe(`a finding remediated, then resolved by the engine (${dialect})`, () => {
    let env: TestSim;
    let s: SyncedStore;
    const rules = loadBuiltinRules();
    const evaluate = (mode: 'full' | 'incremental') =>
      evaluateIntegration(s.store, { integrationId: s.integrationId, mode, rules });

    before(async () => {
      env = await startTestSim({ seed: 23, users: 6, items: 250, anonymousRatio: 0.05 });
      s = await syncedStore(dialect, env, { register: true });
    });
    after(async () => {
      await s?.cleanup();
      await env?.close();
    });

    test('remove the Anyone link of an open finding: gone from Graph, in the trail, resolved by one incremental evaluation', async () => {
      const full = await evaluate('full');
      assert.deepEqual(full.failedRules, []);
      const open = [...(await findingsByKey(s.db, s.integrationId, LINK_RULE)).values()].filter(
        (f) => f.status === 'open' && f.result === 'alarm',
      );
      assert.ok(open.length >= 2, `the tenant has Anyone links the rule alarms on (${open.length})`);
      const target = open[0];

      const plan = await planForFinding(s.db, s.integrationId, target.id, 'public');
      assert.equal(plan.steps.length, 1);
      const [step] = plan.steps;
      const linkLive = async () =>
        (await env.admin.truthArray()).some((r) => r.kind === 'permission' && r.id === step.permissionId);
      assert.ok(await linkLive());

      const run = await removeAndReread(s.ctx, plan, 'test:engine');
      assert.deepEqual(
        run.outcomes.map((o) => o.result),
        ['done'],
      );
      assert.equal(await linkLive(), false, 'gone from the ground truth');
      const [entry] = await listActions(s.db, { planId: plan.id });
      assert.equal(entry.origin, `finding ${target.id}`);
      assert.ok(entry.request_id);

      const inc = await evaluate('incremental');
      assert.equal(inc.mode, 'incremental');
      const after = await findingsByKey(s.db, s.integrationId, LINK_RULE);
      const resolved = [...after.values()].find((f) => f.id === target.id);
      assert.equal(resolved?.status, 'resolved', 'the finding resolved');
      const events = await s.db
        .selectFrom('finding_events')
        .select('event')
        .where('finding_id', '=', target.id)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        events.map((e) => e.event),
        ['opened', 'resolved'],
      );
      const stillOpen = [...after.values()].filter((f) => f.status === 'open' && f.result === 'alarm');
      assert.equal(stillOpen.length, open.length - 1, 'the other alarms are untouched');
      // The rule's remaining alarms are what a rule-wide plan would now remove.
      const rest = await planForRule(s.db, s.integrationId, LINK_RULE, 'public');
      assert.ok(!rest.steps.some((x) => x.permissionId === step.permissionId));
    });
  });
}
