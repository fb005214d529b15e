import { type Dialect, dialectOf } from '../store/dialect.ts';
import { QueryError } from '../store/sql-guard/errors.ts';
import { type CompiledSql, compileParams, type ParamValue, parameterNames } from '../store/sql-params.ts';

/**
 * Named parameters of console queries: `:name` in the SQL, values from `--param name=value`
 * (or an example's default). `:now` is the current time unless given, as in rules, so
 * time comparisons read the same on both dialects.
 */

export type QueryParams = Record<string, ParamValue>;

/** `name=value` pairs as given on the command line; numbers become numbers (SQLite compares by type). */
export function parseParamArgs(pairs: readonly string[]): QueryParams {
  const out: QueryParams = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq > 0 ? pair.slice(0, eq) : '';
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new QueryError(
        'refused',
        `--param needs name=value (a name of letters, digits and _), got "${pair}"`,
      );
    const value = pair.slice(eq + 1);
    out[name] = /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return out;
}

/** The SQL with its parameters bound for the dialect; throws naming each missing value. */
export function bindQueryParams(
  sqlText: string,
  given: QueryParams,
  dialect: Dialect,
  now: () => string = () => new Date().toISOString(),
): CompiledSql {
  const names = [...new Set(parameterNames(sqlText))];
  if (names.length === 0) return { text: sqlText, values: [] };
  const params: QueryParams = { ...given };
  if (names.includes('now') && params.now === undefined) params.now = now();
  const missing = names.filter((n) => params[n] === undefined);
  if (missing.length > 0)
    throw new QueryError(
      'refused',
      `the query needs ${missing.map((n) => `:${n}`).join(', ')}: give ${missing.map((n) => `--param ${n}=…`).join(' ')}`,
    );
  return compileParams(sqlText, params, dialectOf(dialect));
}
