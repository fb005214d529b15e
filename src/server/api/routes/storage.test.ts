import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TestApi } from '../../../../test/support/api.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { evaluateIntegration } from '../../../rules/evaluate.ts';
import { loadBuiltinRules } from '../../../rules/loader.ts';
import { addStoragePolicy } from '../../../rules/storage-policies.ts';
import { decodeValue } from '../../../store/codec.ts';
import { syncedApi } from './test-support/synced-api.ts';

/**
 * The storage API over a collected simulator tenant, both dialects: usage per user and per
 * group equals the drives' sums (paged without duplicates), the top lists are the largest,
 * and a policy lists the drives the rule found over it.
 */
const INT = 'int-st';
// biome-ignore lint/suspicious/noExplicitAny: JSON rows
type Row = any;

for (const dialect of testDialects()) {
  describe(`storage API (${dialect})`, () => {
    let api: TestApi;
    let close: () => Promise<void>;
    let drives: Row[] = [];
    before(async () => {
      const s = await syncedApi(dialect, INT);
      api = s.api;
      close = s.close;
      const db = api.app.store.db;
      drives = await db.selectFrom('drives').selectAll().where('deleted_at', 'is', null).execute();
      const owner = drives.find((d) => d.owner_kind === 'user' && Number(d.quota_used) > 1024);
      await addStoragePolicy(db, {
        integrationId: INT,
        scope: { kind: 'user', ref: owner.owner_id },
        limit: { bytes: 1024 },
      });
      await evaluateIntegration(api.app.store, {
        integrationId: INT,
        mode: 'full',
        rules: loadBuiltinRules(),
      });
    });
    after(() => close?.());

    async function all(path: string, limit: number): Promise<Row[]> {
      const out: Row[] = [];
      let cursor: string | null = null;
      do {
        const res: { status: number; body: Row; text: string } = await api.viewer.get(
          `${path}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(res.status, 200, res.text);
        out.push(...res.body.items);
        cursor = res.body.nextCursor;
      } while (cursor);
      return out;
    }

    test('anonymous callers are refused; bad input names the field', async () => {
      for (const p of ['usage', 'top', 'policies'])
        assert.equal((await api.anon.get(`/api/v1/storage/${p}`)).status, 401);
      const bad = await api.viewer.get('/api/v1/storage/usage?by=site');
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /by/);
      assert.match((await api.viewer.get('/api/v1/storage/usage?sort=size')).body.error.message, /sort/);
    });

    test('usage by user: one row per owner with the sums of their drives, sorted by bytes used', async () => {
      const rows = await all('/api/v1/storage/usage?by=user', 4);
      const owners = new Map<string, Row[]>();
      for (const d of drives.filter((x) => x.owner_kind === 'user' && x.owner_id))
        owners.set(d.owner_id, [...(owners.get(d.owner_id) ?? []), d]);
      assert.equal(rows.length, owners.size);
      assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
      for (const r of rows) {
        const mine = owners.get(r.id) ?? [];
        assert.equal(
          r.used,
          mine.reduce((n, d) => n + Number(d.quota_used ?? 0), 0),
        );
        assert.equal(r.drives, mine.length);
      }
      for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].used >= rows[i].used, 'descending by used');
    });

    test('usage by group: the drives of its transitive user members', async () => {
      const db = api.app.store.db;
      const members = await db
        .selectFrom('group_members')
        .select(['group_id', 'id'])
        .where('deleted_at', 'is', null)
        .execute();
      const rows = await all('/api/v1/storage/usage?by=group&sort=name', 3);
      assert.ok(rows.length > 0);
      for (const r of rows) {
        const ids = new Set(members.filter((m) => m.group_id === r.id).map((m) => m.id));
        const mine = drives.filter((d) => d.owner_kind === 'user' && ids.has(d.owner_id));
        assert.equal(
          r.used,
          mine.reduce((n, d) => n + Number(d.quota_used ?? 0), 0),
          r.name,
        );
      }
    });

    test('top: totals, quota states, the largest drives and files', async () => {
      const res = await api.viewer.get('/api/v1/storage/top?limit=5');
      assert.equal(res.status, 200, res.text);
      const t = res.body;
      assert.equal(t.totals.drives, drives.length);
      assert.equal(
        t.totals.used,
        drives.reduce((n, d) => n + Number(d.quota_used ?? 0), 0),
      );
      assert.equal(
        Object.values(t.quotaStates as Record<string, number>).reduce((a, b) => a + b, 0),
        drives.length,
      );
      const used = drives.map((d) => Number(d.quota_used ?? -1)).sort((a, b) => b - a);
      assert.deepEqual(
        t.drives.map((d: Row) => d.quotaUsed ?? -1),
        used.slice(0, 5),
      );
      const files = (
        await api.app.store.db
          .selectFrom('drive_items')
          .select(['size', 'is_folder'])
          .where('deleted_at', 'is', null)
          .execute()
      )
        .filter((i) => decodeValue('boolean', i.is_folder) === false)
        .map((i) => Number(i.size ?? -1))
        .sort((a, b) => b - a);
      assert.deepEqual(
        t.files.map((f: Row) => f.size),
        files.slice(0, 5),
      );
    });

    test('policies with the drives over their limit', async () => {
      const res = await api.viewer.get('/api/v1/storage/policies');
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.items.length, 1);
      const p = res.body.items[0];
      assert.equal(p.limit, '1 KB');
      const owned = drives.filter((d) => d.owner_id === p.scopeId).map((d) => d.id);
      assert.deepEqual(p.violations.map((v: Row) => v.driveId).sort(), owned.sort());
      assert.equal(p.violations[0].severity, 'high');
      assert.equal(p.violations[0].limitBytes, 1024);
    });
  });
}
