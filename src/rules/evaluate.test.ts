import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import {
  activeFindings,
  eventsOf,
  findingsByKey,
  fixtureRule,
  fixtureRules,
  type SyncedStore,
  syncedStore,
  tryMutate,
} from '../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { testDialects } from '../../test/support/store.ts';
import { syncDrive } from '../collect/drive-sync.ts';
import { syncIntegration } from '../collect/sync.ts';
import { readCursor } from './cursor.ts';
import { evaluateIntegration } from './evaluate.ts';
import { loadBuiltinRules } from './loader.ts';
import { openPgSessions, startSqliteWorkers } from './parallel.ts';
import { setRuleEnabled, setRuleParams } from './settings.ts';
import { addStoragePolicy } from './storage-policies.ts';

/**
 * The engine against a collected simulator tenant, on both dialects: a full evaluation opens
 * exactly what the rules' SQL alarms on; a second one changes nothing; after random
 * mutations and delta runs, one incremental evaluation leaves exactly the findings a full
 * evaluation would (the scope misses nothing and resolves what left); settings take effect.
 */

const RULES = [...fixtureRules(), ...loadBuiltinRules()];
/** A fixed evaluation time: results that depend on it (staleness, expiry) do not move between runs. */
const NOW = '2026-03-01T00:00:00.000Z';
const ANYONE = 'permission_fixture_anyone_absent';
const PUBLIC = 'item_fixture_public_absent';

async function count(s: SyncedStore, text: string): Promise<number> {
  const { rows } = await s.db.executeQuery(CompiledQuery.raw(text, [s.integrationId]));
  return Number((rows[0] as { n: number }).n);
}

for (const dialect of testDialects()) {
  describe(`rule evaluation (${dialect})`, () => {
    let env: TestSim;
    let s: SyncedStore;
    const p = (n: number) => (dialect === 'sqlite' ? '?' : `$${n}`);
    before(async () => {
      env = await startTestSim({ seed: 11, users: 10, items: 500 });
      s = await syncedStore(dialect, env);
    });
    after(async () => {
      await s?.cleanup();
      await env?.close();
    });

    test('a full evaluation opens exactly what the rules alarm on, with one opened event each; a second changes nothing', async () => {
      const r = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'full',
        rules: RULES,
        now: NOW,
      });
      assert.equal(r.mode, 'full');
      assert.equal(r.rulesRun, RULES.length);
      assert.deepEqual(r.failedRules, []);
      const anyone = await count(
        s,
        `select count(*) as n from permissions where integration_id = ${p(1)} and deleted_at is null and link_scope = 'anonymous'`,
      );
      assert.ok(anyone > 0, 'the tenant has Anyone links');
      const found = await findingsByKey(s.db, s.integrationId, ANYONE);
      assert.equal(found.size, anyone);
      for (const f of found.values()) {
        assert.equal(f.status, 'open');
        assert.equal(f.result, 'alarm');
        assert.deepEqual(await eventsOf(s.db, f.id), ['opened']);
      }
      assert.equal(r.findings.opened, r.alarm + r.error);
      const cursor = await readCursor(s.db, s.integrationId);
      assert.equal(cursor?.changeId, r.cursorTo);
      assert.ok(cursor?.fullAt);

      const before = await activeFindings(s.db, s.integrationId);
      const again = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'full',
        rules: RULES,
        now: NOW,
      });
      assert.deepEqual(again.findings, { opened: 0, reopened: 0, resolved: 0, suppressed: 0, changed: 0 });
      assert.deepEqual(await activeFindings(s.db, s.integrationId), before);
      const idle = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: RULES,
        now: NOW,
      });
      assert.equal(idle.mode, 'incremental');
      assert.equal(idle.scope, null, 'nothing changed since the cursor');
      assert.equal(idle.rulesRun, 0);
    });

    test('after random sharing, moves, renames and deletes, one incremental evaluation equals a full one', async () => {
      const drives = (await env.admin.drives()).filter((d) => d.itemCount > 3).slice(0, 4);
      let seed = 7;
      const rand = () => {
        seed = (seed * 48271) % 2147483647;
        return seed / 2147483647;
      };
      for (let round = 0; round < 3; round++) {
        for (let k = 0; k < 25; k++) {
          const d = drives[Math.floor(rand() * drives.length)];
          const items = (await env.admin.items(d.id)).filter((i) => !i.deleted && i.parentId !== null);
          const folders = items.filter((i) => i.isFolder);
          const it = items[Math.floor(rand() * items.length)];
          const r = rand();
          if (r < 0.3)
            await tryMutate(env, {
              op: 'share',
              driveId: d.id,
              itemId: it.id,
              kind: rand() < 0.7 ? 'anonymous' : 'guest',
            });
          else if (r < 0.5 && it.explicitPermissions > 0)
            await tryMutate(env, { op: 'unshare', driveId: d.id, itemId: it.id });
          else if (r < 0.7 && folders.length) {
            const to = folders[Math.floor(rand() * folders.length)];
            await tryMutate(env, { op: 'moveItem', driveId: d.id, itemId: it.id, newParentId: to.id });
          } else if (r < 0.85)
            await tryMutate(env, {
              op: 'renameItem',
              driveId: d.id,
              itemId: it.id,
              name: `r${k}-${it.name}`,
            });
          else if (r < 0.95) await tryMutate(env, { op: 'deleteItem', driveId: d.id, itemId: it.id });
          else await tryMutate(env, { op: 'setQuotaUsed', driveId: d.id, used: Math.floor(rand() * 1e9) });
        }
        await syncIntegration(s.ctx, { mode: 'delta' });
        const inc = await evaluateIntegration(s.store, {
          integrationId: s.integrationId,
          mode: 'incremental',
          rules: RULES,
          now: NOW,
        });
        assert.equal(inc.mode, 'incremental', `round ${round}`);
        assert.ok(inc.scope && inc.scope.changes > 0, `round ${round}: changes in scope`);
        const incremental = await activeFindings(s.db, s.integrationId);
        const full = await evaluateIntegration(s.store, {
          integrationId: s.integrationId,
          mode: 'full',
          rules: RULES,
          now: NOW,
        });
        assert.deepEqual(
          full.findings,
          { opened: 0, reopened: 0, resolved: 0, suppressed: 0, changed: 0 },
          `round ${round}: a full evaluation found what the incremental one missed`,
        );
        assert.deepEqual(await activeFindings(s.db, s.integrationId), incremental);
      }
    });

    test('a folder shared with Anyone makes every file below it a finding in one incremental evaluation (effective access)', async () => {
      await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: RULES,
        now: NOW,
      });
      const drive = (await env.admin.drives()).find((d) => d.itemCount > 5);
      assert.ok(drive);
      const items = await env.admin.items(drive.id);
      const folder = items.find(
        (f) =>
          f.isFolder &&
          !f.deleted &&
          f.parentId &&
          items.some((c) => c.parentId === f.id && !c.isFolder && !c.deleted),
      );
      assert.ok(folder, 'a folder with files');
      await env.admin.mutate({ op: 'share', driveId: drive.id, itemId: folder.id, kind: 'anonymous' });
      await syncDrive(s.ctx, drive.id);
      const inc = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: RULES,
        now: NOW,
      });
      const publicFiles = await findingsByKey(s.db, s.integrationId, PUBLIC);
      const below = (
        await s.db
          .selectFrom('drive_items')
          .select(['id', 'extension'])
          .where('integration_id', '=', s.integrationId)
          .where('drive_id', '=', drive.id)
          .where('path', 'like', `${folder.path}/%`)
          .where('deleted_at', 'is', null)
          .where('is_folder', '=', dialect === 'sqlite' ? (0 as unknown as boolean) : false)
          .execute()
      ).filter((i) => ['pem', 'key', 'docx', 'xlsx', 'pdf', 'txt'].includes(i.extension ?? ''));
      for (const i of below)
        assert.equal(
          publicFiles.get(`${drive.id}/${i.id}`)?.status,
          'open',
          `${i.id} below the shared folder`,
        );
      assert.ok(inc.scope && inc.scope.items >= below.length);
    });

    test('several rules at once (worker threads on SQLite, sessions on PostgreSQL) leave the same findings', async () => {
      const before = await activeFindings(s.db, s.integrationId);
      const executor =
        dialect === 'sqlite'
          ? startSqliteWorkers(s.store.file as string, 2)
          : await openPgSessions(s.store, 2);
      try {
        const r = await evaluateIntegration(s.store, {
          integrationId: s.integrationId,
          mode: 'full',
          rules: RULES,
          now: NOW,
          executor,
        });
        assert.equal(r.rulesRun, RULES.length);
        assert.deepEqual(r.failedRules, []);
        assert.deepEqual(r.findings, { opened: 0, reopened: 0, resolved: 0, suppressed: 0, changed: 0 });
        assert.deepEqual(await activeFindings(s.db, s.integrationId), before);
        const broken = { ...RULES[0], id: 'user_broken_sql', sql: 'select nope from nowhere' };
        const failed = await evaluateIntegration(s.store, {
          integrationId: s.integrationId,
          mode: 'full',
          rules: [broken],
          onlyRules: ['user_broken_sql'],
          now: NOW,
          executor,
        });
        assert.match(failed.failedRules[0]?.message ?? '', /nowhere/);
      } finally {
        await executor.close();
      }
    });

    test('a storage policy added since the last evaluation makes its rule run in the next incremental one', async () => {
      await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: RULES,
        now: NOW,
      });
      const owner = await s.db
        .selectFrom('drives')
        .select('owner_email')
        .where('integration_id', '=', s.integrationId)
        .where('owner_email', 'is not', null)
        .executeTakeFirstOrThrow();
      await addStoragePolicy(s.db, {
        integrationId: s.integrationId,
        scope: { kind: 'user', ref: owner.owner_email as string },
        limit: { bytes: 1 },
      });
      const r = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: RULES,
        now: NOW,
      });
      assert.equal(r.scope, null, 'nothing in the change log');
      assert.ok(r.ruleMs.drive_storage_policy_respected !== undefined, 'the policy rule ran');
      const open = [
        ...(await findingsByKey(s.db, s.integrationId, 'drive_storage_policy_respected')).values(),
      ];
      assert.ok(
        open.some((f) => f.status === 'open'),
        'a 1-byte limit is violated',
      );
    });

    test('a disabled rule is not run; changed parameters make it run whole in the next incremental evaluation', async () => {
      const rule = fixtureRule('drive_fixture_quota_normal');
      await setRuleEnabled(s.store, s.integrationId, rule, false);
      const off = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'full',
        rules: [rule],
        now: NOW,
      });
      assert.equal(off.rulesRun, 0);
      await setRuleEnabled(s.store, s.integrationId, rule, true);
      await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'full',
        rules: RULES,
        now: NOW,
      });
      const before = (await findingsByKey(s.db, s.integrationId, rule.id)).size;
      const drives = await count(
        s,
        `select count(*) as n from drives where integration_id = ${p(1)} and deleted_at is null`,
      );
      await setRuleParams(s.store, s.integrationId, rule, { set: { max_used_percent: 0 } });
      const inc = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: RULES,
        now: NOW,
      });
      assert.equal(inc.rulesRun, 1, 'only the rule whose settings changed runs (whole)');
      const after = [...(await findingsByKey(s.db, s.integrationId, rule.id)).values()].filter(
        (f) => f.status === 'open',
      );
      assert.ok(after.length > before, 'a 0 % threshold alarms on more drives');
      assert.ok(after.length <= drives);
      await setRuleParams(s.store, s.integrationId, rule, { unset: ['max_used_percent'] });
      const back = await evaluateIntegration(s.store, {
        integrationId: s.integrationId,
        mode: 'incremental',
        rules: RULES,
        now: NOW,
      });
      assert.ok(back.findings.resolved > 0);
    });
  });
}
