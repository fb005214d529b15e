import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { encodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import { computePackScores, packScoreHistory, recordPackScores } from './pack-score.ts';
import { parsePack } from './packs.ts';

const pack = parsePack(
  `id: demo-pack
title: Demo
version: "1"
source: https://example.org/demo
controls:
  - {id: C.clean, title: all ok, rules: [rule_clean_ok]}
  - {id: C.alarm, title: one alarm, rules: [rule_clean_ok, rule_with_alarm]}
  - {id: C.error, title: one error, rules: [rule_with_error]}
  - {id: C.suppressed, title: suppressed only, rules: [rule_suppressed_only]}
  - {id: C.resolved, title: resolved only, rules: [rule_resolved_only]}
  - {id: C.disabled, title: disabled rule, rules: [rule_clean_ok, rule_disabled_here]}
  - {id: C.uncovered, title: no rules, rules: []}
`,
  'demo-pack.yaml',
  new Set([
    'rule_clean_ok',
    'rule_with_alarm',
    'rule_with_error',
    'rule_suppressed_only',
    'rule_resolved_only',
    'rule_disabled_here',
  ]),
);

const T0 = '2026-03-01T00:00:00.000Z';

async function finding(
  t: TestStore,
  integrationId: string,
  ruleId: string,
  key: string,
  status: 'open' | 'resolved' | 'suppressed',
  result: 'alarm' | 'error',
): Promise<void> {
  await t.db
    .insertInto('findings')
    .values({
      integration_id: integrationId,
      rule_id: ruleId,
      resource_type: 'drive',
      resource_key: key,
      resource_id: key,
      status,
      result,
      severity: 'high',
      reason: 'seeded',
      details: encodeValue('json', {}, t.store.dialect),
      first_seen: T0,
      last_seen: T0,
    })
    .execute();
}

async function evaluation(
  db: Kysely<Database>,
  integrationId: string,
  e: { ruleId?: string; finished?: boolean; error?: string; mode?: 'full' | 'incremental' },
): Promise<void> {
  await db
    .insertInto('rule_evaluations')
    .values({
      integration_id: integrationId,
      mode: e.mode ?? 'full',
      rule_id: e.ruleId ?? null,
      started_at: T0,
      finished_at: e.finished === false ? null : T0,
      change_cursor_from: null,
      change_cursor_to: null,
      rules_run: 1,
      ok_count: 0,
      alarm_count: 0,
      error_count: 0,
      opened: 0,
      resolved: 0,
      duration_ms: 1,
      error_message: e.error ?? null,
    })
    .execute();
}

for (const dialect of testDialects()) {
  describe(`pack scores (${dialect})`, () => {
    let t: TestStore;
    before(async () => {
      t = await openTestStore(dialect);
      await evaluation(t.db, 'i1', {});
      await finding(t, 'i1', 'rule_with_alarm', 'd1', 'open', 'alarm');
      await finding(t, 'i1', 'rule_with_alarm', 'd2', 'open', 'alarm');
      await finding(t, 'i1', 'rule_with_error', 'integration', 'open', 'error');
      await finding(t, 'i1', 'rule_suppressed_only', 'd1', 'suppressed', 'alarm');
      await finding(t, 'i1', 'rule_resolved_only', 'd1', 'resolved', 'alarm');
      // Another integration's problems never count here.
      await finding(t, 'i2', 'rule_clean_ok', 'd9', 'open', 'alarm');
      await t.db
        .insertInto('rule_settings')
        .values({
          integration_id: 'i1',
          rule_id: 'rule_disabled_here',
          enabled: encodeValue('boolean', false, dialect) as boolean,
          params: null,
          updated_at: T0,
          updated_by: 'test',
        })
        .execute();
    });
    after(() => t.cleanup());

    it('passes controls whose rules ran clean, fails those with open alarms or errors', async () => {
      const [score] = await computePackScores(t.db, 'i1', [pack], T0);
      const status = Object.fromEntries(score.controls.map((c) => [c.id, c.status]));
      assert.deepEqual(status, {
        'C.clean': 'pass',
        'C.alarm': 'fail',
        'C.error': 'fail',
        'C.suppressed': 'pass',
        'C.resolved': 'pass',
        'C.disabled': 'not_evaluated',
        'C.uncovered': 'not_evaluated',
      });
      assert.deepEqual(score.controls[1].failing, [{ ruleId: 'rule_with_alarm', open: 2 }]);
      assert.deepEqual(score.controls[5].notRun, ['rule_disabled_here']);
      assert.deepEqual([score.passing, score.evaluated, score.total, score.score], [3, 5, 7, 3 / 5]);
    });

    it('evaluates nothing for an integration whose rules never ran to the end', async () => {
      await evaluation(t.db, 'i3', { finished: false });
      await evaluation(t.db, 'i3', { error: 'database is locked' });
      await evaluation(t.db, 'i3', { mode: 'incremental' });
      const [score] = await computePackScores(t.db, 'i3', [pack], T0);
      assert.deepEqual([score.passing, score.evaluated, score.score], [0, 0, null]);
      // A single-rule run counts for that rule only.
      await evaluation(t.db, 'i3', { ruleId: 'rule_clean_ok' });
      const [after] = await computePackScores(t.db, 'i3', [pack], T0);
      assert.deepEqual(
        after.controls.filter((c) => c.status !== 'not_evaluated').map((c) => [c.id, c.status]),
        [['C.clean', 'pass']],
      );
    });

    it('records a score when it changes, and keeps its history', async () => {
      await recordPackScores(t.store, 'i1', [pack], '2026-03-01T01:00:00.000Z');
      await recordPackScores(t.store, 'i1', [pack], '2026-03-01T02:00:00.000Z');
      assert.equal((await packScoreHistory(t.db, { integrationId: 'i1' })).length, 1, 'nothing changed');
      await t.db
        .updateTable('findings')
        .set({ status: 'resolved', resolved_at: T0 })
        .where('integration_id', '=', 'i1')
        .where('rule_id', '=', 'rule_with_alarm')
        .execute();
      await recordPackScores(t.store, 'i1', [pack], '2026-03-01T03:00:00.000Z');
      const history = await packScoreHistory(t.db, { integrationId: 'i1', packId: 'demo-pack' });
      assert.deepEqual(
        history.map((h) => [h.at, h.passing, h.evaluated, h.total]),
        [
          ['2026-03-01T03:00:00.000Z', 4, 5, 7],
          ['2026-03-01T01:00:00.000Z', 3, 5, 7],
        ],
      );
      assert.equal(history[0].score, 0.8);
    });
  });
}
