import type pg from 'pg';
import { CONSOLE_TABLES, consoleReadable, secretColumnsOf } from '../tables/secret-columns.ts';
import { consoleRoleName } from './console-role-name.ts';
import type { PgExecute } from './postgres-guard.ts';
import { explainPrepared, PortalReader, prepareStatement } from './postgres-prepared.ts';

/**
 * The transaction a read-only query runs in on PostgreSQL: READ ONLY (the server refuses
 * every write, nextval, temp tables), a statement timeout, the store's schema alone on the
 * search path (pg_catalog stays implicit, first), standard strings (what the guard's lexer
 * assumes), generic plans (what the guard checks is what runs: postgres-prepared.ts) and
 * the console's role (console-role.ts, made at store open), or the role of `query.pgRole`.
 */
export interface PgReadOnlyOptions {
  /** The store's schema; default: the connection's current schema. */
  schema?: string;
  timeoutMs: number;
  /**
   * SET ROLE to this role for the transaction (it needs USAGE on the schema and SELECT on its
   * tables); default: the console's role of the database and schema (consoleRoleName).
   * `false`: stay the connecting user (the rules engine's own sessions, which make temp tables).
   */
  role?: string | false;
}

export interface PgReadOnlySession {
  schema: string;
  /** One statement of ours, with the extended protocol (a second statement is refused by the server). */
  execute: PgExecute;
  /** Makes the person's text the session's prepared statement (one Parse message, nothing around it). */
  prepare(text: string): Promise<void>;
  /** The prepared statement's plan (EXPLAIN VERBOSE, FORMAT JSON), not run. */
  explain(parameters: number): Promise<Array<Record<string, unknown>>>;
  /**
   * SET LOCAL ROLE to the console's role (or `role`): from here the server itself allows
   * only what the role was granted. The guard plans as the connecting user before this, so
   * its refusals name what was wrong; the rows are read after it.
   */
  asRole(): Promise<void>;
  /** A reader of the prepared statement's rows, `batch` at a time. */
  rows(values: readonly unknown[], batch: number): PortalReader;
  /** Ends the transaction (rolled back: nothing to keep). */
  end(): Promise<void>;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Starts the read-only transaction on a connected client. */
export async function beginReadOnly(
  client: pg.Client,
  options: PgReadOnlyOptions,
): Promise<PgReadOnlySession> {
  const schema =
    options.schema ?? ((await client.query('select current_schema() as s')).rows[0]?.s as string | null);
  if (!schema) throw new Error('PostgreSQL: no current schema (search_path names none that exists)');
  await client.query('begin transaction isolation level repeatable read read only');
  await client.query(`set local statement_timeout = ${Math.max(1, Math.floor(options.timeoutMs))}`);
  await client.query('set local standard_conforming_strings = on');
  await client.query(`set local search_path = ${quoteIdent(schema)}`);
  await client.query("set local plan_cache_mode = 'force_generic_plan'");
  const execute: PgExecute = async (text, values) =>
    (await client.query({ text, values: [...values], queryMode: 'extended' } as pg.QueryConfig)).rows;
  return {
    schema,
    execute,
    asRole: async () => {
      if (options.role === false) return;
      const database = (await client.query('select current_database() as d')).rows[0].d as string;
      const role = options.role ?? consoleRoleName(database, schema);
      try {
        await client.query(`set local role ${quoteIdent(role)}`);
      } catch (err) {
        throw new RoleError(role, err as Error);
      }
    },
    prepare: (text) => prepareStatement(client, text),
    explain: (parameters) => explainPrepared(client, parameters),
    rows: (values, batch) => {
      const reader = new PortalReader(values, batch, (oid) => client.getTypeParser(oid, 'text'));
      client.query(reader);
      return reader;
    },
    end: async () => {
      await client.query('rollback');
    },
  };
}

/** The console's role is missing or not ours to take: what the DBA must do. */
export class RoleError extends Error {
  constructor(
    readonly role: string,
    cause: Error,
  ) {
    super(
      `the query console cannot run as role ${role} (${cause.message}): drivewarden creates it when the store opens if its user has CREATEROLE; otherwise a DBA runs \`CREATE ROLE ${role} NOLOGIN; GRANT ${role} TO <drivewarden's user>;\` and restarts drivewarden`,
    );
    this.name = 'RoleError';
  }
}

/**
 * SQL that makes a restricted role for `query.pgRole` (docs/queries.md shows it): USAGE on the
 * schema and SELECT on the console's tables only (CONSOLE_TABLES), the secret-holding ones
 * without their secret columns (SECRET_COLUMNS) — the same grants as the console role that
 * drivewarden makes itself (console-role.ts), as one block a DBA runs. `member` is the user
 * drivewarden connects as. Tables are read from the catalog, so a table not created yet is
 * skipped (run the block again after an upgrade that adds one).
 */
export function restrictedRoleSql(role: string, schema: string, member: string): string[] {
  const [r, m] = [role, member].map(quoteIdent);
  const literal = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const array = (values: readonly string[]) =>
    values.length ? `array[${values.map(literal).join(', ')}]` : 'array[]::text[]';
  const grants = [...CONSOLE_TABLES]
    .filter(consoleReadable)
    .map((t) => `    (${literal(t)}, ${array(secretColumnsOf(t))})`);
  return [
    `create role ${r} nologin;`,
    `grant ${r} to ${m};`,
    `grant usage on schema ${quoteIdent(schema)} to ${r};`,
    [
      'do $$',
      'declare t text; withheld text[]; cols text;',
      'begin',
      '  for t, withheld in select * from (values',
      `${grants.join(',\n')}`,
      '  ) as g(t, withheld) loop',
      `    continue when to_regclass(format('%I.%I', ${literal(schema)}, t)) is null;`,
      "    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into cols",
      '      from pg_attribute a',
      `      where a.attrelid = format('%I.%I', ${literal(schema)}, t)::regclass`,
      '        and a.attnum > 0 and not a.attisdropped and a.attname <> all (withheld);',
      `    execute format('grant select (%s) on %I.%I to %I', cols, ${literal(schema)}, t, ${literal(role)});`,
      '  end loop;',
      'end $$;',
    ].join('\n'),
    // The dw_* helpers rules and queries call (PUBLIC has EXECUTE by default; said for a hardened server).
    `grant execute on all functions in schema ${quoteIdent(schema)} to ${r};`,
  ];
}
