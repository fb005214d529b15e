import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Store } from '../store/store.ts';
import { QueryError, type QueryTarget, queryTargetOf, runReadOnlyQuery } from './run-query.ts';
import { inventorySnapshot, SEED, seedInventory } from './seed-inventory.fixture.ts';

/**
 * Attacks on the query console, on both dialects: every one is refused (or stopped) with
 * a message that says why, its text never holds a secret, and afterwards the inventory and
 * the secrets are exactly as seeded.
 */

interface Attack {
  what: string;
  sql: string;
  /** The message the console answers with. */
  says: RegExp;
  /** Only on this dialect (the other has no such syntax or function). */
  only?: Dialect;
  /** `sql` when the database itself rejects it (no such function or syntax); default `refused`. */
  kind?: 'refused' | 'sql' | 'timeout';
}

const NOT_A_QUERY =
  /^refused: only queries run here \(SELECT, WITH … SELECT, VALUES\); this statement starts with /;
const ONE_STATEMENT = /^refused: one statement at a time/;
const WRITES = /^refused: .*(change the database|only queries that return rows|writes a table|locks rows)/;
const SECRET =
  /^refused: (integrations\.(secret_enc|certificate_enc)|graph_subscriptions\.client_state) holds a secret/;
const WHOLE_ROW = /^refused: (whole rows?|a whole row) of (integrations|graph_subscriptions)/;
const FUNCTION = (name: string) =>
  new RegExp(`^refused: function (pg_catalog\\.)?${name} is not allowed`, 'i');

const ATTACKS: Attack[] = [
  // writes and schema changes
  { what: 'DELETE', sql: 'delete from drive_items', says: NOT_A_QUERY },
  { what: 'UPDATE of a secret', sql: "update integrations set secret_enc = 'x'", says: NOT_A_QUERY },
  {
    what: 'INSERT',
    sql: "insert into saved_queries (name, description, sql, created_at, updated_at) values ('a','b','c','d','e')",
    says: NOT_A_QUERY,
  },
  { what: 'DROP TABLE', sql: 'drop table drive_items', says: NOT_A_QUERY },
  { what: 'CREATE TABLE', sql: 'create table evil (a int)', says: NOT_A_QUERY },
  { what: 'ALTER TABLE', sql: 'alter table users add column evil int', says: NOT_A_QUERY },
  { what: 'a DELETE behind WITH', sql: 'with x as (select 1) delete from drive_items', says: WRITES },
  {
    what: 'an INSERT … RETURNING behind WITH (returns rows)',
    sql: "with x as (select 1) insert into saved_queries select 'a', 'b', 'c', 'd', 'e', 'f' returning name",
    says: WRITES,
  },
  {
    what: 'SELECT … INTO',
    sql: 'select * into evil from drive_items',
    says: /^refused: SELECT … INTO writes a table/,
  },
  {
    what: 'a writable CTE',
    sql: 'with d as (delete from drive_items returning *) select count(*) from d',
    says: /^refused: the query would change the database \(delete in a WITH clause\)/,
    only: 'postgres',
  },
  {
    what: 'a writable CTE updating a secret',
    sql: "with u as (update integrations set secret_enc = 'x' returning id) select * from u",
    says: /^refused: the query would change the database \(update in a WITH clause\)/,
    only: 'postgres',
  },
  {
    what: 'SELECT … FOR UPDATE',
    sql: 'select id from drive_items for update',
    says: WRITES,
    only: 'postgres',
  },
  { what: 'PRAGMA x = y', sql: 'pragma journal_mode = delete', says: NOT_A_QUERY, only: 'sqlite' },
  { what: 'PRAGMA query_only = 0', sql: 'pragma query_only = 0', says: NOT_A_QUERY, only: 'sqlite' },
  { what: 'PRAGMA writable_schema', sql: 'pragma writable_schema = 1', says: NOT_A_QUERY, only: 'sqlite' },
  { what: 'VACUUM INTO a file', sql: "vacuum into '/tmp/dw-evil.db'", says: NOT_A_QUERY, only: 'sqlite' },
  { what: 'ANALYZE', sql: 'analyze', says: NOT_A_QUERY },
  { what: 'REINDEX', sql: 'reindex drive_items', says: NOT_A_QUERY },
  { what: 'BEGIN … COMMIT', sql: 'begin; delete from drive_items; commit', says: ONE_STATEMENT },
  { what: 'SET of a setting', sql: 'set statement_timeout = 0', says: NOT_A_QUERY, only: 'postgres' },
  {
    what: 'a sequence advanced',
    sql: 'select nextval(name) from integrations',
    says: FUNCTION('nextval'),
    only: 'postgres',
  },
  {
    what: 'an advisory lock',
    sql: 'select pg_advisory_lock(1)',
    says: FUNCTION('pg_advisory_lock'),
    only: 'postgres',
  },
  // a second statement
  { what: 'a second statement', sql: 'select 1; delete from drive_items', says: ONE_STATEMENT },
  { what: 'a second SELECT', sql: 'select 1; select 2', says: ONE_STATEMENT },
  { what: 'a ; in a string first', sql: "select ';' ; delete from drive_items", says: ONE_STATEMENT },
  {
    what: 'the subquery-wrapper escape (issue 15)',
    sql: 'select 1) as q; commit; delete from drive_items; select (1',
    says: ONE_STATEMENT,
  },
  {
    what: 'a dollar-quoted string first',
    sql: 'select $$;$$; delete from drive_items',
    says: ONE_STATEMENT,
    only: 'postgres',
  },
  {
    what: 'a backslash that is not an escape',
    sql: "select '\\'; delete from drive_items; --'",
    says: ONE_STATEMENT,
  },
  // other databases, extensions, files and settings
  { what: 'ATTACH', sql: "attach database '/tmp/dw-evil.db' as evil", says: NOT_A_QUERY },
  { what: 'DETACH', sql: 'detach database main', says: NOT_A_QUERY },
  {
    what: 'load_extension()',
    sql: "select load_extension('/tmp/evil.so')",
    says: FUNCTION('load_extension'),
    only: 'sqlite',
  },
  { what: 'LOAD a library', sql: "load '/tmp/evil.so'", says: NOT_A_QUERY, only: 'postgres' },
  { what: 'CREATE EXTENSION', sql: 'create extension dblink', says: NOT_A_QUERY, only: 'postgres' },
  {
    what: 'readfile() (fileio)',
    sql: "select readfile('/etc/passwd')",
    says: /^SQL error: no such function: readfile/,
    kind: 'sql',
    only: 'sqlite',
  },
  {
    what: 'the file of the database (pragma function)',
    sql: 'select file from pragma_database_list',
    says: /^refused: the query reads a virtual table/,
    only: 'sqlite',
  },
  {
    what: 'the build options',
    sql: 'select * from pragma_compile_options',
    says: /^refused: the query reads a virtual table/,
    only: 'sqlite',
  },
  {
    what: 'the function list',
    sql: 'select name from pragma_function_list',
    says: /^refused: the query reads a virtual table/,
    only: 'sqlite',
  },
  { what: 'PRAGMA database_list', sql: 'pragma database_list', says: NOT_A_QUERY, only: 'sqlite' },
  {
    what: 'dbstat pages',
    sql: 'select * from dbstat',
    says: /^refused: the query reads a virtual table/,
    only: 'sqlite',
  },
  {
    what: 'sqlite_version()',
    sql: 'select sqlite_version()',
    says: FUNCTION('sqlite_version'),
    only: 'sqlite',
  },
  {
    what: 'sqlite_compileoption_get()',
    sql: 'select sqlite_compileoption_get(0)',
    says: FUNCTION('sqlite_compileoption_get'),
    only: 'sqlite',
  },
  {
    what: 'the temp schema',
    sql: 'select * from temp.sqlite_master',
    says: /^refused: only the inventory database/,
    only: 'sqlite',
  },
  {
    what: 'pg_read_file()',
    sql: "select pg_read_file('/etc/passwd')",
    says: FUNCTION('pg_read_file'),
    only: 'postgres',
  },
  {
    what: 'pg_read_file() qualified',
    sql: "select pg_catalog.pg_read_file('/etc/passwd')",
    says: FUNCTION('pg_read_file'),
    only: 'postgres',
  },
  {
    what: 'pg_read_file() quoted',
    sql: `select "pg_read_file"('/etc/passwd')`,
    says: FUNCTION('pg_read_file'),
    only: 'postgres',
  },
  {
    what: 'PG_READ_FILE() upper case',
    sql: "SELECT PG_READ_FILE('/etc/passwd')",
    says: FUNCTION('pg_read_file'),
    only: 'postgres',
  },
  {
    what: 'pg_read_binary_file()',
    sql: "select pg_read_binary_file('/etc/passwd')",
    says: FUNCTION('pg_read_binary_file'),
    only: 'postgres',
  },
  {
    what: 'pg_ls_dir() as a table',
    sql: "select * from pg_ls_dir('.')",
    says: FUNCTION('pg_ls_dir'),
    only: 'postgres',
  },
  {
    what: 'pg_stat_file()',
    sql: "select pg_stat_file('postgresql.conf')",
    says: FUNCTION('pg_stat_file'),
    only: 'postgres',
  },
  {
    what: 'lo_import()',
    sql: "select lo_import('/etc/passwd')",
    says: FUNCTION('lo_import'),
    only: 'postgres',
  },
  { what: 'lo_get()', sql: 'select lo_get(1)', says: FUNCTION('lo_get'), only: 'postgres' },
  {
    what: 'pg_largeobject',
    sql: 'select * from pg_largeobject',
    says: /^refused: pg_catalog\.pg_largeobject is not an inventory table/,
    only: 'postgres',
  },
  { what: 'COPY to a file', sql: "copy (select 1) to '/tmp/dw-evil'", says: NOT_A_QUERY, only: 'postgres' },
  {
    what: 'COPY from a program',
    sql: "copy drive_items from program 'id'",
    says: NOT_A_QUERY,
    only: 'postgres',
  },
  {
    what: 'current_setting()',
    sql: "select current_setting('data_directory')",
    says: FUNCTION('current_setting'),
    only: 'postgres',
  },
  {
    what: 'pg_settings',
    sql: 'select name, setting from pg_settings',
    says: FUNCTION('pg_show_all_settings'),
    only: 'postgres',
  },
  { what: 'SHOW', sql: 'show data_directory', says: NOT_A_QUERY, only: 'postgres' },
  {
    what: 'set_config()',
    sql: "select set_config('statement_timeout', '0', false)",
    says: FUNCTION('set_config'),
    only: 'postgres',
  },
  {
    what: 'pg_stat_activity',
    sql: 'select query from pg_stat_activity',
    says: FUNCTION('pg_stat_get_activity'),
    only: 'postgres',
  },
  {
    what: 'pg_stat_user_tables',
    sql: 'select * from pg_stat_user_tables',
    says: /^refused: (function pg_catalog\.pg_stat|pg_catalog\.pg_)/,
    only: 'postgres',
  },
  {
    what: 'CURRENT_USER',
    sql: 'select current_user',
    says: /^refused: CURRENT_USER reveals server settings/,
    only: 'postgres',
  },
  { what: 'version()', sql: 'select version()', says: FUNCTION('version'), only: 'postgres' },
  {
    what: 'inet_server_addr()',
    sql: 'select inet_server_addr()',
    says: FUNCTION('inet_server_addr'),
    only: 'postgres',
  },
  {
    what: 'pg_authid',
    sql: 'select rolname, rolpassword from pg_catalog.pg_authid',
    says: /^refused: pg_catalog\.pg_authid is not an inventory table/,
    only: 'postgres',
  },
  {
    what: 'information_schema',
    sql: 'select * from information_schema.columns',
    says: /^refused: .*not (an inventory table|allowed)/,
    only: 'postgres',
  },
  {
    what: 'a regclass lookup',
    sql: "select 'pg_authid'::regclass",
    says: /^refused: casts to regclass look up the database catalog/,
    only: 'postgres',
  },
  {
    what: 'query_to_xml() running SQL',
    sql: "select query_to_xml('select secret_enc from integrations', true, false, '')",
    says: FUNCTION('query_to_xml'),
    only: 'postgres',
  },
  {
    what: 'dblink',
    sql: "select * from dblink('dbname=test', 'select 1') as t(a int)",
    says: /^(SQL error: function dblink|refused: function dblink)/,
    kind: 'sql',
    only: 'postgres',
  },
  {
    what: 'XML external entities',
    sql: `select xmlparse(document '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')`,
    says: /^refused: XMLPARSE\(…\) is not allowed/,
    only: 'postgres',
  },
  { what: 'pg_sleep()', sql: 'select pg_sleep(60)', says: FUNCTION('pg_sleep'), only: 'postgres' },
  // Not allowed, but PostgreSQL folds the constant call while planning: the statement timeout stops it.
  {
    what: 'repeat() (a memory bomb)',
    sql: "select repeat('x', 1000000000)",
    says: /^stopped: the query ran longer than 1500 ms/,
    kind: 'timeout',
    only: 'postgres',
  },
  {
    what: 'repeat() over a column',
    sql: 'select repeat(display_name, 1000000) from users',
    says: FUNCTION('repeat'),
    only: 'postgres',
  },
  {
    what: 'randomblob() (a memory bomb)',
    sql: 'select randomblob(1000000000)',
    says: FUNCTION('randomblob'),
    only: 'sqlite',
  },
  { what: 'zeroblob()', sql: 'select zeroblob(1000000000)', says: FUNCTION('zeroblob'), only: 'sqlite' },
  // secrets
  { what: 'the client secret', sql: 'select secret_enc from integrations', says: SECRET },
  { what: 'the certificate', sql: 'select certificate_enc from integrations', says: SECRET },
  {
    what: 'SELECT * of integrations',
    sql: 'select * from integrations',
    says: /^refused: (integrations\.secret_enc holds a secret|whole rows of integrations)/,
  },
  { what: 'the secret in upper case', sql: 'select SECRET_ENC from integrations', says: SECRET },
  {
    what: 'the secret as a WHERE oracle',
    sql: "select name from integrations where secret_enc like 'S%'",
    says: SECRET,
  },
  { what: 'the secret in ORDER BY', sql: 'select name from integrations order by secret_enc', says: SECRET },
  { what: 'the length of the secret', sql: 'select length(secret_enc) from integrations', says: SECRET },
  {
    what: 'whether a secret is set',
    sql: 'select count(*) from integrations where certificate_enc is not null',
    says: SECRET,
  },
  {
    what: 'the secret in a scalar subquery',
    sql: 'select (select secret_enc from integrations limit 1) as s',
    says: SECRET,
  },
  {
    what: 'the secret renamed in a subquery',
    sql: 'select s from (select secret_enc as s from integrations) x',
    says: SECRET,
  },
  {
    what: 'the secret renamed behind OFFSET 0',
    sql: 'select s from (select id, secret_enc as s from integrations offset 0) x where s is not null',
    says: SECRET,
    only: 'postgres',
  },
  {
    what: 'the secret renamed behind OFFSET 0',
    sql: 'select s from (select id, secret_enc as s from integrations limit -1 offset 0) x where s is not null',
    says: SECRET,
    only: 'sqlite',
  },
  {
    what: 'a materialized CTE of all columns',
    sql: 'with s as materialized (select * from integrations) select name from s',
    says: /^refused: (integrations\.secret_enc holds a secret|whole rows of integrations)/,
  },
  {
    what: 'the secret aggregated',
    sql: "select group_concat(secret_enc, ',') from integrations",
    says: SECRET,
    only: 'sqlite',
  },
  {
    what: 'the secret aggregated',
    sql: "select string_agg(secret_enc, ',') from integrations",
    says: SECRET,
    only: 'postgres',
  },
  {
    what: 'the secret in JSON',
    sql: "select json_object('s', secret_enc) from integrations",
    says: SECRET,
    only: 'sqlite',
  },
  {
    what: 'the secret cast into an error message',
    sql: 'select cast(secret_enc as integer) from integrations',
    says: SECRET,
  },
  { what: 'a whole row', sql: 'select i from integrations i', says: WHOLE_ROW, only: 'postgres' },
  {
    what: 'a whole row as JSON',
    sql: 'select row_to_json(i) from integrations i',
    says: WHOLE_ROW,
    only: 'postgres',
  },
  {
    what: 'a subscription row as JSON',
    sql: 'select to_jsonb(g) from graph_subscriptions g',
    says: WHOLE_ROW,
    only: 'postgres',
  },
  {
    what: 'all columns through a subquery',
    sql: 'select x.* from (select * from integrations order by name) x',
    says: WHOLE_ROW,
    only: 'postgres',
  },
  { what: 'the client state', sql: 'select client_state from graph_subscriptions', says: SECRET },
  {
    what: 'SELECT * of subscriptions',
    sql: 'select * from graph_subscriptions',
    says: /^refused: (graph_subscriptions\.client_state holds a secret|whole rows of graph_subscriptions)/,
  },
  {
    what: 'the client state through a join',
    sql: 'select i.name, g.client_state from integrations i join graph_subscriptions g on g.integration_id = i.id',
    says: SECRET,
  },
  // running forever, memory
  {
    what: 'a huge sort',
    sql: 'with recursive r(n) as (select 1 union all select n + 1 from r where n < 100000000) select n from r order by n desc',
    says: /^stopped: the query ran longer than 1500 ms/,
    kind: 'timeout',
  },
  {
    what: 'a cross join of everything',
    sql: 'select count(*) from drive_items a, drive_items b, drive_items c, drive_items d, drive_items e, drive_items f, drive_items g, drive_items h',
    says: /^stopped: the query ran longer than 1500 ms/,
    kind: 'timeout',
  },
];

for (const dialect of testDialects()) {
  describe(`query console attacks (${dialect})`, () => {
    let store: Store;
    let target: QueryTarget;
    let cleanup: () => Promise<void>;
    let seeded: Record<string, unknown>;
    const otherSchema = `dw_other_${randomBytes(4).toString('hex')}`;

    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
      await seedInventory(store);
      target = queryTargetOf(store);
      seeded = await inventorySnapshot(store);
      if (dialect === 'postgres') {
        await sql.raw(`create schema ${otherSchema}`).execute(store.db);
        await sql.raw(`create table ${otherSchema}.tenant_secrets (s text)`).execute(store.db);
        await sql
          .raw(`insert into ${otherSchema}.tenant_secrets values ('OTHER-TENANT-SECRET')`)
          .execute(store.db);
      }
    });
    after(async () => {
      if (dialect === 'postgres') await sql.raw(`drop schema ${otherSchema} cascade`).execute(store.db);
      await cleanup();
    });

    const refuses = async (attack: Attack) => {
      await assert.rejects(
        runReadOnlyQuery(target, attack.sql, { limits: { timeoutMs: 1_500 } }),
        (err: unknown) => {
          assert.ok(err instanceof QueryError, String(err));
          assert.match(err.message, attack.says);
          assert.equal(err.kind, attack.kind ?? 'refused', err.message);
          for (const secret of [SEED.secret, SEED.certificate, SEED.clientState])
            assert.ok(!err.message.includes(secret), 'no secret in the message');
          return true;
        },
      );
      assert.deepEqual(await inventorySnapshot(store), seeded, 'the inventory and the secrets are unchanged');
    };

    for (const attack of ATTACKS.filter((a) => !a.only || a.only === dialect))
      it(`refuses ${attack.what}: ${attack.sql.slice(0, 70)}`, () => refuses(attack));

    if (dialect === 'postgres')
      it('refuses another schema of the same database', () =>
        refuses({
          what: 'another schema',
          sql: `select s from ${otherSchema}.tenant_secrets`,
          says: new RegExp(`^refused: ${otherSchema}\\.tenant_secrets is not an inventory table`),
        }));

    it('still answers what is allowed around the secrets', async () => {
      const rows = await runReadOnlyQuery(
        target,
        `select i.name, count(*) as subscriptions from integrations i
         join graph_subscriptions g on g.integration_id = i.id group by i.name`,
      );
      assert.deepEqual(rows.rows, [{ name: 'contoso', subscriptions: 1 }]);
      // A ; inside a string is text, not a second statement (the lexer reads strings as the database does).
      const texts = ["select 'it''s; delete from drive_items; --' as s"];
      if (dialect === 'postgres')
        texts.push("select E'\\'; delete from drive_items; --' as s", 'select $t$;$t$ as s');
      for (const text of texts) assert.equal((await runReadOnlyQuery(target, text)).rows.length, 1, text);
      assert.deepEqual(await inventorySnapshot(store), seeded);
    });
  });
}
