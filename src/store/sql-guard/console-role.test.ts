import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { TEST_PG_URL, testDialects } from '../../../test/support/store.ts';
import { type QueryError, queryTargetOf, runReadOnlyQuery } from '../../query/run-query.ts';
import { seedInventory } from '../../query/seed-inventory.fixture.ts';
import { dropPgSchema, openStore, type Store } from '../store.ts';
import { consoleRoleName } from './console-role.ts';

/**
 * The PostgreSQL console's role (issue 14): made at store open by a connecting user that is
 * not a superuser, granted the console's tables only, and what the server itself refuses to
 * it with no guard in front: secrets, private tables, writes.
 */

const urlAs = (user: string) => {
  const url = new URL(TEST_PG_URL);
  url.username = user;
  url.password = '';
  return url.toString();
};

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

if (testDialects().includes('postgres'))
  describe('query console role (postgres)', () => {
    const tag = randomBytes(4).toString('hex');
    const user = `dw_user_${tag}`;
    const plainUser = `dw_plain_${tag}`;
    const schema = `dw_test_role_${tag}`;
    const plainSchema = `dw_test_plain_${tag}`;
    let store: Store;
    let role: string;

    before(async () => {
      // A login that may create roles and schemas, nothing more (no superuser, no BYPASSRLS).
      await admin(async (c) => {
        await c.query(`create role ${user} login createrole`);
        await c.query(`create role ${plainUser} login`);
        await c.query(`grant create on database ${c.database} to ${user}, ${plainUser}`);
      });
      store = await openStore({ databaseUrl: urlAs(user), schema });
      await seedInventory(store);
      role = consoleRoleName(new URL(TEST_PG_URL).pathname.slice(1), schema);
    });
    after(async () => {
      await store?.close();
      await dropPgSchema(TEST_PG_URL, schema);
      await dropPgSchema(TEST_PG_URL, plainSchema);
      await admin(async (c) => {
        for (const u of [user, plainUser]) {
          await c.query(`drop owned by ${u}`);
          await c.query(`drop role ${u}`);
        }
      });
    });

    it('is made at store open by a user without superuser, NOLOGIN, and the console runs as it', async () => {
      assert.equal(store.consoleRoleProblem, undefined);
      const { rows } = await admin((c) =>
        c.query('select rolcanlogin, rolsuper from pg_roles where rolname = $1', [role]),
      );
      assert.deepEqual(rows, [{ rolcanlogin: false, rolsuper: false }]);
      const target = queryTargetOf(store);
      assert.equal((await runReadOnlyQuery(target, 'select count(*) as n from users')).rows.length, 1);
      // Without its grant on a table the guard allows, the server refuses: the query ran as the role.
      await sql.raw(`revoke select on drive_items from ${role}`).execute(store.db);
      await assert.rejects(
        runReadOnlyQuery(target, 'select count(*) from drive_items'),
        (err: QueryError) =>
          err.kind === 'refused' && /permission denied for table drive_items/.test(err.message),
      );
      // The next store open restores the grants.
      const again = await openStore({ databaseUrl: urlAs(user), schema });
      await again.close();
      assert.equal((await runReadOnlyQuery(target, 'select count(*) as n from drive_items')).rows.length, 1);
    });

    it('as the role, with no guard in front: secrets, private tables and writes are refused by the server', async () => {
      const client = new pg.Client({ connectionString: urlAs(user) });
      await client.connect();
      const denied = async (text: string, why: RegExp) => {
        await client.query('begin');
        await client.query(`set local search_path = "${schema}"`);
        await client.query(`set local role "${role}"`);
        await assert.rejects(client.query(text), (err: Error) => {
          assert.match(err.message, why, `${text}: ${err.message}`);
          return true;
        });
        await client.query('rollback');
      };
      try {
        const deniedTable = /permission denied for table/;
        await denied('select secret_enc from integrations', deniedTable);
        await denied('select * from integrations', deniedTable);
        await denied('select client_state from graph_subscriptions', deniedTable);
        await denied('select config_enc from alert_channels', deniedTable);
        await denied('select delta_link from sync_state', deniedTable);
        for (const table of ['api_tokens', 'app_users', 'app_sessions', 'review_links', 'connect_states'])
          await denied(`select count(*) from ${table}`, deniedTable);
        await denied(
          "insert into saved_queries (name, description, sql, created_at, updated_at) values ('a','b','c',now(),now())",
          deniedTable,
        );
        await denied('delete from drive_items', deniedTable);
        await denied(`create table ${schema}.evil (x int)`, /permission denied for schema/);
        await denied("select set_config('role', 'postgres', false)", /permission denied to set role/);
        // (SET ROLE back to the connecting user is allowed by PostgreSQL, which checks the
        // session user: that statement never reaches the server from the console, whose text
        // is one prepared query, and set_config is not an allowed function: console-attacks.)
        await denied("select lo_import('/etc/passwd')", /permission denied for function lo_import/);
        await denied("select pg_read_file('/etc/passwd')", /permission denied for function pg_read_file/);
        // What it may read.
        await client.query('begin');
        await client.query(`set local search_path = "${schema}"`);
        await client.query(`set local role "${role}"`);
        const { rows } = await client.query('select name from integrations');
        assert.deepEqual(rows, [{ name: 'contoso' }]);
        await client.query('rollback');
      } finally {
        await client.end();
      }
    });

    it('without CREATEROLE: the store opens, the console says what the DBA must do, and works once done', async () => {
      const plain = await openStore({ databaseUrl: urlAs(plainUser), schema: plainSchema });
      try {
        const plainRole = consoleRoleName(new URL(TEST_PG_URL).pathname.slice(1), plainSchema);
        assert.match(plain.consoleRoleProblem ?? '', new RegExp(`CREATE ROLE ${plainRole} NOLOGIN`));
        await assert.rejects(
          runReadOnlyQuery(queryTargetOf(plain), 'select count(*) from users'),
          (err: QueryError) => {
            assert.equal(err.kind, 'failed');
            assert.match(
              err.message,
              new RegExp(
                `cannot run as role ${plainRole}.*CREATE ROLE ${plainRole} NOLOGIN; GRANT ${plainRole} TO`,
              ),
            );
            return true;
          },
        );
        // What the DBA runs; the next open grants the tables (the user owns them).
        await admin(async (c) => {
          await c.query(`create role ${plainRole} nologin`);
          await c.query(`grant ${plainRole} to ${plainUser}`);
        });
        const reopened = await openStore({ databaseUrl: urlAs(plainUser), schema: plainSchema });
        assert.equal(reopened.consoleRoleProblem, undefined);
        await reopened.close();
        const { rows } = await runReadOnlyQuery(queryTargetOf(plain), 'select count(*) as n from users');
        assert.equal(Number(rows[0].n), 0);
      } finally {
        await plain.close();
      }
    });
  });
