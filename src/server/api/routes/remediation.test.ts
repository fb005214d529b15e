import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { TruthRecord } from '../../../../sim/contracts.ts';
import { mimeParts, type SmtpReceiver, startSmtpReceiver } from '../../../../test/support/alert-receivers.ts';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { simClient, simContext } from '../../../../test/support/collector.ts';
import { registerIntegration } from '../../../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../../../test/support/simulator.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { syncIntegration } from '../../../collect/sync.ts';
import type { GraphClient } from '../../../graph/types.ts';
import { encodeValue } from '../../../store/codec.ts';

type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;
const INTEGRATION = 'int-sim';

/**
 * The remediation routes on a real server against the simulator, both dialects: a dry run lists
 * exactly the Anyone link and changes nothing; applying its plan removes the link from Graph's
 * ground truth and the trail has it; a permission changed after the dry run is skipped;
 * auto-remediation settings; a review campaign mailed to the owners, decided on the review page
 * mounted with the API (its POST a command), the revoked grant gone from the simulator.
 */
for (const dialect of testDialects()) {
  describe(`remediation API (${dialect})`, () => {
    let ts: TestSim;
    let api: TestApi;
    let client: GraphClient;
    let smtp: SmtpReceiver;
    const permissions = async () =>
      (await ts.admin.truthArray()).filter((r): r is PermTruth => r.kind === 'permission');
    const anyoneLinks = async () => (await permissions()).filter((p) => p.linkScope === 'anonymous');

    before(async () => {
      ts = await startTestSim({
        users: 8,
        items: 300,
        anonymousRatio: 0.05,
        sharedRatio: 0.1,
        deltaRepeatRate: 0,
      });
      client = simClient(ts.sim);
      smtp = await startSmtpReceiver({});
      api = await startTestApi({
        dialect,
        config: { 'alerts.allowPrivateTargets': true, 'server.publicUrl': 'https://dw.example.test' },
        hooks: { withSyncContext: (id, fn) => fn(simContext(api.app.store, ts.sim, client, id)) },
      });
      await registerIntegration(api.app.store.db, dialect, INTEGRATION, ts.sim.tenantId);
      await syncIntegration(simContext(api.app.store, ts.sim, client, INTEGRATION), { mode: 'full' });
    });
    after(async () => {
      await api?.close();
      await client?.close();
      await smtp?.close();
      await ts?.close();
    });

    test('plan lists exactly the Anyone link and changes nothing; apply removes it; the trail has it', async () => {
      const links = await anyoneLinks();
      assert.ok(links.length >= 2, 'the tenant has Anyone links');
      const link = links[0];
      const planned = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: INTEGRATION,
        target: { kind: 'item', itemId: link.itemId, driveId: link.driveId, scope: 'public' },
      });
      assert.equal(planned.status, 200, planned.text);
      assert.match(planned.body.planId, /^[0-9a-f]{12}$/);
      assert.deepEqual(
        planned.body.actions.map((a: { permissionId: string }) => a.permissionId),
        [link.id],
      );
      assert.equal(planned.body.actions[0].linkScope, 'anonymous');
      assert.match(planned.body.actions[0].description, /^remove anonymous (view|edit) link/);
      assert.deepEqual(await anyoneLinks(), links, 'a dry run changes nothing');

      const applied = await api.admin.post('/api/v1/remediation/apply', { planId: planned.body.planId });
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.results.length, 1);
      assert.equal(applied.body.results[0].result, 'done');
      assert.equal(applied.body.results[0].permissionId, link.id);
      assert.deepEqual(applied.body.unconfirmed, []);
      const after = await anyoneLinks();
      const distinct = (list: PermTruth[]) => new Set(list.map((p) => p.id)).size;
      assert.equal(distinct(after), distinct(links) - 1, 'that link only');
      assert.ok(!after.some((p) => p.id === link.id), 'gone from the ground truth');
      const live = await api.app.store.db
        .selectFrom('permissions')
        .select('id')
        .where('id', '=', link.id)
        .where('deleted_at', 'is', null)
        .execute();
      assert.deepEqual(live, [], 'the inventory re-read from Graph');

      const trail = await api.viewer.get(`/api/v1/remediation/actions?planId=${planned.body.planId}`);
      assert.equal(trail.status, 200);
      assert.equal(trail.body.items.length, 1);
      const entry = trail.body.items[0];
      assert.deepEqual(
        [entry.action, entry.permissionId, entry.result, entry.actor, entry.httpStatus],
        ['remove_permission', link.id, 'done', 'api:test-admin', 204],
      );
      assert.equal(entry.before.link_scope, 'anonymous');

      const again = await api.admin.post('/api/v1/remediation/apply', { planId: planned.body.planId });
      assert.equal(again.body.results[0].result, 'skipped', 'a plan applied twice touches nothing new');
    });

    test('a finding as target; a permission changed after the dry run is skipped', async () => {
      const [link] = await anyoneLinks();
      const finding = await api.app.store.db
        .insertInto('findings')
        .values({
          integration_id: INTEGRATION,
          rule_id: 'permission_anonymous_link_absent',
          resource_type: 'permission',
          resource_key: `${link.driveId}/${link.itemId}/${link.id}`,
          resource_id: link.id,
          drive_id: link.driveId,
          item_id: link.itemId,
          status: 'open',
          result: 'alarm',
          severity: 'high',
          reason: 'Anyone link',
          details: encodeValue('json', {}, api.app.store.dialect),
          first_seen: '2026-01-01T00:00:00Z',
          last_seen: '2026-01-01T00:00:00Z',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const planned = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: INTEGRATION,
        target: { kind: 'finding', findingId: Number(finding.id) },
      });
      assert.equal(planned.status, 200, planned.text);
      assert.deepEqual(
        planned.body.actions.map((a: { permissionId: string }) => a.permissionId),
        [link.id],
      );
      // The inventory sees the link change (another role) after the dry run.
      const roles = planned.body.actions[0].roles.includes('write') ? ['read'] : ['write'];
      await api.app.store.db
        .updateTable('permissions')
        .set({ roles: encodeValue('json', roles, api.app.store.dialect) })
        .where('id', '=', link.id)
        .execute();
      const applied = await api.admin.post('/api/v1/remediation/apply', { planId: planned.body.planId });
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.results[0].result, 'skipped');
      assert.match(applied.body.results[0].error, /changed since the plan/);
      assert.ok(
        (await anyoneLinks()).some((p) => p.id === link.id),
        'still in Graph',
      );
    });

    test('bad input answers 400 naming the field; unknown targets 404; viewers 403; anonymous 401', async () => {
      const noKind = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: INTEGRATION,
        target: { kind: 'everything' },
      });
      assert.equal(noKind.status, 400);
      assert.match(noKind.body.error.message, /body\.target/);
      const badId = await api.admin.post('/api/v1/remediation/apply', { planId: 'nope' });
      assert.equal(badId.status, 400);
      assert.match(badId.body.error.message, /^body\.planId: must be the planId/);
      const unknownPlan = await api.admin.post('/api/v1/remediation/apply', { planId: '0123456789ab' });
      assert.equal(unknownPlan.status, 404);
      assert.match(unknownPlan.body.error.message, /make a dry run first/);
      const gone = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: INTEGRATION,
        target: { kind: 'permission', permissionId: 'no-such-permission' },
      });
      assert.equal(gone.status, 404);
      assert.match(gone.body.error.message, /no live permission "no-such-permission"/);
      const badSetting = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: INTEGRATION,
        target: { kind: 'settings', set: { sharingCapabilityy: 'disabled' } },
      });
      assert.equal(badSetting.status, 400);
      assert.match(badSetting.body.error.message, /unknown sharepointSettings property "sharingCapabilityy"/);
      const noIntegration = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: 'nope',
        target: { kind: 'rule', ruleId: 'permission_anonymous_link_absent' },
      });
      assert.equal(noIntegration.status, 404);

      const plan = {
        integrationId: INTEGRATION,
        target: { kind: 'rule', ruleId: 'permission_anonymous_link_absent' },
      };
      assert.equal((await api.viewer.post('/api/v1/remediation/plan', plan)).status, 403);
      assert.equal(
        (await api.viewer.post('/api/v1/remediation/apply', { planId: '0123456789ab' })).status,
        403,
      );
      assert.equal((await api.viewer.post('/api/v1/remediation/reviews', {})).status, 403);
      assert.equal(
        (await api.viewer.put('/api/v1/remediation/auto/cap', { integrationId: INTEGRATION, dailyCap: 1 }))
          .status,
        403,
      );
      for (const path of [
        '/api/v1/remediation/actions',
        '/api/v1/remediation/reviews',
        `/api/v1/remediation/auto?integrationId=${INTEGRATION}`,
      ])
        assert.equal((await api.anon.get(path)).status, 401, path);
    });

    test('a settings dry run reads Graph; applying it changes the setting, before and after in the trail', async () => {
      const property = 'isResharingByExternalUsersEnabled';
      const probe = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: INTEGRATION,
        target: { kind: 'settings', set: { [property]: true } },
      });
      assert.equal(probe.status, 200, probe.text);
      // Whatever the tenant has, ask for the other value.
      const current = probe.body.changes.length === 0;
      if (current) assert.deepEqual(probe.body.notes, [`${property}: already set`]);
      const planned = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: INTEGRATION,
        target: { kind: 'settings', set: { [property]: !current } },
      });
      assert.deepEqual(planned.body.changes, [{ property, before: current, after: !current }]);
      const applied = await api.admin.post('/api/v1/remediation/apply', { planId: planned.body.planId });
      assert.equal(applied.status, 200, applied.text);
      assert.equal(applied.body.results[0].result, 'done');
      assert.deepEqual(applied.body.settingsAfter, { [property]: !current });
      const trail = await api.viewer.get(`/api/v1/remediation/actions?planId=${planned.body.planId}`);
      assert.deepEqual(trail.body.items[0].before, { [property]: current });
      assert.deepEqual(trail.body.items[0].after, { [property]: !current });
      const again = await api.admin.post('/api/v1/remediation/plan', {
        integrationId: INTEGRATION,
        target: { kind: 'settings', set: { [property]: !current } },
      });
      assert.deepEqual(again.body.changes, [], 'Graph has the new value');
    });

    test('the trail pages newest first and filters by result', async () => {
      const all = await api.viewer.get('/api/v1/remediation/actions?limit=500');
      assert.ok(all.body.items.length >= 3);
      const first = await api.viewer.get('/api/v1/remediation/actions?limit=1');
      const second = await api.viewer.get(
        `/api/v1/remediation/actions?limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      );
      assert.deepEqual(
        [first.body.items[0].id, second.body.items[0].id],
        all.body.items.slice(0, 2).map((e: { id: number }) => e.id),
      );
      const skipped = await api.viewer.get('/api/v1/remediation/actions?result=skipped');
      assert.ok(skipped.body.items.length >= 2);
      assert.ok(skipped.body.items.every((e: { result: string }) => e.result === 'skipped'));
      assert.equal((await api.viewer.get('/api/v1/remediation/actions?result=maybe')).status, 400);
    });

    test('auto-remediation settings: allow a rule with a grace, set the cap, disallow', async () => {
      const allowed = await api.admin.put('/api/v1/remediation/auto/rules/permission_anonymous_link_absent', {
        integrationId: INTEGRATION,
        grace: '2h',
        scope: 'public',
      });
      assert.equal(allowed.status, 200, allowed.text);
      assert.equal(allowed.body.graceSeconds, 7200);
      const cap = await api.admin.put('/api/v1/remediation/auto/cap', {
        integrationId: INTEGRATION,
        dailyCap: 5,
      });
      assert.equal(cap.status, 200);
      const shown = await api.viewer.get(`/api/v1/remediation/auto?integrationId=${INTEGRATION}`);
      assert.equal(shown.status, 200);
      assert.equal(shown.body.dailyCap, 5);
      assert.deepEqual(
        shown.body.rules.map((r: { ruleId: string; graceSeconds: number; createdBy: string }) => [
          r.ruleId,
          r.graceSeconds,
          r.createdBy,
        ]),
        [['permission_anonymous_link_absent', 7200, 'api:test-admin']],
      );
      const badGrace = await api.admin.put(
        '/api/v1/remediation/auto/rules/permission_anonymous_link_absent',
        {
          integrationId: INTEGRATION,
          grace: 'soon',
        },
      );
      assert.equal(badGrace.status, 400);
      assert.match(badGrace.body.error.message, /grace period "soon"/);
      const badCap = await api.admin.put('/api/v1/remediation/auto/cap', {
        integrationId: INTEGRATION,
        dailyCap: -1,
      });
      assert.equal(badCap.status, 400);
      assert.match(badCap.body.error.message, /dailyCap/);
      const off = await api.admin.delete(
        `/api/v1/remediation/auto/rules/permission_anonymous_link_absent?integrationId=${INTEGRATION}`,
      );
      assert.equal(off.status, 200);
      assert.equal(
        (
          await api.admin.delete(
            `/api/v1/remediation/auto/rules/permission_anonymous_link_absent?integrationId=${INTEGRATION}`,
          )
        ).status,
        404,
      );
    });

    test('scheduled review campaigns: added, listed and removed by admins only', async () => {
      const body = {
        integrationId: INTEGRATION,
        name: 'outside shares each quarter',
        ruleId: 'permission_guest_access_reviewed',
        every: 'quarterly',
        start: '2031-01-01T00:00:00.000Z',
        escalateAfterDays: 10,
      };
      assert.equal((await api.viewer.post('/api/v1/remediation/review-schedules', body)).status, 403);
      const bad = await api.admin.post('/api/v1/remediation/review-schedules', {
        ...body,
        every: 'sometimes',
      });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /every: weekly, monthly, quarterly, yearly/);
      const both = await api.admin.post('/api/v1/remediation/review-schedules', { ...body, query: 'x' });
      assert.equal(both.status, 400);
      const added = await api.admin.post('/api/v1/remediation/review-schedules', body);
      assert.equal(added.status, 201, added.text);
      assert.equal(added.body.nextRunAt, '2031-01-01T00:00:00.000Z');
      assert.equal(added.body.escalateAfterDays, 10);
      assert.deepEqual(added.body.source, {
        kind: 'rule',
        id: 'permission_guest_access_reviewed',
        params: {},
      });
      assert.equal((await api.viewer.get('/api/v1/remediation/review-schedules')).status, 403);
      const list = await api.admin.get('/api/v1/remediation/review-schedules');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.items.map((s: { name: string; every: string }) => [s.name, s.every]),
        [['outside shares each quarter', 'quarterly']],
      );
      assert.equal(
        (await api.admin.post('/api/v1/remediation/review-schedules', body)).status,
        400,
        'name taken',
      );
      assert.equal(
        (await api.viewer.delete(`/api/v1/remediation/review-schedules/${added.body.id}`)).status,
        403,
      );
      const removed = await api.admin.delete(`/api/v1/remediation/review-schedules/${added.body.id}`);
      assert.equal(removed.status, 200, removed.text);
      assert.equal(
        (await api.admin.delete(`/api/v1/remediation/review-schedules/${added.body.id}`)).status,
        404,
      );
    });

    test('a review campaign mailed to each owner; the review page mounted with the API revokes through a command', async () => {
      const perms = await api.app.store.db
        .selectFrom('permissions')
        .select(['id', 'drive_id', 'item_id'])
        .where('integration_id', '=', INTEGRATION)
        .where(sql<boolean>`is_external = true`)
        .where('deleted_at', 'is', null)
        .execute();
      const now = new Date().toISOString();
      for (const p of new Map(perms.map((p) => [p.id, p])).values())
        await api.app.store.db
          .insertInto('findings')
          .values({
            integration_id: INTEGRATION,
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
            details: encodeValue('json', {}, api.app.store.dialect),
            first_seen: now,
            last_seen: now,
          })
          .execute();
      const channel = await api.admin.post('/api/v1/alerts/channels', {
        name: 'owners-mail',
        kind: 'email',
        config: {
          host: '127.0.0.1',
          port: smtp.port,
          security: 'none',
          from: 'dw@example.com',
          to: ['sec@example.com'],
        },
      });
      assert.equal(channel.status, 201, channel.text);
      const created = await api.admin.post('/api/v1/remediation/reviews', {
        integrationId: INTEGRATION,
        ruleId: 'permission_guest_access_reviewed',
        name: 'q1 review',
        expires: '7d',
        channel: 'owners-mail',
      });
      assert.equal(created.status, 201, created.text);
      const { links, sent, campaignId } = created.body;
      assert.ok(links.length >= 2, 'several owners');
      assert.equal(sent.length, links.length);
      assert.ok(
        sent.every(
          (s: { ok: boolean; status: number; via: string }) => s.ok && s.status === 250 && s.via === 'email',
        ),
      );
      for (const l of links) {
        assert.ok(l.url.startsWith('https://dw.example.test/review?t='), l.url);
        const mail = smtp.mails.find((m) => m.to.length === 1 && m.to[0] === l.owner);
        assert.ok(mail, `a mail to ${l.owner} only`);
        assert.ok(mimeParts(mail.raw)['text/plain'].includes(l.url), 'with their own link');
        for (const other of links.filter((o: { owner: string }) => o.owner !== l.owner))
          assert.ok(
            !mail.raw.includes(new URL(other.url).searchParams.get('t')?.slice(0, 40) ?? '-'),
            'and no one else’s',
          );
      }
      const notEmail = await api.admin.post('/api/v1/alerts/channels', {
        name: 'slack-x',
        kind: 'slack',
        config: { url: 'https://hooks.example.com/x' },
      });
      assert.equal(notEmail.status, 201);
      const refused = await api.admin.post('/api/v1/remediation/reviews', {
        integrationId: INTEGRATION,
        ruleId: 'permission_guest_access_reviewed',
        channel: 'slack-x',
      });
      assert.equal(refused.status, 400);
      assert.match(refused.body.error.message, /an e-mail channel/);

      const link = links.find((l: { items: number }) => l.items >= 2);
      assert.ok(link, 'an owner with two grants or more');
      const path = new URL(link.url).pathname + new URL(link.url).search;
      const page = await api.anon.get(path);
      assert.equal(page.status, 200, page.text);
      assert.equal(page.headers.get('cache-control'), 'no-store');
      const ids = [...page.text.matchAll(/name="d_(\d+)" value="keep"/g)].map((m) => m[1]);
      assert.equal(ids.length, link.items);

      const [toRevoke] = await api.app.store.db
        .selectFrom('review_items')
        .select('permission_id')
        .where('id', '=', Number(ids[1]))
        .execute();
      assert.ok((await permissions()).some((p) => p.id === toRevoke.permission_id));
      const form = new URLSearchParams();
      form.set(`d_${ids[0]}`, 'keep');
      form.set(`d_${ids[1]}`, 'revoke');
      const answer = await fetch(new URL(path, api.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      const html = await answer.text();
      assert.equal(answer.status, 200, html);
      assert.match(html, /Kept 1, revoked 1/);
      assert.match(html, /access removed/);
      assert.ok(
        !(await permissions()).some((p) => p.id === toRevoke.permission_id),
        'the revoked grant is gone from the ground truth',
      );
      const trail = await api.viewer.get(
        `/api/v1/remediation/actions?permissionId=${encodeURIComponent(toRevoke.permission_id)}`,
      );
      assert.equal(trail.body.items[0].actor, `review:${link.owner}`);
      const replay = await api.anon.get(path);
      assert.equal(replay.status, 403);
      assert.match(replay.text, /already used/);

      const list = await api.viewer.get('/api/v1/remediation/reviews');
      const row = list.body.items.find((c: { id: number }) => c.id === campaignId);
      assert.deepEqual([row.name, row.kept, row.revoked, row.answered], ['q1 review', 1, 1, 2]);
      assert.equal(row.unanswered, row.total - 2);
      assert.equal(row.escalated, 0, 'nobody was escalated yet');
      const report = await api.viewer.get(`/api/v1/remediation/reviews/${campaignId}?format=csv`);
      assert.equal(report.status, 200);
      assert.match(
        report.text,
        /^owner,item_path,permission_id,decision,decided_at,decided_by,justification,escalated_to\n/,
      );
      assert.match(report.text, /,revoke,/);
      assert.equal((await api.viewer.get('/api/v1/remediation/reviews/99999')).status, 404);
    });
  });
}
