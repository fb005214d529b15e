import { openSqlite, pgClient } from '../connection.ts';
import type { Store } from '../store.ts';
import { QueryError } from './errors.ts';
import { checkPostgresQuery } from './postgres-guard.ts';
import { beginReadOnly } from './postgres-session.ts';
import { checkSqliteQuery } from './sqlite-guard.ts';

/**
 * The guard as one call, for whoever runs SQL that people wrote: the query console runs it
 * before every query (src/query/), the rules engine before a custom rule's SQL. It opens
 * its own read-only connection, checks and closes; it never runs the query.
 */

/** Where a read-only query goes: a SQLite file, or PostgreSQL (its URL and the store's schema). */
export interface QueryTarget {
  sqliteFile?: string;
  databaseUrl?: string;
  /** PostgreSQL schema of the store (default: the connection's current schema). */
  schema?: string;
  /** PostgreSQL: run queries as this restricted role (config `query.pgRole`). */
  pgRole?: string;
}

export interface CheckOptions {
  /** Allow the session's temporary tables (rules engine scope tables). */
  allowTempTables?: boolean;
}

/** The target of a store (SQLite file or PostgreSQL URL and schema). */
export function queryTargetOf(store: Store, pgRole?: string): QueryTarget {
  return store.dialect === 'sqlite'
    ? { sqliteFile: store.file }
    : { databaseUrl: store.databaseUrl, schema: store.schema, pgRole };
}

/**
 * Throws QueryError (kind `refused` with the reason, or `sql`) unless the query may run:
 * one SELECT that reads inventory tables only, no secret column, allowed functions only.
 * `values` are bound to its placeholders (`?` / `$n`, e.g. from compileParams).
 */
export async function checkQueryAllowed(
  target: QueryTarget,
  sqlText: string,
  values: readonly unknown[] = [],
  options: CheckOptions = {},
): Promise<void> {
  if (target.databaseUrl) {
    const client = pgClient({ databaseUrl: target.databaseUrl, schema: target.schema });
    await client.connect();
    try {
      const session = await beginReadOnly(client, { schema: target.schema, timeoutMs: 10_000, role: target.pgRole });
      await checkPostgresQuery(session.execute, sqlText, values, { schema: session.schema, ...options });
      await session.end();
    } finally {
      await client.end();
    }
    return;
  }
  if (!target.sqliteFile || target.sqliteFile === ':memory:')
    throw new QueryError('failed', 'no store to check the query against (a SQLite file or a PostgreSQL URL)');
  const db = openSqlite(target.sqliteFile, { readonly: true });
  try {
    checkSqliteQuery(db, sqlText, options, values.length > 0 ? values : undefined);
  } finally {
    db.close();
  }
}
