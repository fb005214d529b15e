import type { Dialect } from '../store/dialect.ts';
import { checkQueryAllowed, type QueryTarget } from '../store/sql-guard/check-query.ts';
import { preflight } from '../store/sql-guard/preflight.ts';
import type { QueryLimits, Truncation } from '../store/sql-guard/runner/protocol.ts';
import { DEFAULT_QUERY_LIMITS, runInQueryProcess } from '../store/sql-guard/runner/runner.ts';
import { bindQueryParams, type QueryParams } from './params.ts';

export { type QueryTarget, queryTargetOf } from '../store/sql-guard/check-query.ts';
export { QueryError } from '../store/sql-guard/errors.ts';
export type { QueryLimits } from '../store/sql-guard/runner/protocol.ts';
export { DEFAULT_QUERY_LIMITS } from '../store/sql-guard/runner/runner.ts';

/**
 * Read-only SQL over the inventory, for people (CLI, later the REST API and web app):
 * the guard (src/store/sql-guard/) refuses anything but one SELECT over inventory tables
 * without secrets, and the query runs in a process of its own (store/sql-guard/runner/) on a read-only
 * connection, within the row, byte, time and memory limits of config `query.*`. The SQL
 * helpers (dw_now, dw_days_between, …: store/dialect.ts) are there on both dialects.
 * (The guard and the query process live in store/ so that the rules engine can use them.)
 */

export interface QueryResult {
  columns: string[];
  rows: Array<Record<string, unknown>>;
  /** True when more rows existed than the limits let through. */
  truncated: boolean;
  /** Which limit cut the rows off: `rows` (maxRows / --limit) or `bytes` (maxBytes). */
  truncatedBy: Truncation | null;
}

export interface RunQueryOptions {
  /** Values of the query's `:name` parameters (`:now` defaults to the current time). */
  params?: QueryParams;
  /** Rows at most (default: limits.maxRows). */
  limit?: number;
  /** Limits (default: config `query.*` defaults). */
  limits?: Partial<QueryLimits>;
}

export function dialectOfTarget(target: QueryTarget): Dialect {
  return target.databaseUrl ? 'postgres' : 'sqlite';
}

/** Runs the query; throws QueryError (refused, sql, timeout, memory, failed) with a message for people. */
export async function runReadOnlyQuery(
  target: QueryTarget,
  sqlText: string,
  opts: RunQueryOptions = {},
): Promise<QueryResult> {
  const limits = { ...DEFAULT_QUERY_LIMITS, ...opts.limits };
  if (opts.limit !== undefined) limits.maxRows = opts.limit;
  const dialect = dialectOfTarget(target);
  // Refusals of the text answer here; on SQLite the whole guard does (preparing never runs the
  // query), without starting a process. The query process checks again before it runs it.
  preflight(sqlText, dialect);
  const { text, values } = bindQueryParams(sqlText, opts.params ?? {}, dialect);
  if (dialect === 'sqlite') await checkQueryAllowed(target, text, values);
  const answer = await runInQueryProcess({ type: 'run', target, text, values, limits });
  const columns = uniqueNames(answer.columns);
  return {
    columns,
    rows: answer.rows.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]]))),
    truncated: answer.truncated !== null,
    truncatedBy: answer.truncated,
  };
}

/** Column names as object keys: a repeated name gets `_2`, `_3`, … */
function uniqueNames(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((name) => {
    let unique = name;
    for (let n = 2; seen.has(unique); n++) unique = `${name}_${n}`;
    seen.add(unique);
    return unique;
  });
}
