import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { seedRuleTenant } from '../../../../test/support/rule-tenant.ts';
import { testDialects } from '../../../../test/support/store.ts';

/**
 * The query console's other routes on a real server, both dialects (split from
 * query.test.ts: every query forks a query process, slow on a loaded machine): exports,
 * the schema for completion, the examples, saved queries.
 */
for (const dialect of testDialects()) {
  describe(`query console exports, schema and saved queries (${dialect})`, () => {
    let api: TestApi;
    before(async () => {
      api = await startTestApi({ dialect });
      await seedRuleTenant(api.app.store);
    });
    after(() => api?.close());

    test('POST /query/export downloads CSV with a header row, or JSON', async () => {
      const sql = "select id, name from drive_items where drive_id = 'd-alice' order by id";
      const csv = await api.viewer.post('/api/v1/query/export', { sql, format: 'csv' });
      assert.equal(csv.status, 200, csv.text);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      assert.match(csv.headers.get('content-disposition') ?? '', /^attachment; filename="query-.*\.csv"$/);
      const lines = csv.text.split('\r\n');
      assert.equal(lines[0], 'id,name');
      assert.equal(lines.length - 2, Number(csv.headers.get('x-row-count')));
      const json = await api.viewer.post('/api/v1/query/export', { sql, format: 'json' });
      assert.match(json.headers.get('content-disposition') ?? '', /\.json"$/);
      assert.equal(json.body.length, lines.length - 2);
      assert.deepEqual(Object.keys(json.body[0]), ['id', 'name']);
      const bad = await api.viewer.post('/api/v1/query/export', { sql, format: 'xlsx' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /format/);
      const refused = await api.viewer.post('/api/v1/query/export', {
        sql: 'select * from api_tokens',
        format: 'csv',
      });
      assert.equal(refused.status, 400);
    });

    test('GET /query/schema describes tables and columns, without secret columns', async () => {
      const res = await api.viewer.get('/api/v1/query/schema');
      assert.equal(res.status, 200);
      const byName = new Map(res.body.tables.map((t: { name: string }) => [t.name, t]));
      const items = byName.get('drive_items') as {
        description: string;
        columns: Array<{ name: string; description: string | null }>;
      };
      assert.match(items.description, /\S/);
      const exposure = items.columns.find((c) => c.name === 'exposure');
      assert.match(exposure?.description ?? '', /public/);
      assert.ok(byName.has('item_grants'), 'views are listed');
      const users = byName.get('app_users') as { columns: Array<{ name: string }> };
      assert.ok(users.columns.some((c) => c.name === 'username'));
      assert.ok(!users.columns.some((c) => c.name === 'password_hash'));
      const tokens = byName.get('api_tokens') as { columns: Array<{ name: string }> };
      assert.ok(!tokens.columns.some((c) => c.name === 'token_hash'));
      assert.ok(!byName.has('kysely_migration'));
    });

    test('GET /query/examples; saved queries: save (admin), list with paging, delete', async () => {
      const examples = await api.viewer.get('/api/v1/query/examples');
      assert.ok(examples.body.items.some((e: { name: string }) => e.name === 'shared-with-anyone'));

      const sql = 'select name from drive_items where drive_id = :drive';
      assert.equal(
        (await api.viewer.post('/api/v1/saved-queries', { name: 'by-drive', description: 'x', sql })).status,
        403,
      );
      for (const name of ['by-drive', 'zz-last']) {
        const saved = await api.admin.post('/api/v1/saved-queries', {
          name,
          description: `the ${name}`,
          sql,
        });
        assert.equal(saved.status, 201, saved.text);
        assert.deepEqual(saved.body.params, { drive: null });
        assert.equal(saved.body.createdBy, 'test-admin');
      }
      const bad = await api.admin.post('/api/v1/saved-queries', { name: 'Bad Name', description: 'x', sql });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /query name/);
      const broken = await api.admin.post('/api/v1/saved-queries', {
        name: 'broken',
        description: 'x',
        sql: 'select nope from drive_items',
      });
      assert.equal(broken.status, 400);
      assert.match(broken.body.error.message, /^not saved: /);
      const page1 = await api.viewer.get('/api/v1/saved-queries?limit=1');
      assert.deepEqual(
        page1.body.items.map((q: { name: string }) => q.name),
        ['by-drive'],
      );
      const page2 = await api.viewer.get(`/api/v1/saved-queries?limit=1&cursor=${page1.body.nextCursor}`);
      assert.deepEqual(
        page2.body.items.map((q: { name: string }) => q.name),
        ['zz-last'],
      );
      assert.equal(page2.body.nextCursor, null);

      assert.equal((await api.viewer.delete('/api/v1/saved-queries/zz-last')).status, 403);
      assert.equal((await api.admin.delete('/api/v1/saved-queries/zz-last')).status, 200);
      assert.equal((await api.admin.delete('/api/v1/saved-queries/zz-last')).status, 404);
      const left = await api.viewer.get('/api/v1/saved-queries');
      assert.deepEqual(
        left.body.items.map((q: { name: string }) => q.name),
        ['by-drive'],
      );
    });
  });
}
