import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, TEST_PG_URL, testDialects } from '../../test/support/store.ts';
import type { Store } from '../store/store.ts';
import { formatTable, QueryError, runReadOnlyQuery } from './run-query.ts';

for (const dialect of testDialects()) {
  describe(`read-only SQL (${dialect})`, () => {
    let store: Store;
    let schema: string | undefined;
    let cleanup: () => Promise<void>;
    const target = () =>
      dialect === 'sqlite' ? { sqliteFile: store.file } : { databaseUrl: TEST_PG_URL, schema };

    before(async () => {
      ({ store, schema, cleanup } = await openTestStore(dialect));
      await sql`insert into integrations (id, name, tenant_id, client_id, verified_domains, enabled, created_at, updated_at)
        values ('i1', 'one', 't1', 'c1', '[]', ${dialect === 'sqlite' ? 1 : true}, '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`.execute(
        store.db,
      );
    });
    after(() => cleanup());

    it('returns columns and rows of a SELECT', async () => {
      const result = await runReadOnlyQuery(target(), 'select name, tenant_id from integrations;');
      assert.deepEqual(result.columns, ['name', 'tenant_id']);
      assert.deepEqual(result.rows, [{ name: 'one', tenant_id: 't1' }]);
      assert.match(formatTable(result), /one\s+t1/);
    });

    it('truncates at the limit', async () => {
      const result = await runReadOnlyQuery(
        target(),
        'select name from integrations union all select name from integrations',
        {
          limit: 1,
        },
      );
      assert.equal(result.rows.length, 1);
      assert.equal(result.truncated, true);
    });

    it('refuses writes and leaves the data as it was', async () => {
      await assert.rejects(
        runReadOnlyQuery(target(), "delete from integrations where id = 'i1'"),
        QueryError,
      );
      await assert.rejects(runReadOnlyQuery(target(), "update integrations set name = 'x'"), QueryError);
      const still = await runReadOnlyQuery(target(), 'select count(*) as n from integrations');
      assert.equal(Number(still.rows[0].n), 1);
    });

    it('reports SQL errors clearly', async () => {
      await assert.rejects(runReadOnlyQuery(target(), 'select nope from nowhere'), (err: Error) => {
        assert.ok(err instanceof QueryError);
        assert.match(err.message, /^SQL error: .*nowhere/);
        return true;
      });
      await assert.rejects(runReadOnlyQuery(target(), '   '), /empty query/);
    });
  });
}
