import type pg from 'pg';
import { consoleRoleName } from './console-role.ts';
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
 * SQL that makes a restricted role for `query.pgRole` (docs/queries.md shows it): SELECT on
 * the schema's tables, the secret-holding tables only through their other columns, the
 * helpers. Run by an administrator; `member` is the user drivewarden connects as.
 */
export function restrictedRoleSql(role: string, schema: string, member: string): string[] {
  const [r, s, m] = [role, schema, member].map(quoteIdent);
  return [
    `create role ${r} nologin;`,
    `grant ${r} to ${m};`,
    `grant usage on schema ${s} to ${r};`,
    `grant select on all tables in schema ${s} to ${r};`,
    `revoke select on ${s}.integrations, ${s}.graph_subscriptions from ${r};`,
    `grant select (id, name, tenant_id, client_id, graph_base_url, authority_url, management_base_url, ca_pem, verified_domains, enabled, created_at, updated_at, probe, probed_at) on ${s}.integrations to ${r};`,
    `grant select (id, integration_id, tenant_id, resource, change_type, notification_url, expiration, created_at, last_renewed_at, status, last_error, last_error_at) on ${s}.graph_subscriptions to ${r};`,
    `grant execute on all functions in schema ${s} to ${r};`,
  ];
}
