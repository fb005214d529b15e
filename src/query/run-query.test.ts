import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { restrictedRoleSql } from '../store/sql-guard/postgres-session.ts';
import type { Store } from '../store/store.ts';
import { QueryError, type QueryTarget, queryTargetOf, runReadOnlyQuery } from './run-query.ts';
import { inventorySnapshot, SEED, seedInventory } from './seed-inventory.fixture.ts';

/** The console's runner on both dialects: rows, parameters, and the row, byte, time and memory limits. */

for (const dialect of testDialects()) {
  describe(`read-only SQL (${dialect})`, () => {
    let store: Store;
    let target: QueryTarget;
    let cleanup: () => Promise<void>;

    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
      await seedInventory(store);
      target = queryTargetOf(store);
    });
    after(() => cleanup());

    it('returns columns and rows of a SELECT (a trailing ; and comment are fine)', async () => {
      const result = await runReadOnlyQuery(target, 'select name, tenant_id from integrations; -- done');
      assert.deepEqual(result.columns, ['name', 'tenant_id']);
      assert.deepEqual(result.rows, [{ name: 'contoso', tenant_id: SEED.tenantId }]);
      assert.equal(result.truncated, false);
    });

    it('binds :name parameters, never splicing them into the text', async () => {
      const result = await runReadOnlyQuery(
        target,
        'select count(*) as n from users where mail = :mail or display_name = :mail',
        { params: { mail: "bob@contoso.test' or '1'='1" } },
      );
      assert.deepEqual(result.rows, [{ n: 0 }]);
      const bob = await runReadOnlyQuery(target, 'select display_name from users where mail = :mail', {
        params: { mail: 'bob@contoso.test' },
      });
      assert.deepEqual(bob.rows, [{ display_name: 'Bob' }]);
    });

    it('names repeated columns apart', async () => {
      const result = await runReadOnlyQuery(target, 'select 1 as a, 2 as a');
      assert.deepEqual(result.rows, [{ a: 1, a_2: 2 }]);
    });

    it('cuts off at the row limit and says so', async () => {
      const result = await runReadOnlyQuery(target, 'select id from drive_items order by id', { limit: 3 });
      assert.equal(result.rows.length, 3);
      assert.equal(result.truncated, true);
      assert.equal(result.truncatedBy, 'rows');
    });

    it('cuts off at the byte limit and says so', async () => {
      const result = await runReadOnlyQuery(
        target,
        `with recursive r(n) as (select 1 union all select n + 1 from r where n < 1000)
         select n, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' as pad from r`,
        { limits: { maxBytes: 10_000 } },
      );
      assert.ok(result.rows.length > 50 && result.rows.length < 110, String(result.rows.length));
      assert.equal(result.truncatedBy, 'bytes');
    });

    it('stops a query that runs too long (an endless recursive CTE) and the inventory stays', async () => {
      const before = await inventorySnapshot(store);
      const started = Date.now();
      await assert.rejects(
        runReadOnlyQuery(
          target,
          'with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r',
          { limits: { timeoutMs: 1_500 } },
        ),
        (err: QueryError) => {
          assert.equal(err.kind, 'timeout');
          assert.equal(err.message, 'stopped: the query ran longer than 1500 ms (query.timeoutMs)');
          return true;
        },
      );
      assert.ok(Date.now() - started < 15_000, 'stopped well before the test timeout');
      assert.deepEqual(await inventorySnapshot(store), before);
    });

    it('stops a query that takes too much memory (a string doubled to 256 MB)', async () => {
      // SQLite builds it in the query process; PostgreSQL sends it there as one row.
      await assert.rejects(
        runReadOnlyQuery(
          target,
          `with recursive r(s, n) as (select 'x', 0 union all select s || s, n + 1 from r where n < 28)
           select length(s) as n, s from r where n = 28`,
          { limits: { maxMemoryMb: 256, timeoutMs: 60_000 } },
        ),
        (err: QueryError) => {
          assert.equal(err.kind, 'memory', err.message);
          assert.equal(err.message, 'stopped: the query used more than 256 MB of memory (query.maxMemoryMb)');
          return true;
        },
      );
    });

    if (dialect === 'postgres')
      it('runs as the restricted role of query.pgRole (the SQL of docs/queries.md)', async () => {
        const role = `dw_q_${randomBytes(4).toString('hex')}`;
        const member = String(
          (await sql<{ u: string }>`select current_user as u`.execute(store.db)).rows[0].u,
        );
        for (const statement of restrictedRoleSql(role, store.schema!, member))
          await sql.raw(statement).execute(store.db);
        // Outside the console's tables, and secret columns: the server itself refuses them to the role.
        for (const probe of [
          'select count(*) from app_users',
          'select count(*) from api_tokens',
          'select config_enc from alert_channels',
          'select delta_link from sync_state',
        ])
          await assert.rejects(
            store.db.transaction().execute(async (trx) => {
              await sql.raw(`set local role ${role}`).execute(trx);
              await sql.raw(probe).execute(trx);
            }),
            /permission denied/,
            probe,
          );
        await store.db.transaction().execute(async (trx) => {
          await sql.raw(`set local role ${role}`).execute(trx);
          await sql.raw('select id, name from alert_channels').execute(trx);
        });
        // A table the role is not granted: the guard lets it through (an inventory table), the server does not.
        await sql.raw(`revoke select on drive_items from ${role}`).execute(store.db);
        try {
          const asRole = { ...target, pgRole: role };
          const names = await runReadOnlyQuery(
            asRole,
            'select i.name, count(g.id) as subs from integrations i left join graph_subscriptions g on g.integration_id = i.id group by i.name',
          );
          assert.deepEqual(names.rows, [{ name: 'contoso', subs: 1 }]);
          await assert.rejects(
            runReadOnlyQuery(asRole, 'select count(*) from drive_items'),
            (err: QueryError) => {
              assert.equal(err.kind, 'refused');
              assert.match(err.message, /^refused: permission denied for table drive_items/);
              return true;
            },
          );
        } finally {
          await sql.raw(`drop owned by ${role}`).execute(store.db);
          await sql.raw(`drop role ${role}`).execute(store.db);
        }
      });

    it('reports SQL errors clearly', async () => {
      await assert.rejects(runReadOnlyQuery(target, 'select nope from nowhere'), (err: Error) => {
        assert.ok(err instanceof QueryError);
        assert.equal(err.kind, 'sql');
        assert.match(err.message, /^SQL error: .*nowhere/);
        return true;
      });
      await assert.rejects(runReadOnlyQuery(target, '   '), /^QueryError: refused: empty query$/);
      await assert.rejects(
        runReadOnlyQuery(target, "select 'open"),
        /SQL error: a string, quoted name or comment is not closed/,
      );
    });
  });
}
