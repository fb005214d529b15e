import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { seedRuleTenant } from '../../../../test/support/rule-tenant.ts';
import { testDialects } from '../../../../test/support/store.ts';

/**
 * The query console on a real server, both dialects: queries run through the guard and the
 * query process on a seeded inventory; writes and secret columns (the sign-in tables' hashes
 * included) are refused with the guard's message; exports; schema, examples, saved queries.
 */
for (const dialect of testDialects()) {
  describe(`query API (${dialect})`, () => {
    let api: TestApi;
    before(async () => {
      api = await startTestApi({ dialect });
      await seedRuleTenant(api.app.store);
    });
    after(() => api?.close());

    test('POST /query returns columns, rows, rowCount, truncated and ms (viewers may run it)', async () => {
      const res = await api.viewer.post('/api/v1/query', {
        sql: 'select name, size from drive_items where drive_id = :drive and is_folder = false order by name',
        params: { drive: 'd-alice' },
      });
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body.columns, ['name', 'size']);
      assert.ok(res.body.rowCount > 3);
      assert.equal(res.body.rows.length, res.body.rowCount);
      const names = res.body.rows.map((r: { name: string }) => r.name);
      assert.deepEqual(names, [...names].sort());
      assert.equal(res.body.truncated, false);
      assert.equal(typeof res.body.ms, 'number');

      const cut = await api.viewer.post('/api/v1/query', { sql: 'select id from drive_items', limit: 2 });
      assert.equal(cut.body.rowCount, 2);
      assert.equal(cut.body.truncated, true);
      assert.equal(cut.body.truncatedBy, 'rows');

      const missing = await api.viewer.post('/api/v1/query', {
        sql: 'select id from drive_items where name = :n',
      });
      assert.equal(missing.status, 400);
      assert.match(missing.body.error.message, /:n/);
      const noSql = await api.viewer.post('/api/v1/query', {});
      assert.equal(noSql.status, 400);
      assert.match(noSql.body.error.message, /sql/);
      const broken = await api.viewer.post('/api/v1/query', { sql: 'select nope from drive_items' });
      assert.equal(broken.status, 400);
      assert.equal(broken.body.error.code, 'query_sql');
      assert.equal((await api.anon.post('/api/v1/query', { sql: 'select 1' })).status, 401);
    });

    test("writes and secret columns are refused with the guard's message", async () => {
      const write = await api.admin.post('/api/v1/query', {
        sql: "delete from drive_items where id = 'i-public'",
      });
      assert.equal(write.status, 400);
      assert.equal(write.body.error.code, 'query_refused');
      assert.match(write.body.error.message, /^refused: /);
      const stillThere = await api.admin.post('/api/v1/query', {
        sql: "select count(*) as n from drive_items where id = 'i-public'",
      });
      assert.equal(Number(stillThere.body.rows[0].n), 1, 'nothing was deleted');

      for (const sql of [
        'select password_hash from app_users',
        'select * from app_users',
        'select token_hash from api_tokens',
        'select csrf_token from app_sessions',
      ]) {
        const res = await api.viewer.post('/api/v1/query', { sql });
        assert.equal(res.status, 400, sql);
        assert.equal(res.body.error.code, 'query_refused', sql);
        assert.match(res.body.error.message, /secret/, sql);
      }
      const allowed = await api.viewer.post('/api/v1/query', {
        sql: 'select username, role from app_users order by username',
      });
      assert.equal(allowed.status, 200, 'the other columns of the sign-in tables are readable');
      assert.deepEqual(
        allowed.body.rows.map((r: { username: string }) => r.username),
        ['test-admin', 'test-viewer'],
      );
    });

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
      for (const name of ['by-drive', 'public-files', 'zz-last']) {
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
      const again = await api.admin.post('/api/v1/saved-queries', {
        name: 'by-drive',
        description: 'x',
        sql,
      });
      assert.equal(again.status, 400);
      assert.match(again.body.error.message, /already saved/);

      const page1 = await api.viewer.get('/api/v1/saved-queries?limit=2');
      assert.deepEqual(
        page1.body.items.map((q: { name: string }) => q.name),
        ['by-drive', 'public-files'],
      );
      const page2 = await api.viewer.get(`/api/v1/saved-queries?limit=2&cursor=${page1.body.nextCursor}`);
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
        ['by-drive', 'public-files'],
      );
    });
  });
}
