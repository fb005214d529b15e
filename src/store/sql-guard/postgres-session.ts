import type pg from 'pg';
import type { PgExecute } from './postgres-guard.ts';

/**
 * The transaction a read-only query runs in on PostgreSQL: READ ONLY (the server refuses
 * every write, nextval, temp tables), a statement timeout, the store's schema alone on the
 * search path (pg_catalog stays implicit, first), standard strings (what the guard's lexer
 * assumes) and, when configured, a restricted role (docs/queries.md shows how to make one).
 */
export interface PgReadOnlyOptions {
  /** The store's schema; default: the connection's current schema. */
  schema?: string;
  timeoutMs: number;
  /** SET ROLE to this role for the transaction (it needs USAGE on the schema and SELECT on its tables). */
  role?: string;
}

export interface PgReadOnlySession {
  schema: string;
  /** One statement, with the extended protocol (a second statement is refused by the server). */
  execute: PgExecute;
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
  if (options.role) await client.query(`set local role ${quoteIdent(options.role)}`);
  const execute: PgExecute = async (text, values) =>
    (await client.query({ text, values: [...values], queryMode: 'extended' } as pg.QueryConfig)).rows;
  return {
    schema,
    execute,
    end: async () => {
      await client.query('rollback');
    },
  };
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
