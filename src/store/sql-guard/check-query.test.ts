import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, testDialects } from '../../../test/support/store.ts';
import { openSqlite, pgClient } from '../connection.ts';
import { dialectOf } from '../dialect.ts';
import { compileParams } from '../sql-params.ts';
import type { Store } from '../store.ts';
import { checkQueryAllowed, queryTargetOf } from './check-query.ts';
import { QueryError } from './errors.ts';
import { checkPostgresQuery } from './postgres-guard.ts';
import { beginReadOnly } from './postgres-session.ts';
import { checkSqliteQuery } from './sqlite-guard.ts';

/** The guard as the rules engine calls it: rule-shaped SQL with bound parameters, and inside its own session. */

const RULE_SQL = `select p.id as resource_id, p.drive_id, p.item_id,
  case when p.link_scope = 'anonymous' then 'alarm' else 'ok' end as status,
  'link scope ' || coalesce(p.link_scope, 'none') as reason
from permissions p
join integrations i on i.id = p.integration_id
where p.integration_id = :integration_id and p.deleted_at is null
  and dw_days_between(p.first_seen, :now) >= 0 and dw_json_has(p.roles, 'write') = 1`;

const refusedWith = (pattern: RegExp) => (err: unknown) => {
  assert.ok(err instanceof QueryError, String(err));
  assert.equal(err.kind, 'refused');
  assert.match(err.message, pattern);
  return true;
};

for (const dialect of testDialects()) {
  describe(`checkQueryAllowed (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
    });
    after(() => cleanup());

    it('accepts rule SQL with its parameters bound, and refuses a secret in it', async () => {
      const compiled = compileParams(
        RULE_SQL,
        { integration_id: 'i1', now: '2026-03-01T00:00:00.000Z' },
        dialectOf(dialect),
      );
      await checkQueryAllowed(queryTargetOf(store), compiled.text, compiled.values);
      await assert.rejects(
        checkQueryAllowed(
          queryTargetOf(store),
          compiled.text.replace("'link scope '", 'i.secret_enc'),
          compiled.values,
        ),
        refusedWith(/integrations\.secret_enc holds a secret/),
      );
      // PostgreSQL has no load_extension: the database says so when it plans.
      await assert.rejects(
        checkQueryAllowed(queryTargetOf(store), "select load_extension('/tmp/evil.so')"),
        dialect === 'sqlite'
          ? refusedWith(/function load_extension is not allowed/)
          : /SQL error: function load_extension\(unknown\) does not exist/,
      );
    });

    it('reads temporary tables only when asked to (the rules engine scope tables)', async () => {
      if (dialect === 'sqlite') {
        const db = openSqlite(store.file!, { readonly: true });
        try {
          db.exec('create temp table scope (id text)');
          const text = 'select p.id from permissions p join temp.scope s on s.id = p.id';
          assert.throws(() => checkSqliteQuery(db, text), refusedWith(/only the inventory database/));
          checkSqliteQuery(db, text, { allowTempTables: true });
        } finally {
          db.close();
        }
        return;
      }
      const client = pgClient({ databaseUrl: store.databaseUrl!, schema: store.schema });
      await client.connect();
      try {
        await client.query('create temp table scope (id text)');
        // The rules engine's own session: its temp tables are the connecting user's.
        const session = await beginReadOnly(client, { schema: store.schema, timeoutMs: 10_000, role: false });
        const text = 'select p.id from permissions p join scope s on s.id = p.id';
        await assert.rejects(
          checkPostgresQuery(session, text, [], { schema: session.schema }),
          refusedWith(/pg_temp(_\d+)?\.scope is not an inventory table/),
        );
        // The failed EXPLAIN did not run anything: the transaction goes on.
        await checkPostgresQuery(session, text, [], {
          schema: session.schema,
          allowTempTables: true,
        });
        await session.end();
      } finally {
        await client.end();
      }
    });

    it('needs a database to check against', async () => {
      await assert.rejects(checkQueryAllowed({}, 'select 1'), /no store to check the query against/);
      await assert.rejects(checkQueryAllowed({ sqliteFile: ':memory:' }, 'select 1'), /no store to check/);
    });

    if (dialect === 'postgres')
      it("a plan bloated by constant folding costs the query process's memory, not the caller's", async () => {
        const before = process.memoryUsage.rss();
        await assert.rejects(
          checkQueryAllowed(
            queryTargetOf(store),
            "select repeat('x', 400000000)",
            [],
            {},
            { maxMemoryMb: 200 },
          ),
          (err: QueryError) => err.kind === 'memory' || err.kind === 'timeout',
        );
        assert.ok(process.memoryUsage.rss() - before < 100 * 1024 * 1024, 'the caller did not hold the plan');
        await sql`select 1`.execute(store.db);
      });
  });
}
