import { openSqlite } from '../connection.ts';
import type { Store } from '../store.ts';
import { QueryError } from './errors.ts';
import type { QueryLimits } from './runner/protocol.ts';
import { DEFAULT_QUERY_LIMITS, runInQueryProcess } from './runner/runner.ts';
import { checkSqliteQuery } from './sqlite-guard.ts';

/**
 * The guard as one call, for whoever runs SQL that people wrote: the query console checks
 * every query (src/query/), the rules engine can check a custom rule's SQL. It never runs
 * the query. SQLite: checked here on a read-only connection of its own (preparing and
 * EXPLAIN never execute). PostgreSQL: checked in a query process (runner/), because the
 * planner folds constant calls (`repeat('x', 1e9)`) and the plan comes back with the result:
 * that memory is the query process's, within its limits, not the caller's.
 *
 * Inside a session of one's own (temporary tables, one snapshot) use checkSqliteQuery /
 * checkPostgresQuery directly.
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
  /** SQLite: allow the connection's temp schema (a fresh connection has none; for symmetry with the lower-level checks). */
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
  limits: Partial<QueryLimits> = {},
): Promise<void> {
  if (target.databaseUrl) {
    await runInQueryProcess({
      type: 'run',
      target,
      text: sqlText,
      values: [...values],
      limits: { ...DEFAULT_QUERY_LIMITS, ...limits },
      checkOnly: true,
    });
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
