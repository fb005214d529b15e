import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestApi } from '../../../../test/support/api.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { evaluateIntegration } from '../../../rules/evaluate.ts';
import { loadBuiltinRules } from '../../../rules/loader.ts';
import { recordPackScores } from '../../../rules/pack-score.ts';
import { loadBuiltinPacks } from '../../../rules/packs.ts';
import { decodeValue } from '../../../store/codec.ts';
import { recordExposureDay } from '../../../store/exposure-daily.ts';
import { syncedApi } from './test-support/synced-api.ts';

/**
 * GET /overview over a collected simulator tenant, both dialects: exposure counts and bytes as
 * the items say, the trend's days as the service counted them (today live), open findings by
 * severity, the latest pack scores, sync health and the newest alert deliveries.
 */
const INT = 'int-ov';
const dayBefore = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

for (const dialect of testDialects()) {
  describe(`overview API (${dialect})`, () => {
    let api: TestApi;
    let close: () => Promise<void>;
    before(async () => {
      const s = await syncedApi(dialect, INT);
      api = s.api;
      close = s.close;
      await evaluateIntegration(api.app.store, {
        integrationId: INT,
        mode: 'full',
        rules: loadBuiltinRules(),
      });
      await recordPackScores(api.app.store, INT, loadBuiltinPacks());
      const db = api.app.store.db;
      // Two counts two days ago: the later one stands for the day.
      await db
        .insertInto('exposure_daily')
        .values({
          integration_id: INT,
          day: dayBefore(2),
          ...Object.fromEntries(
            ['public', 'external', 'internal', 'private'].flatMap((e) => [
              [`${e}_files`, 999],
              [`${e}_bytes`, 999],
            ]),
          ),
          taken_at: new Date(Date.now() - 2 * 86_400_000).toISOString(),
        } as never)
        .execute();
      await recordExposureDay(db, INT, new Date(Date.now() - 2 * 86_400_000));
      const now = new Date().toISOString();
      const json = (v: unknown) => JSON.stringify(v);
      await db
        .insertInto('alert_channels')
        .values({
          id: 'ch1',
          name: 'ops-hook',
          kind: 'webhook',
          config_enc: 'x',
          target: 'https://…',
          created_at: now,
          updated_at: now,
        })
        .execute();
      await db
        .insertInto('alert_policies')
        .values({
          id: 'po1',
          name: 'critical-now',
          kind: 'rule',
          filter: json({}),
          channel_ids: json(['ch1']),
          severity: null,
          digest_threshold: 10,
          rate_limit: null,
          quiet_hours: null,
          enabled: (dialect === 'sqlite' ? 1 : true) as boolean,
          created_at: now,
          updated_at: now,
        })
        .execute();
      for (const n of [1, 2])
        await db
          .insertInto('alert_outbox')
          .values({
            alert_id: `a${n}`,
            idempotency_key: `k${n}`,
            policy_id: 'po1',
            channel_id: n === 1 ? 'ch1' : 'gone',
            kind: 'alert',
            item_count: 1,
            severity: 'high',
            title: `alert ${n}`,
            body: '…',
            created_at: now,
            next_attempt_at: null,
            status: n === 1 ? 'delivered' : 'pending',
            delivered_at: null,
            latency_ms: null,
            response_status: null,
          })
          .execute();
    });
    after(() => close?.());

    test('anonymous callers are refused; bad input names the field', async () => {
      assert.equal((await api.anon.get('/api/v1/overview')).status, 401);
      const bad = await api.viewer.get('/api/v1/overview?days=500');
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /days/);
    });

    test('exposure, trend, findings, packs, sync health and alerts match the store', async () => {
      const res = await api.viewer.get(`/api/v1/overview?days=7`);
      assert.equal(res.status, 200, res.text);
      const o = res.body;
      const db = api.app.store.db;
      const files = (
        await db.selectFrom('drive_items').selectAll().where('deleted_at', 'is', null).execute()
      ).filter((i) => decodeValue('boolean', i.is_folder) === false);
      for (const e of ['public', 'external', 'internal', 'private'] as const) {
        const mine = files.filter((i) => i.exposure === e);
        assert.deepEqual(
          o.exposure[e],
          { files: mine.length, bytes: mine.reduce((n, i) => n + Number(i.size ?? 0), 0) },
          e,
        );
      }
      assert.equal(o.exposureTrend.length, 7);
      // Today is the live count; the past days hold what the service counted (two days ago,
      // below) and null where nothing was counted.
      assert.deepEqual(o.exposureTrend[6], {
        day: new Date().toISOString().slice(0, 10),
        public: o.exposure.public.files,
        external: o.exposure.external.files,
        internal: o.exposure.internal.files,
      });
      assert.ok(o.exposureTrend[6].public > 0);
      assert.deepEqual(o.exposureTrend[5], {
        day: dayBefore(1),
        public: null,
        external: null,
        internal: null,
      });
      assert.deepEqual(o.exposureTrend[4], {
        day: dayBefore(2),
        public: o.exposure.public.files,
        external: o.exposure.external.files,
        internal: o.exposure.internal.files,
      });
      const open = await db.selectFrom('findings').select('severity').where('status', '=', 'open').execute();
      for (const s of ['critical', 'high', 'medium', 'low', 'info'])
        assert.equal(o.findings[s], open.filter((f) => f.severity === s).length, s);
      assert.ok(open.length > 0);
      assert.equal(o.packs.length, loadBuiltinPacks().length);
      for (const p of o.packs) {
        assert.equal(p.integrationId, INT);
        assert.ok(p.score === null || (p.score >= 0 && p.score <= 1));
        assert.notEqual(p.title, '');
      }
      assert.equal(o.syncHealth.length, 1);
      assert.equal(o.syncHealth[0].integrationId, INT);
      assert.equal(o.syncHealth[0].status, 'ok');
      assert.ok(o.syncHealth[0].lagSeconds >= 0 && o.syncHealth[0].lagSeconds < 600);
      assert.deepEqual(
        o.recentAlerts.map((a: { title: string; policy: string; channel: string; status: string }) => [
          a.title,
          a.policy,
          a.channel,
          a.status,
        ]),
        [
          ['alert 2', 'critical-now', 'gone', 'pending'],
          ['alert 1', 'critical-now', 'ops-hook', 'delivered'],
        ],
      );
    });

    test('an unknown integration has nothing', async () => {
      const res = await api.viewer.get('/api/v1/overview?integrationId=nope');
      assert.equal(res.status, 200);
      assert.equal(res.body.exposure.public.files, 0);
      assert.deepEqual(res.body.syncHealth, []);
    });
  });
}
