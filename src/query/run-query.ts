import { configSchema } from '../config/config.ts';
import type { Dialect } from '../store/dialect.ts';
import type { QueryTarget } from '../store/sql-guard/check-query.ts';
import { preflight } from '../store/sql-guard/preflight.ts';
import { bindQueryParams, type QueryParams } from './params.ts';
import type { QueryLimits, Truncation } from './runner/protocol.ts';
import { runInQueryProcess } from './runner/runner.ts';

export { QueryError } from '../store/sql-guard/errors.ts';
export { type QueryTarget, queryTargetOf } from '../store/sql-guard/check-query.ts';
export type { QueryLimits } from './runner/protocol.ts';

/**
 * Read-only SQL over the inventory, for people (CLI, later the REST API and web app):
 * the guard (src/store/sql-guard/) refuses anything but one SELECT over inventory tables
 * without secrets, and the query runs in a process of its own (runner/) on a read-only
 * connection, within the row, byte, time and memory limits of config `query.*`. The SQL
 * helpers (dw_now, dw_days_between, …: store/dialect.ts) are there on both dialects.
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

/** The limits when the config says nothing. */
export const DEFAULT_QUERY_LIMITS: QueryLimits = configSchema.shape.query.parse(undefined);

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
  // The text-level refusals answer here, without starting a process.
  preflight(sqlText, dialect);
  const { text, values } = bindQueryParams(sqlText, opts.params ?? {}, dialect);
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
