import { configSchema } from '../../../config/config.ts';
import type { QueryTarget } from '../check-query.ts';
import type { QueryErrorKind } from '../errors.ts';

/** Messages between runInQueryProcess (runner.ts) and the query process (child.ts). */

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

/** The limits when the config says nothing (config `query.*` defaults). */
export const DEFAULT_QUERY_LIMITS: QueryLimits = configSchema.shape.query.parse(undefined);

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
