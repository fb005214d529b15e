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
      // The sign-in tables are not console tables at all (CONSOLE_TABLES), not even their names.
      const names = await api.viewer.post('/api/v1/query', {
        sql: 'select username, role from app_users order by username',
      });
      assert.equal(names.status, 400, 'the sign-in tables are not readable');
      assert.equal(names.body.error.code, 'query_refused');
      assert.match(names.body.error.message, /app_users/);
    });
  });
}
