import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { TruthRecord } from '../sim/contracts.ts';
import {
  autoRemediate,
  decideAndRemediate,
  fixSettingsAndReread,
  removeAndReread,
} from '../src/app/remediate.ts';
import { syncDrive } from '../src/collect/drive-sync.ts';
import { syncIntegration } from '../src/collect/sync.ts';
import {
  allowRule,
  disallowRule,
  parseGrace,
  planAuto,
  planPermissionIds,
  setDailyCap,
} from '../src/remediate/auto.ts';
import { makePlan, stepKey } from '../src/remediate/plan.ts';
import { signReviewLink } from '../src/remediate/review-links.ts';
import { campaignReport, createCampaign, itemsForLink, reportCsv } from '../src/remediate/reviews.ts';
import { parseAssignments, planSettings } from '../src/remediate/settings.ts';
import { planForFinding, planForItem, planForPermission, planForRule } from '../src/remediate/targets.ts';
import { listActions } from '../src/remediate/trail.ts';
import { WriteAccessError } from '../src/remediate/write-access.ts';
import { encodeValue } from '../src/store/codec.ts';
import { simClient, simContext } from './support/collector.ts';
import { startTestSim, type TestSim } from './support/simulator.ts';
import { openTestStore, type TestStore, testDialects } from './support/store.ts';
import { describeDiff, diffWithTruth } from './support/truth.ts';

/**
 * Remediation against the simulator, on both dialects: a plan made from the inventory, the
 * removal in Graph, the inventory re-read from Graph's answer, the audit trail. Ground truth
 * (the simulator's model) says what really changed: exactly what the plan listed.
 */

type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;
const SIM = { seed: 41, users: 10, items: 700, anonymousRatio: 0.06, sharedRatio: 0.08, deltaRepeatRate: 0 };

async function truthPermissions(ts: TestSim): Promise<Map<string, PermTruth>> {
  const all = await ts.admin.truthArray();
  const out = new Map<string, PermTruth>();
  // The owner's entry is listed on every sharing root; it goes when an item stops being one.
  for (const r of all)
    if (r.kind === 'permission' && !r.isOwner) out.set(`${r.driveId}/${r.itemId}/${r.id}`, r);
  return out;
}

/** Permission keys live before and gone after (the truth lists each where it is set). */
function removedKeys(before: Map<string, PermTruth>, after: Map<string, PermTruth>): string[] {
  return [...before.keys()].filter((k) => !after.has(k)).sort();
}

for (const dialect of testDialects()) {
  describe(`remediation against the simulator (${dialect})`, () => {
    let ts: TestSim;
    let t: TestStore;
    let client: ReturnType<typeof simClient>;
    before(async () => {
      ts = await startTestSim(SIM);
      t = await openTestStore(dialect);
      client = simClient(ts.sim);
      await syncIntegration(simContext(t.store, ts.sim, client), { mode: 'full' });
    });
    after(async () => {
      await client.close();
      await t.cleanup();
      await ts.close();
    });
    const ctx = () => simContext(t.store, ts.sim, client);

    test('an Anyone link removed from an item: gone from the ground truth and the inventory, in the trail', async () => {
      const item = await t.db
        .selectFrom('drive_items')
        .select(['id', 'drive_id', 'path', 'access_root_id'])
        .where('integration_id', '=', 'int-sim')
        .where('exposure', '=', 'public')
        .where('deleted_at', 'is', null)
        .orderBy('path')
        .executeTakeFirstOrThrow();
      const plan = await planForItem(t.db, 'int-sim', item.id, { scope: 'public', subtree: false });
      assert.ok(plan.steps.length >= 1, 'the dry run lists the Anyone link');
      assert.ok(plan.steps.every((s) => s.linkScope === 'anonymous'));
      assert.match(plan.id, /^[0-9a-f]{12}$/);
      const before = await truthPermissions(ts);
      for (const s of plan.steps)
        assert.ok(before.has(stepKey(s)), `${stepKey(s)} is set where the plan says`);

      const run = await removeAndReread(ctx(), plan, 'test:alice');
      assert.deepEqual(
        run.outcomes.map((o) => o.result),
        plan.steps.map(() => 'done'),
      );
      assert.deepEqual(run.unconfirmed, []);
      assert.deepEqual(run.rereadErrors, []);
      const after = await truthPermissions(ts);
      assert.deepEqual(
        removedKeys(before, after),
        plan.steps.map(stepKey).sort(),
        'exactly the plan changed',
      );

      const now = await t.db
        .selectFrom('drive_items')
        .select('exposure')
        .where('integration_id', '=', 'int-sim')
        .where('id', '=', item.id)
        .executeTakeFirstOrThrow();
      assert.notEqual(now.exposure, 'public', 'the inventory re-read from Graph no longer has it public');
      const diff = await diffWithTruth(t.store, 'int-sim', ts.admin, { history: false });
      assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));

      const trail = await listActions(t.db, { integrationId: 'int-sim', planId: plan.id });
      assert.equal(trail.length, plan.steps.length);
      for (const e of trail) {
        assert.equal(e.result, 'done');
        assert.equal(e.actor, 'test:alice');
        assert.equal(e.http_status, 204);
        assert.ok(e.request_id, 'Graph request id kept');
        assert.equal((e.before as { link_scope: string }).link_scope, 'anonymous');
        assert.equal(e.after, null);
        assert.equal(e.origin, `item ${item.id}`);
      }
    });

    test('a bulk removal with partial failures: 404 reported as already gone, 429 retried, nothing outside the plan changes', async () => {
      const root = await t.db
        .selectFrom('drive_items')
        .select(['id', 'drive_id'])
        .where('integration_id', '=', 'int-sim')
        .where(sql<boolean>`is_root = true`)
        .orderBy('drive_id')
        .execute();
      let plan = await planForItem(t.db, 'int-sim', root[0].id, { scope: 'external', subtree: true });
      for (const r of root.slice(1)) {
        if (plan.steps.length >= 6) break;
        plan = await planForItem(t.db, 'int-sim', r.id, { scope: 'external', subtree: true });
      }
      assert.ok(plan.steps.length >= 4, `a bulk plan (${plan.steps.length} steps)`);
      // Behind drivewarden's back: two of the planned permissions go, a new Anyone link appears.
      const goneAlready = plan.steps.slice(0, 2);
      for (const s of goneAlready)
        await ts.admin.mutate({
          op: 'unshare',
          driveId: s.driveId,
          itemId: s.itemId,
          permissionId: s.permissionId,
        });
      const added = await ts.admin.mutate<{ permissionId: string }>({
        op: 'share',
        driveId: plan.steps[2].driveId,
        itemId: plan.steps[2].itemId,
        kind: 'anonymous',
      });
      const before = await truthPermissions(ts);
      await ts.admin.resetCounters();
      await ts.admin.setFaults([{ kind: 'throttle429', pathPattern: '/permissions/', rate: 0.5 }]);
      let run: Awaited<ReturnType<typeof removeAndReread>>;
      try {
        run = await removeAndReread(ctx(), plan, 'test:bulk');
      } finally {
        await ts.admin.setFaults([]);
      }
      const counters = await ts.admin.counters();
      assert.ok(counters.throttledResponses > 0, 'some removals were throttled');
      const byKey = new Map(run.outcomes.map((o) => [stepKey(o.step), o.result]));
      for (const s of goneAlready) assert.equal(byKey.get(stepKey(s)), 'already_gone');
      for (const s of plan.steps.slice(2)) assert.equal(byKey.get(stepKey(s)), 'done', stepKey(s));
      const after = await truthPermissions(ts);
      assert.deepEqual(removedKeys(before, after), plan.steps.slice(2).map(stepKey).sort());
      const newLink = [...after.values()].find((p) => p.id === added.permissionId);
      assert.ok(newLink, 'the link created after the dry run was not touched');
      const trail = await listActions(t.db, { planId: plan.id });
      assert.equal(trail.length, plan.steps.length, 'one trail row per step');
      assert.equal(trail.filter((e) => e.result === 'already_gone').length, 2);
      assert.ok(trail.every((e) => e.http_status === 204 || e.http_status === 404));
    });

    test("a removal still throttled after the client's retries is reported failed for that item; the others go on", async () => {
      const links = await t.db
        .selectFrom('permissions')
        .select(['id', 'drive_id'])
        .where('integration_id', '=', 'int-sim')
        .where('link_scope', '=', 'organization')
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      const ids = [...new Set(links.map((l) => l.id))].slice(0, 3);
      assert.equal(ids.length, 3);
      const plans = await Promise.all(
        ids.map((id) => planForPermission(t.db, 'int-sim', id, links.find((l) => l.id === id)?.drive_id)),
      );
      const plan = makePlan(
        'int-sim',
        'test',
        plans.flatMap((p) => p.steps),
      );
      const stuck = plan.steps[1];
      const impatient = simClient(ts.sim, { maxRetries: 1 });
      await ts.admin.setFaults([{ kind: 'throttle429', pathPattern: `/permissions/${stuck.permissionId}$` }]);
      let run: Awaited<ReturnType<typeof removeAndReread>>;
      try {
        run = await removeAndReread(simContext(t.store, ts.sim, impatient), plan, 'test:throttled');
      } finally {
        await ts.admin.setFaults([]);
        await impatient.close();
      }
      const byId = new Map(run.outcomes.map((o) => [o.step.permissionId, o]));
      assert.equal(byId.get(stuck.permissionId)?.result, 'failed');
      assert.equal(byId.get(stuck.permissionId)?.httpStatus, 429);
      assert.match(byId.get(stuck.permissionId)?.error ?? '', /after 2 attempts/);
      for (const s of [plan.steps[0], plan.steps[2]]) assert.equal(byId.get(s.permissionId)?.result, 'done');
      const left = await truthPermissions(ts);
      assert.ok(left.has(stepKey(stuck)), 'the throttled one is still there, and the trail says so');
      const [entry] = await listActions(t.db, { permissionId: stuck.permissionId });
      assert.equal(entry.result, 'failed');
    });

    test('a permission changed after the dry run is skipped, not removed; findings and rules plan what they are about', async () => {
      const edit = await t.db
        .selectFrom('permissions')
        .select(['id', 'drive_id', 'item_id'])
        .where('integration_id', '=', 'int-sim')
        .where('link_scope', '=', 'organization')
        .where('deleted_at', 'is', null)
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow();
      const plan = await planForPermission(t.db, 'int-sim', edit.id, edit.drive_id);
      const step = plan.steps[0];
      const flipped = step.roles.includes('write') ? 'read' : 'write';
      const patched = await ts.call(
        'PATCH',
        `/drives/${step.driveId}/items/${step.itemId}/permissions/${step.permissionId}`,
        { roles: [flipped] },
      );
      assert.equal(patched.status, 200);
      await syncDrive(ctx(), step.driveId, { mode: 'delta' });
      const before = await truthPermissions(ts);
      const run = await removeAndReread(ctx(), plan, 'test:stale');
      assert.equal(run.outcomes[0].result, 'skipped');
      assert.match(run.outcomes[0].error ?? '', /changed since the plan/);
      assert.deepEqual(removedKeys(before, await truthPermissions(ts)), []);

      // Findings as the rules engine writes them: one on a file exposed outside, one on the tenant.
      const exposed = await t.db
        .selectFrom('drive_items')
        .select(['id', 'drive_id'])
        .where('integration_id', '=', 'int-sim')
        .where('exposure', 'in', ['public', 'external'])
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .executeTakeFirstOrThrow();
      const finding = (values: { rule: string; type: string; id: string; drive: string | null }) =>
        t.db
          .insertInto('findings')
          .values({
            integration_id: 'int-sim',
            rule_id: values.rule,
            resource_type: values.type,
            resource_key: values.id,
            resource_id: values.id,
            drive_id: values.drive,
            status: 'open',
            result: 'alarm',
            severity: 'high',
            reason: 'test',
            details: encodeValue('json', {}, t.store.dialect),
            first_seen: '2026-01-01T00:00:00Z',
            last_seen: '2026-01-01T00:00:00Z',
          })
          .returning('id')
          .executeTakeFirstOrThrow();
      const item = await finding({
        rule: 'item_sensitive_file_not_shared',
        type: 'drive_item',
        id: exposed.id,
        drive: exposed.drive_id,
      });
      await finding({
        rule: 'tenant_external_sharing_limited',
        type: 'tenant_settings',
        id: ts.sim.tenantId,
        drive: null,
      });
      const itemPlan = await planForFinding(t.db, 'int-sim', Number(item.id), 'external');
      const direct = await planForItem(t.db, 'int-sim', exposed.id, { scope: 'external', subtree: false });
      assert.ok(itemPlan.steps.length > 0);
      assert.deepEqual(
        itemPlan.steps.map(stepKey),
        direct.steps.map(stepKey),
        'a drive_item finding = its item plan',
      );
      const tenantPlan = await planForRule(t.db, 'int-sim', 'tenant_external_sharing_limited', 'external');
      assert.deepEqual(tenantPlan.steps, []);
      assert.match(
        tenantPlan.notes.join('\n'),
        /about a tenant_settings: no permission to remove: use `remediate settings`/,
      );
    });

    test('without Files.ReadWrite.All nothing is called: the run stops with the explanation, the trail stays empty', async () => {
      const perm = await t.db
        .selectFrom('permissions')
        .select(['id', 'drive_id'])
        .where('integration_id', '=', 'int-sim')
        .where('link_scope', '=', 'organization')
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .executeTakeFirstOrThrow();
      const plan = await planForPermission(t.db, 'int-sim', perm.id, perm.drive_id);
      const before = await truthPermissions(ts);
      await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'permissionsWrite' }]);
      try {
        await assert.rejects(removeAndReread(ctx(), plan, 'test:denied'), (err: Error) => {
          assert.ok(err instanceof WriteAccessError);
          assert.match(err.message, /Files\.ReadWrite\.All/);
          assert.match(err.message, /Nothing was changed/);
          return true;
        });
      } finally {
        await ts.admin.setFaults([]);
      }
      assert.deepEqual(removedKeys(before, await truthPermissions(ts)), []);
      assert.deepEqual(await listActions(t.db, { planId: plan.id }), []);
    });
    test('auto-remediation: off unless allowed; only alarms past the grace period, never suppressed ones, within the daily cap', async () => {
      const now = new Date('2026-01-10T12:00:00Z');
      const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
      const links = await t.db
        .selectFrom('permissions')
        .select(['id', 'drive_id', 'item_id'])
        .where('integration_id', '=', 'int-sim')
        .where('link_scope', '=', 'anonymous')
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute();
      const distinct = [...new Map(links.map((l) => [l.id, l])).values()].slice(0, 4);
      assert.equal(distinct.length, 4, 'four Anyone links to work with');
      const finding = async (
        link: (typeof distinct)[number],
        rule: string,
        firstSeen: string,
        status: 'open' | 'suppressed',
      ) => {
        const row = await t.db
          .insertInto('findings')
          .values({
            integration_id: 'int-sim',
            rule_id: rule,
            resource_type: 'permission',
            resource_key: `${link.drive_id}/${link.item_id}/${link.id}`,
            resource_id: link.id,
            drive_id: link.drive_id,
            item_id: link.item_id,
            status,
            result: 'alarm',
            severity: 'high',
            reason: 'Anyone link',
            details: encodeValue('json', {}, t.store.dialect),
            first_seen: firstSeen,
            last_seen: firstSeen,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        return Number(row.id);
      };
      const [old1, old2, fresh, objected] = distinct;
      await finding(old1, 'permission_anonymous_link_absent', ago(120), 'open');
      await finding(old2, 'permission_anonymous_link_absent', ago(180), 'open');
      await finding(fresh, 'permission_anonymous_link_absent', ago(10), 'open');
      await finding(objected, 'permission_anonymous_link_absent', ago(300), 'suppressed');
      await finding(fresh, 'permission_anonymous_link_view_only', ago(600), 'open');

      assert.deepEqual((await planAuto(t.db, 'int-sim', now)).plans, [], 'off by default');
      await allowRule(t.db, {
        integrationId: 'int-sim',
        ruleId: 'permission_anonymous_link_absent',
        graceSeconds: parseGrace('1h'),
        scope: 'public',
        actor: 'test',
        now,
      });
      await setDailyCap(t.db, 'int-sim', 1, 'test', now);
      const first = await planAuto(t.db, 'int-sim', now);
      assert.deepEqual(planPermissionIds(first), [old2.id], 'the oldest due alarm first');
      assert.equal(first.deferred, 1, 'the other due alarm waits for tomorrow');

      const before = await truthPermissions(ts);
      const round = await autoRemediate(ctx(), now);
      assert.deepEqual(
        round.runs.flatMap((r) => r.run.outcomes.map((o) => o.result)),
        ['done'],
      );
      const removed = removedKeys(before, await truthPermissions(ts));
      assert.deepEqual(
        removed.map((k) => k.split('/').pop()),
        planPermissionIds(first),
      );
      const [entry] = await listActions(t.db, { integrationId: 'int-sim', limit: 1 });
      assert.equal(entry.actor, 'auto:permission_anonymous_link_absent');
      assert.deepEqual((await planAuto(t.db, 'int-sim', now)).plans, [], 'the cap is spent for today');

      const tomorrow = new Date(now.getTime() + 86_400_000);
      const next = await planAuto(t.db, 'int-sim', tomorrow);
      assert.equal(planPermissionIds(next).length, 1);
      assert.ok(!planPermissionIds(next).includes(objected.id), 'a suppressed finding is never remediated');
      await setDailyCap(t.db, 'int-sim', 10, 'test', tomorrow);
      const wide = planPermissionIds(await planAuto(t.db, 'int-sim', tomorrow)).sort();
      const expected = [old1, old2, fresh]
        .map((l) => l.id)
        .filter((id) => !planPermissionIds(first).includes(id));
      assert.deepEqual(
        wide,
        expected.sort(),
        'past their grace period; the suppressed one and other rules left alone',
      );
      assert.equal(await disallowRule(t.db, 'int-sim', 'permission_anonymous_link_absent'), true);
      assert.deepEqual((await planAuto(t.db, 'int-sim', tomorrow)).plans, []);
    });

    test('access review: owners keep or revoke through their own signed link; revoked grants leave Graph; forged, expired, replayed or foreign use refused', async () => {
      const now = new Date();
      const key = randomBytes(32);
      const external = await t.db
        .selectFrom('permissions')
        .select(['id', 'drive_id', 'item_id'])
        .where('integration_id', '=', 'int-sim')
        .where(sql<boolean>`is_external = true`)
        .where('deleted_at', 'is', null)
        .orderBy('drive_id')
        .orderBy('id')
        .execute();
      const seen = new Set<string>();
      for (const p of external) {
        if (seen.has(p.id)) continue;
        seen.add(p.id);
        await t.db
          .insertInto('findings')
          .values({
            integration_id: 'int-sim',
            rule_id: 'permission_guest_access_reviewed',
            resource_type: 'permission',
            resource_key: `${p.drive_id}/${p.item_id}/${p.id}`,
            resource_id: p.id,
            drive_id: p.drive_id,
            item_id: p.item_id,
            status: 'open',
            result: 'alarm',
            severity: 'medium',
            reason: 'outside share',
            details: encodeValue('json', {}, t.store.dialect),
            first_seen: now.toISOString(),
            last_seen: now.toISOString(),
          })
          .execute();
      }
      const campaign = await createCampaign(t.db, t.store.dialect, key, {
        integrationId: 'int-sim',
        name: 'outside shares',
        plan: await planForRule(t.db, 'int-sim', 'permission_guest_access_reviewed', 'external'),
        expiresAt: new Date(now.getTime() + 7 * 86_400_000),
        actor: 'test',
        now,
      });
      const links = campaign.links.filter((l) => l.items >= 2);
      assert.ok(
        campaign.links.length >= 2 && links.length >= 1,
        'several owners, one with two grants or more',
      );
      const [a] = links;
      const b = campaign.links.find((l) => l.owner !== a.owner);
      assert.ok(b);
      const page = await itemsForLink(t.db, key, a.token, now);
      assert.equal(page.owner, a.owner);
      assert.equal(page.items.length, a.items);
      const other = await itemsForLink(t.db, key, b.token, now);
      await assert.rejects(
        decideAndRemediate(ctx(), key, b.token, [{ itemId: page.items[0].id, decision: 'revoke' }], now),
        /not yours to decide/,
      );
      const forged = signReviewLink(randomBytes(32), {
        campaignId: campaign.campaignId,
        owner: a.owner,
        expiresAt: now.toISOString(),
      });
      await assert.rejects(itemsForLink(t.db, key, forged.token, now), /signature is not valid/);
      await assert.rejects(
        itemsForLink(t.db, key, a.token, new Date(now.getTime() + 8 * 86_400_000)),
        /expired/,
      );
      const unissued = signReviewLink(key, {
        campaignId: campaign.campaignId,
        owner: a.owner,
        expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
      });
      await assert.rejects(itemsForLink(t.db, key, unissued.token, now), /not issued by this campaign/);

      const before = await truthPermissions(ts);
      const [keep, ...revoke] = page.items;
      const result = await decideAndRemediate(
        ctx(),
        key,
        a.token,
        [
          { itemId: keep.id, decision: 'keep', justification: 'the auditor needs it' },
          ...revoke.map((i) => ({ itemId: i.id, decision: 'revoke' as const })),
        ],
        now,
      );
      assert.equal(result.kept, 1);
      assert.deepEqual(
        result.run?.outcomes.map((o) => o.result),
        revoke.map(() => 'done'),
      );
      const gone = removedKeys(before, await truthPermissions(ts)).map((k) => k.split('/').pop());
      assert.deepEqual(gone.sort(), result.run?.outcomes.map((o) => o.step.permissionId).sort());
      assert.equal(result.run?.outcomes[0].trailId !== undefined, true);
      await assert.rejects(
        decideAndRemediate(ctx(), key, a.token, [{ itemId: keep.id, decision: 'revoke' }], now),
        /already used/,
      );

      const report = await campaignReport(t.db, campaign.campaignId);
      assert.equal(report.kept, 1);
      assert.equal(report.revoked, revoke.length);
      assert.equal(report.unanswered, report.total - a.items);
      assert.ok(report.unanswered >= other.items.length);
      const csv = reportCsv(report);
      assert.match(
        csv,
        /^owner,item_path,permission_id,decision,decided_at,decided_by,justification,escalated_to\n/,
      );
      assert.match(csv, /,keep,.*,the auditor needs it,\n/);
    });

    test('tenant settings fixed by PATCH: dry run changes nothing, before/after in the trail, the inventory re-read', async () => {
      const settings = async () => (await ts.get('/admin/sharepoint/settings')).body;
      const original = await settings();
      const desired = parseAssignments([
        'sharingCapability=existingExternalUserSharingOnly',
        'sharingDomainRestrictionMode=allowList',
        'sharingAllowedDomainList=fabrikam.test, contoso.test',
        `isResharingByExternalUsersEnabled=${original.isResharingByExternalUsersEnabled}`,
      ]);
      const plan = await planSettings(client, 'int-sim', desired);
      assert.deepEqual(
        plan.changes.map((c) => c.property),
        ['sharingCapability', 'sharingDomainRestrictionMode', 'sharingAllowedDomainList'],
      );
      assert.deepEqual(plan.unchanged, ['isResharingByExternalUsersEnabled']);
      assert.equal(plan.changes[0].before, original.sharingCapability);
      assert.deepEqual(await settings(), original, 'the dry run changed nothing');

      await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'tenantSettingsWrite' }]);
      let denied: Awaited<ReturnType<typeof fixSettingsAndReread>>;
      try {
        denied = await fixSettingsAndReread(ctx(), plan, 'test:settings');
      } finally {
        await ts.admin.setFaults([]);
      }
      assert.equal(denied.result, 'failed');
      assert.match(denied.error ?? '', /SharePointTenantSettings\.ReadWrite\.All/);
      assert.deepEqual(await settings(), original);

      const done = await fixSettingsAndReread(ctx(), plan, 'test:settings');
      assert.equal(done.result, 'done', done.error ?? '');
      assert.deepEqual(done.after, {
        sharingCapability: 'existingExternalUserSharingOnly',
        sharingDomainRestrictionMode: 'allowList',
        sharingAllowedDomainList: ['fabrikam.test', 'contoso.test'],
      });
      assert.equal((await settings()).sharingCapability, 'existingExternalUserSharingOnly');
      const row = await t.db
        .selectFrom('tenant_settings')
        .select('sharing_capability')
        .where('integration_id', '=', 'int-sim')
        .executeTakeFirstOrThrow();
      assert.equal(
        row.sharing_capability,
        'existingExternalUserSharingOnly',
        'the inventory re-read from Graph',
      );
      const trail = await listActions(t.db, { planId: plan.id });
      assert.deepEqual(
        trail.map((e) => e.result),
        ['done', 'failed'],
      );
      assert.equal(
        (trail[0].before as Record<string, unknown>).sharingCapability,
        original.sharingCapability,
      );
      assert.ok(trail[0].request_id);
      assert.equal(trail[1].http_status, 403);

      // A setting changed by someone else after the dry run: the fix does not overwrite it.
      const next = await planSettings(client, 'int-sim', parseAssignments(['sharingCapability=disabled']));
      await ts.admin.mutate({
        op: 'setSharepointSettings',
        settings: { sharingCapability: 'externalUserSharingOnly' },
      });
      const stale = await fixSettingsAndReread(ctx(), next, 'test:settings');
      assert.equal(stale.result, 'skipped');
      assert.match(stale.error ?? '', /changed since the dry run: sharingCapability/);
      assert.equal((await settings()).sharingCapability, 'externalUserSharingOnly');
    });
  });
}
