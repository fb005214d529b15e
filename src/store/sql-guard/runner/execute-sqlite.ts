import { openSqlite } from '../../sqlite-driver.ts';
import { sqlError } from '../errors.ts';
import { checkSqliteQuery } from '../sqlite-guard.ts';
import { RowCollector } from './collector.ts';
import type { ChildMessage, QueryLimits } from './protocol.ts';

/** Runs a query on a read-only connection to the SQLite file, after the guard. */
export function executeSqlite(
  file: string,
  text: string,
  values: unknown[],
  limits: QueryLimits,
  checkOnly = false,
): Extract<ChildMessage, { type: 'result' }> {
  const db = openSqlite(file, { readonly: true, busyTimeoutMs: 5_000 });
  try {
    // Belt and braces on top of the read-only open: no writes, no schema-defined functions.
    db.pragma('query_only = 1');
    db.pragma('trusted_schema = 0');
    const stmt = checkSqliteQuery(db, text, {}, values);
    stmt.raw(true);
    const columns = stmt.columns().map((c) => c.name);
    if (checkOnly) return { type: 'result', columns, rows: [], truncated: null };
    const collector = new RowCollector(limits);
    try {
      for (const row of stmt.iterate(...values) as IterableIterator<unknown[]>)
        if (!collector.add(row)) break;
    } catch (err) {
      throw sqlError((err as Error).message);
    }
    return { type: 'result', columns, rows: collector.rows, truncated: collector.truncated };
  } finally {
    db.close();
  }
}
