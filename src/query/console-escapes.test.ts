import {
  type Attack,
  describeAttacks,
  FUNCTION,
  NOT_A_QUERY,
  ONE_STATEMENT,
} from './console-attacks.fixture.ts';

/**
 * Attacks on the console added with issue 15's review: tables outside the console's allow
 * list (secret or not), and escapes against the way the statement is sent (on PostgreSQL
 * the text is one prepared statement, never spliced into EXPLAIN or DECLARE).
 */

const ESCAPES: Attack[] = [
  // tables outside the console's allow list (CONSOLE_TABLES), secret or not
  {
    what: 'API token hashes',
    sql: 'select token_hash from api_tokens',
    says: /^refused: table api_tokens holds secrets and cannot be read/,
  },
  {
    what: 'API token names and prefixes',
    sql: 'select name, prefix from api_tokens',
    says: /^refused: table api_tokens holds secrets and cannot be read/,
  },
  {
    what: 'the web app users',
    sql: 'select username, role from app_users',
    says: /^refused: table app_users holds secrets/,
  },
  { what: 'sessions', sql: 'select count(*) from app_sessions', says: /^refused: table app_sessions holds/ },
  {
    what: 'review link nonces',
    sql: 'select nonce from review_links',
    says: /^refused: review_links is not an inventory table the console reads/,
  },
  {
    what: 'sign-in states',
    sql: 'select state_hash from connect_states',
    says: /^refused: connect_states is not an inventory table/,
  },
  {
    what: 'a private table behind a join',
    sql: 'select u.display_name from users u join api_tokens t on t.user_id = u.id',
    says: /^refused: table api_tokens holds secrets/,
  },
  {
    what: 'a private table in a scalar subquery',
    sql: 'select (select count(*) from review_links) as n',
    says: /^refused: review_links is not an inventory table/,
  },
  {
    what: 'the delta links (delta tokens)',
    sql: 'select delta_link from sync_state',
    says: /^refused: sync_state\.delta_link holds a secret/,
  },
  {
    what: 'an alert channel configuration',
    sql: 'select config_enc from alert_channels',
    says: /^refused: alert_channels\.config_enc holds a secret/,
  },
  // escapes against the way the statement is sent (PostgreSQL: one prepared statement)
  { what: 'COMMIT then a write', sql: 'select 1; commit; delete from drive_items', says: ONE_STATEMENT },
  {
    what: 'a comment hiding nothing',
    sql: 'select 1 /* ; */ ; set role postgres',
    says: ONE_STATEMENT,
  },
  { what: 'a line comment then a statement', sql: 'select 1 --\n; commit', says: ONE_STATEMENT },
  { what: 'SET ROLE', sql: 'set role postgres', says: NOT_A_QUERY, only: 'postgres' },
  { what: 'RESET ROLE', sql: 'reset role', says: NOT_A_QUERY, only: 'postgres' },
  {
    what: 'set_config of the role',
    sql: "select set_config('role', current_user, true)",
    says: /^refused: (function (pg_catalog\.)?set_config is not allowed|CURRENT_USER)/i,
    only: 'postgres',
  },
  { what: 'COMMIT alone', sql: 'commit', says: NOT_A_QUERY },
  { what: 'END then a write', sql: 'end; delete from drive_items', says: ONE_STATEMENT },
  {
    what: 'a cursor declared in the text',
    sql: 'select 1 for update of drive_items',
    says: /^(refused|SQL error)/,
    kind: 'sql',
    only: 'postgres',
  },
  {
    what: 'pg_sleep in a subquery',
    sql: 'select (select 1 from pg_sleep(60)) as x',
    says: FUNCTION('pg_sleep'),
    only: 'postgres',
  },
  {
    what: 'dblink_exec',
    sql: "select dblink_exec('dbname=test', 'delete from drive_items')",
    says: /^(SQL error: function dblink_exec|refused: function dblink_exec)/,
    kind: 'sql',
    only: 'postgres',
  },
  {
    what: 'lo_from_bytea (a write through a function)',
    sql: "select lo_from_bytea(0, 'x')",
    says: FUNCTION('lo_from_bytea'),
    only: 'postgres',
  },
  {
    what: 'an endless recursive CTE',
    sql: 'with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r',
    says: /^stopped: the query ran longer than 1500 ms/,
    kind: 'timeout',
  },
];

describeAttacks('query console escapes', ESCAPES);
