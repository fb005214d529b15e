import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { simClient, simContext } from '../../../../test/support/collector.ts';
import { registerIntegration } from '../../../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../../../test/support/simulator.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { runRules } from '../../../app/rules.ts';
import { syncIntegration } from '../../../collect/sync.ts';

/**
 * /rules, /findings and /packs on a real server, both dialects: a simulator tenant collected
 * into the API's store and evaluated by the rules engine (a full run, as `rules run --full`),
 * then read, filtered, paged, suppressed and configured through the API.
 */

const INTEGRATION = 'int-api-rules';

const CUSTOM_YAML = (id: string) => `id: ${id}
title: Files named like a secret
severity: medium
resource_type: drive_item
description: Files whose name says they hold a secret.
risk: Secrets in files leak.
remediation: Move them to a vault.
requires: [drive_item]
`;
const CUSTOM_SQL = `select i.id as resource_id, i.drive_id, i.name as resource_name, i.path as resource_path,
  case when lower(i.name) like '%secret%' then 'alarm' else 'ok' end as status,
  'name says secret' as reason
from drive_items i where i.integration_id = :integration_id and i.deleted_at is null`;

for (const dialect of testDialects()) {
  describe(`rules API (${dialect})`, () => {
    let env: TestSim;
    let api: TestApi;
    const changed: Array<string | undefined> = [];

    before(async () => {
      env = await startTestSim({ seed: 11, users: 10, items: 400 });
      api = await startTestApi({ dialect, hooks: { changed: (id) => void changed.push(id) } });
      await registerIntegration(api.app.store.db, dialect, INTEGRATION, env.sim.tenantId);
      const client = simClient(env.sim);
      try {
        await syncIntegration(simContext(api.app.store, env.sim, client, INTEGRATION), { mode: 'full' });
      } finally {
        await client.close();
      }
      const [result] = await runRules(api.app, { integration: `name-${INTEGRATION}`, full: true });
      assert.ok(result.findings.opened > 5, `the evaluation opened findings (${result.findings.opened})`);
    });
    after(async () => {
      await api?.close();
      await env?.close();
    });

    test('GET /rules lists the catalog with filters and pages by nextCursor', async () => {
      const all = await api.viewer.get('/api/v1/rules?limit=500');
      assert.equal(all.status, 200);
      assert.ok(all.body.items.length > 10);
      assert.equal(all.body.nextCursor, null);
      const anyone = all.body.items.find((r: { id: string }) => r.id === 'permission_anonymous_link_absent');
      assert.equal(anyone.source, 'builtin');
      assert.equal(anyone.enabled, true);
      assert.ok(anyone.openFindings > 0, 'the tenant has Anyone links');
      assert.ok(anyone.frameworks.length > 0, 'mapped by a pack');

      const high = await api.viewer.get('/api/v1/rules?severity=high,critical&limit=500');
      assert.ok(high.body.items.length > 0);
      assert.ok(
        high.body.items.every((r: { severity: string }) => ['high', 'critical'].includes(r.severity)),
      );

      const page1 = await api.viewer.get('/api/v1/rules?limit=5');
      assert.equal(page1.body.items.length, 5);
      assert.ok(page1.body.nextCursor);
      const page2 = await api.viewer.get(`/api/v1/rules?limit=5&cursor=${page1.body.nextCursor}`);
      assert.equal(page2.body.items.length, 5);
      assert.deepEqual(
        [...page1.body.items, ...page2.body.items].map((r: { id: string }) => r.id),
        all.body.items.slice(0, 10).map((r: { id: string }) => r.id),
      );

      const bad = await api.viewer.get('/api/v1/rules?severity=urgent');
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /severity/);
      assert.equal((await api.anon.get('/api/v1/rules')).status, 401);
    });

    test('GET /rules/:id has the SQL and parameters with their values', async () => {
      const res = await api.viewer.get(
        `/api/v1/rules/permission_anonymous_link_expires?integrationId=${INTEGRATION}`,
      );
      assert.equal(res.status, 200);
      assert.match(res.body.sql, /select/i);
      const maxDays = res.body.parameters.find((p: { name: string }) => p.name === 'max_days');
      assert.equal(maxDays.value, maxDays.default);
      assert.equal(res.body.settings[0].integrationId, INTEGRATION);
      assert.equal((await api.viewer.get('/api/v1/rules/no_such_rule')).status, 404);
    });

    test('PATCH /rules/:id disables a rule and sets parameters; bad values → 422; viewer → 403', async () => {
      const path = '/api/v1/rules/permission_anonymous_link_expires';
      assert.equal((await api.viewer.patch(path, { enabled: false })).status, 403);
      const off = await api.admin.patch(path, {
        integrationId: INTEGRATION,
        enabled: false,
        parameters: { max_days: 90 },
      });
      assert.equal(off.status, 200, off.text);
      assert.deepEqual(off.body.settings, [
        { integrationId: INTEGRATION, enabled: false, parameters: { max_days: 90 } },
      ]);
      assert.ok(changed.includes(INTEGRATION), 'the service is told to re-evaluate');
      const shown = await api.viewer.get(`${path}?integrationId=${INTEGRATION}`);
      assert.equal(shown.body.enabled, false);
      assert.equal(shown.body.parameters.find((p: { name: string }) => p.name === 'max_days').value, 90);

      const wrong = await api.admin.patch(path, { parameters: { max_days: 'soon' } });
      assert.equal(wrong.status, 422);
      assert.match(wrong.body.error.message, /max_days must be an integer/);
      const unknown = await api.admin.patch(path, { parameters: { nope: 1 } });
      assert.equal(unknown.status, 422);
      assert.match(unknown.body.error.message, /unknown parameter nope/);
      const empty = await api.admin.patch(path, {});
      assert.equal(empty.status, 400);
      assert.match(empty.body.error.message, /enabled/);

      const back = await api.admin.patch(path, { enabled: true, parameters: { max_days: null } });
      assert.equal(back.status, 200);
      assert.deepEqual(back.body.settings[0], {
        integrationId: INTEGRATION,
        enabled: true,
        parameters: { max_days: 30 },
      });
    });

    test('GET /findings filters, sorts and pages by nextCursor', async () => {
      const all = await api.viewer.get('/api/v1/findings?limit=500');
      assert.equal(all.status, 200);
      const items = all.body.items as Array<Record<string, string | number>>;
      assert.ok(items.length > 5);
      for (let i = 1; i < items.length; i++)
        assert.ok(
          items[i - 1].lastSeenAt > items[i].lastSeenAt ||
            (items[i - 1].lastSeenAt === items[i].lastSeenAt && items[i - 1].id > items[i].id),
          'newest first',
        );
      const anyone = items.find((f) => f.ruleId === 'permission_anonymous_link_absent');
      assert.ok(anyone);
      assert.equal(anyone.ruleTitle.toString().length > 0 && anyone.ruleTitle !== anyone.ruleId, true);
      assert.equal(anyone.source, 'rule');
      assert.equal(anyone.integrationId, INTEGRATION);

      const pages: number[] = [];
      let cursor: string | null = null;
      do {
        const res: { body: { items: Array<{ id: number }>; nextCursor: string | null } } =
          await api.viewer.get(`/api/v1/findings?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
        pages.push(...res.body.items.map((f) => f.id));
        cursor = res.body.nextCursor;
      } while (cursor);
      assert.deepEqual(
        pages,
        items.map((f) => f.id),
        'pages of 4 add up to the whole list, in order',
      );

      const byRule = await api.viewer.get(
        '/api/v1/findings?ruleId=permission_anonymous_link_absent&status=open',
      );
      assert.ok(byRule.body.items.length > 0);
      assert.ok(
        byRule.body.items.every(
          (f: { ruleId: string; status: string }) =>
            f.ruleId === 'permission_anonymous_link_absent' && f.status === 'open',
        ),
      );

      const named = String(anyone.resourceName ?? anyone.resourceId);
      const searched = await api.viewer.get(
        `/api/v1/findings?q=${encodeURIComponent(named.slice(0, 6).toUpperCase())}`,
      );
      assert.ok(
        searched.body.items.some((f: { id: number }) => f.id === anyone.id),
        'q matches name or path, any case',
      );

      const oldest = await api.viewer.get('/api/v1/findings?sort=id&limit=2');
      assert.ok(oldest.body.items[0].id < oldest.body.items[1].id);
      const p2 = await api.viewer.get(`/api/v1/findings?sort=id&limit=2&cursor=${oldest.body.nextCursor}`);
      assert.ok(p2.body.items[0].id > oldest.body.items[1].id);

      const severity = await api.viewer.get('/api/v1/findings?sort=-severity&limit=500');
      const ranks = severity.body.items.map((f: { severity: string }) =>
        ['info', 'low', 'medium', 'high', 'critical'].indexOf(f.severity),
      );
      assert.deepEqual(
        ranks,
        [...ranks].sort((a: number, b: number) => b - a),
      );

      const badSort = await api.viewer.get('/api/v1/findings?sort=-size');
      assert.equal(badSort.status, 400);
      assert.match(badSort.body.error.message, /^sort: /);
      const badStatus = await api.viewer.get('/api/v1/findings?status=closed');
      assert.equal(badStatus.status, 400);
      assert.match(badStatus.body.error.message, /status/);
      const detectors = await api.viewer.get('/api/v1/findings?source=detector');
      assert.deepEqual(detectors.body.items, []);
      assert.equal((await api.anon.get('/api/v1/findings')).status, 401);
    });

    test('a finding with its events; suppress (reason required, admin only), then lift it', async () => {
      const list = await api.viewer.get(
        '/api/v1/findings?status=open&ruleId=permission_anonymous_link_absent&limit=1',
      );
      const id = list.body.items[0].id as number;
      const detail = await api.viewer.get(`/api/v1/findings/${id}`);
      assert.equal(detail.status, 200);
      assert.deepEqual(
        detail.body.events.map((e: { event: string }) => e.event),
        ['opened'],
      );
      assert.equal(typeof detail.body.evidence, 'object');
      assert.equal(detail.body.suppression, null);
      assert.equal((await api.viewer.get('/api/v1/findings/999999')).status, 404);
      assert.equal((await api.viewer.get('/api/v1/findings/abc')).status, 400);

      const noReason = await api.admin.post(`/api/v1/findings/${id}/suppress`, {});
      assert.equal(noReason.status, 400);
      assert.match(noReason.body.error.message, /reason/);
      const blank = await api.admin.post(`/api/v1/findings/${id}/suppress`, { reason: '   ' });
      assert.equal(blank.status, 400);
      assert.match(blank.body.error.message, /reason/);
      const past = await api.admin.post(`/api/v1/findings/${id}/suppress`, {
        reason: 'x',
        until: '2001-01-01T00:00:00Z',
      });
      assert.equal(past.status, 422);
      assert.match(past.body.error.message, /in the past/);
      const viewer = await api.viewer.post(`/api/v1/findings/${id}/suppress`, { reason: 'accepted' });
      assert.equal(viewer.status, 403);
      assert.equal(
        (await api.anon.post(`/api/v1/findings/${id}/suppress`, { reason: 'accepted' })).status,
        401,
      );

      const until = new Date(Date.now() + 86_400_000).toISOString();
      const ok = await api.admin.post(`/api/v1/findings/${id}/suppress`, {
        reason: 'public on purpose',
        until,
      });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.expiresAt, until);
      const after = await api.viewer.get(`/api/v1/findings/${id}`);
      assert.equal(after.body.status, 'suppressed');
      assert.equal(after.body.suppression.reason, 'public on purpose');
      assert.equal(after.body.suppression.actor, 'test-admin');
      assert.equal(after.body.suppression.ruleWide, false);
      assert.deepEqual(
        after.body.events.map((e: { event: string }) => e.event),
        ['opened', 'suppressed'],
      );
      const suppressed = await api.viewer.get('/api/v1/findings?status=suppressed');
      assert.deepEqual(
        suppressed.body.items.map((f: { id: number }) => f.id),
        [id],
      );

      assert.equal((await api.viewer.delete(`/api/v1/findings/${id}/suppression`)).status, 403);
      const lifted = await api.admin.delete(`/api/v1/findings/${id}/suppression`);
      assert.equal(lifted.status, 200, lifted.text);
      assert.equal(lifted.body.unsuppressed, 1);
      assert.equal((await api.viewer.get(`/api/v1/findings/${id}`)).body.status, 'open');
      const again = await api.admin.delete(`/api/v1/findings/${id}/suppression`);
      assert.equal(again.status, 409);
      assert.match(again.body.error.message, /not suppressed/);
    });

    test('custom rules: bad SQL and bad YAML → 422 naming the problem; a good one is saved, listed, deleted', async () => {
      const badSql = await api.admin.post('/api/v1/rules/custom', {
        yaml: CUSTOM_YAML('drive_item_secret_name_absent'),
        sql: 'select resource_id from no_such_table',
      });
      assert.equal(badSql.status, 422);
      assert.match(badSql.body.error.message, /drive_item_secret_name_absent: .*no_such_table/);
      const write = await api.admin.post('/api/v1/rules/custom', {
        yaml: CUSTOM_YAML('drive_item_secret_name_absent'),
        sql: "delete from drive_items where id = 'x'",
      });
      assert.equal(write.status, 422);
      assert.match(write.body.error.message, /refused/);
      const badYaml = await api.admin.post('/api/v1/rules/custom', {
        yaml: CUSTOM_YAML('drive_item_secret_name_absent').replace('severity: medium', 'severity: urgent'),
        sql: CUSTOM_SQL,
      });
      assert.equal(badYaml.status, 422);
      assert.match(badYaml.body.error.message, /rule\.yaml: severity: /);
      const clash = await api.admin.post('/api/v1/rules/custom', {
        yaml: CUSTOM_YAML('permission_anonymous_link_absent'),
        sql: CUSTOM_SQL,
      });
      assert.equal(clash.status, 422);
      assert.match(clash.body.error.message, /already the built-in rule/);
      assert.equal(
        (await api.viewer.post('/api/v1/rules/custom', { yaml: CUSTOM_YAML('a_b_c'), sql: CUSTOM_SQL }))
          .status,
        403,
      );
      assert.equal((await api.admin.post('/api/v1/rules/custom', { sql: CUSTOM_SQL })).status, 400);

      const saved = await api.admin.post('/api/v1/rules/custom', {
        yaml: CUSTOM_YAML('drive_item_secret_name_absent'),
        sql: CUSTOM_SQL,
      });
      assert.equal(saved.status, 201, saved.text);
      assert.equal(saved.body.id, 'drive_item_secret_name_absent');
      assert.equal(saved.body.checks[0].integrationId, INTEGRATION);
      assert.ok(saved.body.checks[0].ok > 0, 'dry run over the inventory');
      const listed = await api.viewer.get('/api/v1/rules?source=saved');
      assert.deepEqual(
        listed.body.items.map((r: { id: string }) => r.id),
        ['drive_item_secret_name_absent'],
      );
      const detail = await api.viewer.get('/api/v1/rules/drive_item_secret_name_absent');
      assert.match(detail.body.yaml, /Files named like a secret/);
      const twice = await api.admin.post('/api/v1/rules/custom', {
        yaml: CUSTOM_YAML('drive_item_secret_name_absent'),
        sql: CUSTOM_SQL,
      });
      assert.equal(twice.status, 422);
      assert.match(twice.body.error.message, /already saved/);

      assert.equal(
        (await api.viewer.delete('/api/v1/rules/custom/drive_item_secret_name_absent')).status,
        403,
      );
      const removed = await api.admin.delete('/api/v1/rules/custom/drive_item_secret_name_absent');
      assert.equal(removed.status, 200);
      assert.equal((await api.viewer.get('/api/v1/rules/drive_item_secret_name_absent')).status, 404);
      const builtin = await api.admin.delete('/api/v1/rules/custom/permission_anonymous_link_absent');
      assert.equal(builtin.status, 422);
      assert.match(builtin.body.error.message, /not a saved one/);
      assert.equal((await api.admin.delete('/api/v1/rules/custom/no_such_rule')).status, 404);
    });

    test('GET /packs and /packs/:id score the evaluated integration', async () => {
      const packs = await api.viewer.get('/api/v1/packs');
      assert.equal(packs.status, 200);
      assert.ok(packs.body.items.length > 0);
      const pack = packs.body.items[0];
      assert.equal(pack.scores[0].integrationId, INTEGRATION);
      assert.ok(pack.scores[0].evaluated > 0, 'a full evaluation ran');
      const detail = await api.viewer.get(`/api/v1/packs/${pack.id}`);
      assert.equal(detail.status, 200);
      assert.equal(detail.body.status[0].controls.length, pack.controls);
      assert.ok(detail.body.history.length > 0, 'the evaluation recorded a score');
      const rulesOfPack = await api.viewer.get(`/api/v1/rules?pack=${pack.id}&limit=500`);
      assert.ok(rulesOfPack.body.items.length > 0);
      assert.ok(rulesOfPack.body.items.length < 100);
      const findingsOfPack = await api.viewer.get(`/api/v1/findings?pack=${pack.id}&limit=500`);
      assert.equal(findingsOfPack.status, 200);
      assert.equal((await api.viewer.get('/api/v1/packs/nope')).status, 404);
      assert.equal((await api.viewer.get('/api/v1/findings?pack=nope')).status, 400);
    });
  });
}
