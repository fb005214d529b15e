import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openTestStore, TEST_PG_URL } from '../../../test/support/store.ts';
import { openSqlite, pgClient } from '../connection.ts';
import { copyTables } from './copy.ts';
import { planCopy, sqliteTables } from './plan.ts';

/**
 * The copy's checks at the store level (the whole command runs in test/migrate-postgres.e2e):
 * a value it cannot convert names its table and column and leaves the target untouched, a
 * table the target does not have is refused before anything is copied, foreign keys are
 * honoured whatever the names' order, and a filled target is refused.
 */
describe('copying a SQLite store into PostgreSQL', () => {
  async function withStores(
    fn: (source: ReturnType<typeof openSqlite>, target: ReturnType<typeof pgClient>) => Promise<void>,
  ) {
    const sqlite = await openTestStore('sqlite');
    const postgres = await openTestStore('postgres', { maxConnections: 1 });
    const file = sqlite.store.file;
    assert.ok(file);
    await sqlite.store.close();
    const source = openSqlite(file);
    const target = pgClient({ databaseUrl: TEST_PG_URL, schema: postgres.schema });
    await target.connect();
    try {
      await fn(source, target);
    } finally {
      source.close();
      await target.end();
      await postgres.cleanup();
      await sqlite.cleanup();
    }
  }

  const user = (id: string, createdAt: string) =>
    `insert into app_users (id, username, role, created_at) values ('${id}', '${id}-name', 'admin', '${createdAt}')`;

  it('rolls everything back on a value it cannot convert, naming it; copies once fixed; refuses a second copy', async () => {
    await withStores(async (source, target) => {
      source.exec(user('u1', '2024-05-01T10:00:00.000Z'));
      source.exec(user('u2', 'yesterday'));
      // app_sessions sorts before app_users but references it: it must be filled after.
      source.exec(
        `insert into app_sessions (token_hash, user_id, csrf_token, created_at, expires_at)
         values ('h1', 'u1', 'c', '2024-05-01T10:00:00.000Z', '2024-05-02T10:00:00.000Z')`,
      );
      source.exec(`insert into saved_queries (name, description, sql, created_at, updated_at)
         values ('q', 'd', 'select 1', '2024-05-01T10:00:00.000Z', '2024-05-01T10:00:00.000Z')`);
      const plans = await planCopy(target, sqliteTables(source));
      assert.ok(
        plans.findIndex((p) => p.name === 'app_users') < plans.findIndex((p) => p.name === 'app_sessions'),
      );

      await assert.rejects(
        copyTables(source, target, plans),
        /table app_users, column created_at: not an ISO timestamp \(yesterday\)/,
      );
      const count = async (table: string) =>
        Number((await target.query(`select count(*) as n from ${table}`)).rows[0].n);
      assert.equal(await count('saved_queries'), 0, 'rolled back: nothing of the failed copy stays');

      source.exec(`update app_users set created_at = '2024-05-01T11:00:00.000Z' where id = 'u2'`);
      const reports = await copyTables(source, target, plans, { batchRows: 1 });
      const byTable = new Map(reports.map((r) => [r.table, r]));
      assert.deepEqual(
        ['app_users', 'app_sessions', 'saved_queries'].map((t) => [
          byTable.get(t)?.targetRows,
          byTable.get(t)?.sampled,
        ]),
        [
          [2, 2],
          [1, 1],
          [1, 1],
        ],
      );
      assert.equal(reports.length, plans.length, 'every table reported');
      assert.equal(await count('app_users'), 2);

      await assert.rejects(
        copyTables(source, target, plans),
        /already holds drivewarden data \(app_users, app_sessions, saved_queries\)/,
      );
      assert.equal(await count('app_users'), 2);
    });
  });

  it('refuses a table or a column the other side does not have, before copying', async () => {
    await withStores(async (source, target) => {
      source.exec('create table local_notes (id integer primary key, note text)');
      await assert.rejects(planCopy(target, sqliteTables(source)), /only in the SQLite source: local_notes/);
      source.exec('drop table local_notes');
      source.exec('alter table app_users add column nickname text');
      await assert.rejects(
        planCopy(target, sqliteTables(source)),
        /table app_users: the columns differ \(only in SQLite: nickname; only in PostgreSQL: -\)/,
      );
      source.exec('alter table app_users drop column nickname');
      await target.query('alter table app_users add column photo bytea');
      source.exec('alter table app_users add column photo blob');
      await assert.rejects(
        planCopy(target, sqliteTables(source)),
        /column photo has type bytea, which this copy cannot convert/,
      );
    });
  });
});
