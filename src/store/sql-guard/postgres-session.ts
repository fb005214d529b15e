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
export async function beginReadOnly(client: pg.Client, options: PgReadOnlyOptions): Promise<PgReadOnlySession> {
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
