import { secretColumnsOf } from '../tables/secret-columns.ts';

/**
 * Why a read-only query did not give its rows: `refused` by the guard before it ran, a
 * `sql` error from the database, `timeout` or `memory` when the runner stopped it, or
 * `failed` when the runner itself broke. The message is for people: it says what was
 * wrong and, for refusals, what the console allows instead.
 */
export type QueryErrorKind = 'refused' | 'sql' | 'timeout' | 'memory' | 'failed';

export class QueryError extends Error {
  constructor(
    readonly kind: QueryErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

/** A refusal by the guard: the query did not run. */
export function refused(why: string): QueryError {
  return new QueryError('refused', `refused: ${why}`);
}

/** An error the database reported for the query. */
export function sqlError(message: string): QueryError {
  return new QueryError('sql', `SQL error: ${message}`);
}

/** A table outside the console's allow list (CONSOLE_TABLES), secret or not. */
export function notConsoleTable(table: string): QueryError {
  const secret = secretColumnsOf(table).length > 0;
  return refused(
    secret
      ? `table ${table} holds secrets and cannot be read`
      : `${table} is not an inventory table the console reads (docs/queries.md lists them)`,
  );
}
