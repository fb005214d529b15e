import type { QueryErrorKind } from '../../store/sql-guard/errors.ts';
import type { QueryTarget } from '../../store/sql-guard/check-query.ts';

/** Messages between runReadOnlyQuery (parent) and the query process (child.ts). */

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
