import type { QueryTarget } from '../check-query.ts';
import type { QueryErrorKind } from '../errors.ts';

/**
 * Messages between runInQueryProcess (runner.ts) and the query process (child.ts). The child
 * imports this file: types and constants only, nothing it would load at every start.
 */

export interface QueryLimits {
  /** Rows returned at most. */
  maxRows: number;
  /** Bytes of result values returned at most. */
  maxBytes: number;
  /** The query is stopped after this long. */
  timeoutMs: number;
  /** The query process is stopped when its resident memory passes this (MB). */
  maxMemoryMb: number;
}

/** Parent → child: the one query this process runs. */
export interface RunRequest {
  type: 'run';
  target: QueryTarget;
  /** SQL with the dialect's placeholders (`?` / `$n`). */
  text: string;
  values: unknown[];
  limits: QueryLimits;
  /** Only run the guard (PostgreSQL plans it): answer with no rows. */
  checkOnly?: boolean;
}

/** Why rows were cut off. */
export type Truncation = 'rows' | 'bytes';

export type ChildMessage =
  /** The process is up; the time limit starts now. */
  | { type: 'started' }
  | {
      type: 'result';
      columns: string[];
      rows: unknown[][];
      truncated: Truncation | null;
    }
  | { type: 'error'; kind: QueryErrorKind; message: string };

/** Written to stderr by the memory watchdog just before it kills the process. */
export const MEMORY_MARKER = 'DW_QUERY_MEMORY_LIMIT';
