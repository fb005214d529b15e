import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  eventsOf,
  findingsByKey,
  fixtureRule,
  type SyncedStore,
  syncedStore,
} from '../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { testDialects } from '../../test/support/store.ts';
import { evaluateIntegration } from './evaluate.ts';
import { globToRegExp } from './glob.ts';
import { liftSuppression, SuppressionError, suppressFinding, suppressRule } from './suppressions.ts';

/**
 * Suppressions on findings the engine made from a collected simulator tenant: a suppressed
 * finding stays suppressed while its rule alarms; a rule suppression (with a pattern) holds
 * matching findings, present and future; an expired or lifted one reopens them with an
 * `unsuppressed` event, unless another suppression holds them.
 */

const RULE = fixtureRule('item_fixture_public_absent');
const run = (s: SyncedStore, now?: string) =>
  evaluateIntegration(s.store, { integrationId: s.integrationId, mode: 'full', rules: [RULE], now });

test('suppression patterns: * within a folder, ** across, ? one character, case-insensitive', () => {
  assert.ok(globToRegExp('/Finance/*').test('/finance/plan.xlsx'));
  assert.ok(!globToRegExp('/Finance/*').test('/Finance/2024/plan.xlsx'));
  assert.ok(globToRegExp('/Finance/**').test('/Finance/2024/plan.xlsx'));
  assert.ok(globToRegExp('*.pe?').test('id.pem'));
  assert.ok(!globToRegExp('a.b').test('aXb'), 'dots are literal');
});

for (const dialect of testDialects()) {
  describe(`suppressions (${dialect})`, () => {
    let env: TestSim;
    let s: SyncedStore;
    before(async () => {
      env = await startTestSim({ seed: 9, users: 8, items: 400 });
      s = await syncedStore(dialect, env);
      await run(s);
    });
    after(async () => {
      await s?.cleanup();
      await env?.close();
    });

    const open = async () =>
      [...(await findingsByKey(s.db, s.integrationId, RULE.id)).values()].filter(
        (f) => f.status !== 'resolved',
      );

    test('one finding: suppressed now and while the rule alarms; lifted → unsuppressed, open again', async () => {
      const [f] = await open();
      assert.ok(f, 'a public file finding');
      const sup = await suppressFinding(s.store, f.id, { reason: 'accepted risk', actor: 'alice' });
      const row = await s.db
        .selectFrom('findings')
        .selectAll()
        .where('id', '=', f.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'suppressed');
      assert.equal(Number(row.suppression_id), sup.id);
      const again = await run(s);
      assert.equal(again.findings.opened + again.findings.reopened + again.findings.changed, 0);
      assert.equal(
        (await findingsByKey(s.db, s.integrationId, RULE.id)).get(row.resource_key)?.status,
        'suppressed',
      );
      const events = await s.db
        .selectFrom('finding_events')
        .selectAll()
        .where('finding_id', '=', f.id)
        .orderBy('id')
        .execute();
      assert.deepEqual(
        events.map((e) => [e.event, e.actor]),
        [
          ['opened', null],
          ['suppressed', 'alice'],
        ],
      );
      assert.deepEqual(await liftSuppression(s.store, sup.id, 'bob'), { unsuppressed: 1 });
      assert.deepEqual(await eventsOf(s.db, f.id), ['opened', 'suppressed', 'unsuppressed']);
      assert.equal(
        (await findingsByKey(s.db, s.integrationId, RULE.id)).get(row.resource_key)?.status,
        'open',
      );
      await assert.rejects(liftSuppression(s.store, sup.id, 'bob'), /already lifted/);
    });

    test('a rule suppression with a pattern holds the matching findings only; it expires → they open again', async () => {
      const findings = await s.db
        .selectFrom('findings')
        .select(['id', 'resource_path'])
        .where('integration_id', '=', s.integrationId)
        .where('rule_id', '=', RULE.id)
        .where('status', '=', 'open')
        .execute();
      const folder = findings[0].resource_path?.split('/').slice(0, 2).join('/');
      assert.ok(folder);
      const until = new Date(Date.now() + 3_600_000).toISOString();
      const { suppression, suppressed } = await suppressRule(
        s.store,
        { ruleId: RULE.id, integrationId: s.integrationId, pattern: `${folder}/**` },
        { reason: 'team folder, reviewed', actor: 'carol', until },
      );
      const inFolder = findings.filter((f) => f.resource_path?.startsWith(`${folder}/`));
      assert.equal(suppressed, inFolder.length);
      const after = await s.db
        .selectFrom('findings')
        .select(['id', 'status'])
        .where('rule_id', '=', RULE.id)
        .where('status', '<>', 'resolved')
        .execute();
      for (const f of after)
        assert.equal(f.status, inFolder.some((x) => x.id === f.id) ? 'suppressed' : 'open');
      // Evaluated after the expiry: every one of them is unsuppressed, open again.
      const later = await run(s, new Date(Date.now() + 7_200_000).toISOString());
      assert.equal(later.findings.opened, 0);
      for (const f of inFolder) assert.equal((await eventsOf(s.db, Number(f.id))).at(-1), 'unsuppressed');
      const rows = await s.db
        .selectFrom('suppressions')
        .selectAll()
        .where('id', '=', suppression.id)
        .executeTakeFirstOrThrow();
      assert.equal(rows.expires_at, until);
    });

    test('a finding that opens while a rule suppression holds is suppressed from the start', async () => {
      const all = await open();
      await suppressRule(s.store, { ruleId: RULE.id, pattern: '**' }, { reason: 'everything', actor: 'dan' });
      assert.ok((await open()).every((f) => f.status === 'suppressed'));
      await s.db.deleteFrom('finding_events').where('finding_id', '=', all[0].id).execute();
      await s.db.deleteFrom('findings').where('id', '=', all[0].id).execute();
      const r = await run(s);
      assert.equal(r.findings.opened, 0);
      assert.equal(r.findings.suppressed, 1);
      const reborn = (await open()).filter((f) => !all.some((a) => a.id === f.id));
      assert.equal(reborn.length, 1);
      assert.equal(reborn[0].status, 'suppressed');
      assert.deepEqual(await eventsOf(s.db, reborn[0].id), ['suppressed']);
    });

    test('bad input is refused with a clear message', async () => {
      await assert.rejects(
        suppressFinding(s.store, 999_999, { reason: 'x', actor: 'a' }),
        /no finding 999999/,
      );
      await assert.rejects(suppressFinding(s.store, 1, { reason: ' ', actor: 'a' }), SuppressionError);
      await assert.rejects(
        suppressFinding(s.store, 1, { reason: 'x', actor: 'a', until: 'soon' }),
        /not an ISO-8601 time/,
      );
      await assert.rejects(
        suppressRule(
          s.store,
          { ruleId: RULE.id },
          { reason: 'x', actor: 'a', until: '2001-01-01T00:00:00Z' },
        ),
        /in the past/,
      );
    });
  });
}
