import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  findingsByKey,
  fixtureRule,
  fixtureRules,
  type SyncedStore,
  setProbe,
  syncedStore,
} from '../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { testDialects } from '../../test/support/store.ts';
import { capabilities } from '../resources/capabilities.ts';
import { putSyncState, recordSyncError } from '../store/sync-state.ts';
import { readAvailability } from './availability.ts';
import type { RuleDefinition } from './definition.ts';
import { evaluateIntegration } from './evaluate.ts';
import { BUILTIN_RULES_DIR, loadBuiltinRules } from './loader.ts';

/**
 * "error, never ok" when a rule's data is missing: for EVERY built-in rule (whatever
 * rules/builtin holds when the test runs; the fixture rules stand in while it is empty), a
 * required permission the probe found missing makes one error result for the integration
 * naming the permission, and the rule's SQL does not run (not one ok). A type never
 * collected, a type whose collection fails as a whole, and a failing drive likewise.
 */

const builtin = existsSync(BUILTIN_RULES_DIR) ? loadBuiltinRules() : [];
const RULES: RuleDefinition[] = builtin.length > 0 ? builtin : fixtureRules();
const granted = () => Object.fromEntries(capabilities().map((c) => [c.capability, 'granted']));
const permissionOf = (cap: string) => capabilities().find((c) => c.capability === cap)?.permission as string;

for (const dialect of testDialects()) {
  describe(`data availability (${dialect})`, () => {
    let env: TestSim;
    let s: SyncedStore;
    before(async () => {
      env = await startTestSim({ seed: 3, users: 6, items: 150 });
      s = await syncedStore(dialect, env, { register: true });
    });
    after(async () => {
      await s?.cleanup();
      await env?.close();
    });

    test(`every rule (${RULES.length}), every capability it requires: missing permission → one error naming it, never ok`, async () => {
      for (const rule of RULES) {
        for (const cap of rule.requires) {
          await setProbe(s.db, s.integrationId, { ...granted(), [cap]: 'missing' });
          const r = await evaluateIntegration(s.store, {
            integrationId: s.integrationId,
            mode: 'full',
            rules: [rule],
          });
          const what = `${rule.id} without ${cap}`;
          assert.equal(r.ok, 0, `${what}: no ok`);
          assert.equal(r.rulesRun, 0, `${what}: the SQL did not run`);
          assert.equal(r.rulesBlocked, 1, what);
          const open = [...(await findingsByKey(s.db, s.integrationId, rule.id)).entries()].filter(
            ([, f]) => f.status !== 'resolved' && f.result === 'error',
          );
          assert.deepEqual(
            open.map(([key]) => key),
            [`integration:${s.integrationId}`],
            what,
          );
          const [, finding] = open[0];
          assert.equal(finding.resource_type, 'integration');
          assert.ok(
            finding.reason.includes(permissionOf(cap)),
            `${what}: the reason names ${permissionOf(cap)}: ${finding.reason}`,
          );
        }
      }
    });

    test('permission granted again (probe) → the rule runs and the error resolves', async () => {
      const rule = RULES[0];
      await setProbe(s.db, s.integrationId, granted());
      const r = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: [rule],
      });
      assert.equal(r.rulesRun, 1);
      const f = (await findingsByKey(s.db, s.integrationId, rule.id)).get(`integration:${s.integrationId}`);
      assert.equal(f?.status, 'resolved');
    });

    test('a probe older than a successful collection does not block', async () => {
      const facts = await readAvailability(s.db, s.integrationId);
      assert.ok(facts.collected.get('drive_item')?.collected);
      await setProbe(
        s.db,
        s.integrationId,
        { ...granted(), drive_item: 'missing' },
        '2000-01-01T00:00:00.000Z',
      );
      const r = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'full',
        rules: [fixtureRule('item_fixture_public_absent')],
      });
      assert.equal(r.rulesBlocked, 0);
      await setProbe(s.db, s.integrationId, granted());
    });

    test('a type whose collection fails as a whole, or never collected → error; a failing drive → an error for that drive besides the rows', async () => {
      const rule = fixtureRule('permission_fixture_anyone_absent');
      await recordSyncError(s.db, {
        integrationId: s.integrationId,
        resourceType: 'permission',
        status: 403,
        code: 'accessDenied',
        message: 'Access denied',
      });
      let r = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'full',
        rules: [rule],
      });
      assert.equal(r.rulesBlocked, 1);
      let f = (await findingsByKey(s.db, s.integrationId, rule.id)).get(`integration:${s.integrationId}`);
      assert.match(f?.reason ?? '', /collecting permission fails .*accessDenied.*Files\.Read\.All/);
      await s.db.updateTable('sync_errors').set({ resolved_at: new Date().toISOString() }).execute();

      const users = fixtureRule('user_fixture_account_enabled');
      await s.db
        .updateTable('sync_state')
        .set({ last_success_at: null })
        .where('scope', 'in', ['users', 'users-delta'])
        .execute();
      r = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'full',
        rules: [users],
      });
      assert.equal(r.rulesBlocked, 1);
      f = (await findingsByKey(s.db, s.integrationId, users.id)).get(`integration:${s.integrationId}`);
      assert.match(f?.reason ?? '', /user has never been collected/);
      await s.db
        .updateTable('sync_state')
        .set({ last_success_at: new Date().toISOString() })
        .where('scope', 'in', ['users', 'users-delta'])
        .execute();

      const drive = await s.db
        .selectFrom('drives')
        .select(['id', 'name'])
        .where('integration_id', '=', s.integrationId)
        .executeTakeFirstOrThrow();
      await putSyncState(s.db, s.integrationId, `drive:${drive.id}`, {
        lastErrorCode: 'serviceNotAvailable',
        lastErrorMessage: 'try later',
        lastErrorAt: new Date(Date.now() + 1000).toISOString(),
      });
      r = await evaluateIntegration(s.store, { integrationId: s.integrationId, mode: 'full', rules: [rule] });
      assert.equal(r.rulesRun, 1, 'the SQL still runs');
      assert.ok(r.ok > 0);
      const found = await findingsByKey(s.db, s.integrationId, rule.id);
      const driveError = found.get(`drive:${drive.id}`);
      assert.equal(driveError?.status, 'open');
      assert.equal(driveError?.resource_type, 'drive');
      assert.match(driveError?.reason ?? '', /is failing since .*serviceNotAvailable/);
      assert.equal(found.get(`integration:${s.integrationId}`)?.status, 'resolved');

      await putSyncState(s.db, s.integrationId, `drive:${drive.id}`, {
        lastErrorCode: null,
        lastSuccessAt: new Date(Date.now() + 2000).toISOString(),
      });
      r = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: [rule],
      });
      assert.equal(
        (await findingsByKey(s.db, s.integrationId, rule.id)).get(`drive:${drive.id}`)?.status,
        'resolved',
      );
    });
  });
}
