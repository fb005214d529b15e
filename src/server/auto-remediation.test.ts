import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simCredentials } from '../../sim/connection.ts';
import type { TruthRecord } from '../../sim/contracts.ts';
import { quietLogger } from '../../test/support/logger.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { waitFor } from '../../test/support/wait.ts';
import { type AppContext, assembleApp } from '../app/context.ts';
import { loadConfig } from '../config/config.ts';
import { allowRule, setDailyCap } from '../remediate/auto.ts';
import { startService } from './service.ts';

type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;
const ANYONE_RULE = 'permission_anonymous_link_absent';
const GUEST_RULE = 'permission_guest_access_reviewed';

/**
 * The running service remediates on its own: after its rule evaluation, the Anyone-link rule
 * (allowed, no grace) gets its alarms removed in Graph, at most the daily cap; the guest-access
 * rule, not allowed, alarms but nothing of it is touched.
 */
for (const dialect of testDialects()) {
  describe(`auto-remediation in the service (${dialect})`, () => {
    let ts: TestSim;
    let store: TestStore;
    let app: AppContext;
    let dir: string;
    const permissions = async () =>
      (await ts.admin.truthArray()).filter((r): r is PermTruth => r.kind === 'permission');

    before(async () => {
      ts = await startTestSim({
        users: 8,
        items: 300,
        anonymousRatio: 0.05,
        sharedRatio: 0.1,
        deltaRepeatRate: 0,
      });
      store = await openTestStore(dialect);
      dir = mkdtempSync(join(tmpdir(), 'dw-auto-svc-'));
      const config = loadConfig({}, { dataDir: dir, logLevel: 'silent', 'rules.debounceMs': 50 });
      app = assembleApp(config, quietLogger, store.store);
    });
    after(async () => {
      await store?.cleanup();
      await ts?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('an allowed rule past its grace is remediated by the running service, within the cap; another is not', async () => {
      const integration = await app.integrations.create({
        name: 'svc',
        ...simCredentials(ts.sim),
        verifiedDomains: ts.sim.verifiedDomains,
      });
      const now = new Date();
      await allowRule(store.db, {
        integrationId: integration.id,
        ruleId: ANYONE_RULE,
        graceSeconds: 0,
        scope: 'public',
        actor: 'test',
        now,
      });
      await setDailyCap(store.db, integration.id, 2, 'test', now);
      const before = await permissions();
      // Distinct links (the truth lists a folder's link on the items below it too).
      const anyone = (list: PermTruth[]) =>
        new Set(list.filter((p) => p.linkScope === 'anonymous').map((p) => p.id));
      const anyoneBefore = anyone(before).size;
      assert.ok(anyoneBefore > 2, 'more Anyone links than the cap');

      const service = await startService(app, {
        listen: false,
        alerts: false,
        autoRemediationIntervalMs: 200,
      });
      try {
        await service.ready;
        await service.jobs.queue.idle();
        const removed = await waitFor(
          'two automatic removals',
          async () => {
            const rows = await store.db
              .selectFrom('remediation_actions')
              .select(['permission_id', 'actor', 'result'])
              .where('integration_id', '=', integration.id)
              .execute();
            return rows.length >= 2 && rows;
          },
          { timeoutMs: 60_000, intervalMs: 100 },
        );
        // More rounds run (timer, evaluations after the re-read): the cap holds them back.
        await new Promise((r) => setTimeout(r, 1000));
        await service.autoRemediation.idle();
        const trail = await store.db
          .selectFrom('remediation_actions')
          .select(['permission_id', 'actor', 'result'])
          .where('integration_id', '=', integration.id)
          .execute();
        assert.equal(trail.length, 2, 'the daily cap: 2');
        assert.deepEqual(
          trail.map((r) => [r.actor, r.result]),
          [
            [`auto:${ANYONE_RULE}`, 'done'],
            [`auto:${ANYONE_RULE}`, 'done'],
          ],
        );
        assert.ok(removed.length >= 2);
        const after = await permissions();
        const ids = new Set(after.map((p) => p.id));
        for (const r of trail) assert.ok(!ids.has(r.permission_id as string), 'gone from the ground truth');
        assert.equal(anyone(after).size, anyoneBefore - 2);

        const guestAlarms = await store.db
          .selectFrom('findings')
          .select('resource_id')
          .where('integration_id', '=', integration.id)
          .where('rule_id', '=', GUEST_RULE)
          .where('status', '=', 'open')
          .execute();
        assert.ok(guestAlarms.length > 0, 'the rule that is not allowed has open alarms');
        for (const f of guestAlarms)
          assert.ok(ids.has(f.resource_id), `guest grant ${f.resource_id} untouched`);
      } finally {
        await service.close();
      }
    });
  });
}
