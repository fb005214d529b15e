import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURE_RULES_DIR } from '../../test/support/rules.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { EvaluationResult } from '../rules/evaluate.ts';
import { type AppContext, openApp } from './context.ts';
import { startRulesScheduler } from './rules-scheduler.ts';

/**
 * The service's rule schedule: a burst of applied rounds becomes one incremental
 * evaluation; a full collection a full one; rules come from the built-in set and the
 * config's folders; evaluations run one at a time and stop on close.
 */
describe('the rules scheduler', () => {
  let dir: string;
  let app: AppContext;
  let integrationId: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dw-rules-sched-'));
    app = await openApp({ dataDir: dir, logLevel: 'silent', rules: { folders: [FIXTURE_RULES_DIR] } });
    ({ id: integrationId } = await app.integrations.create({
      name: 'acme',
      tenantId: '11111111-2222-4333-8444-555555555555',
      clientId: 'client',
      clientSecret: 'not used',
    }));
  });
  after(async () => {
    await app?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('five rounds in a burst → one incremental evaluation; a full collection → a full one', async () => {
    const runs: EvaluationResult[] = [];
    const scheduler = startRulesScheduler(app, { debounceMs: 30, onEvaluated: (r) => runs.push(r) });
    try {
      scheduler.fullSyncDone(integrationId);
      await scheduler.idle();
      assert.deepEqual(
        runs.map((r) => r.mode),
        ['full'],
      );
      for (let i = 0; i < 5; i++) scheduler.changed(integrationId);
      await scheduler.idle();
      assert.deepEqual(
        runs.map((r) => r.mode),
        ['full', 'incremental'],
      );
      // Nothing was collected: every rule, built-in or from the config's folder, says so as an error.
      const rules = await app.store.db
        .selectFrom('findings')
        .select(['rule_id', 'result', 'resource_type'])
        .where('integration_id', '=', integrationId)
        .execute();
      assert.ok(rules.some((f) => f.rule_id === 'user_fixture_account_enabled'));
      assert.ok(rules.every((f) => f.result === 'error' && f.resource_type === 'integration'));
      const scores = await app.store.db
        .selectFrom('pack_scores')
        .select('pack_id')
        .where('integration_id', '=', integrationId)
        .execute();
      assert.ok(scores.length > 0, 'the packs were scored after the evaluation');
    } finally {
      await scheduler.close();
    }
    scheduler.changed(integrationId);
    await scheduler.idle();
    assert.equal(runs.length, 2, 'nothing runs after close');
  });

  test('the scheduled full evaluation runs every fullIntervalMs', async () => {
    const runs: EvaluationResult[] = [];
    const scheduler = startRulesScheduler(app, { fullIntervalMs: 40, onEvaluated: (r) => runs.push(r) });
    try {
      await waitFor('two scheduled evaluations', () => runs.length >= 2);
      assert.ok(runs.every((r) => r.mode === 'full'));
    } finally {
      await scheduler.close();
    }
  });
});
