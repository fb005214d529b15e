import type { QueryLimits, Truncation } from './protocol.ts';

/** Rows kept within the row and byte limits; says which one cut the result off. */
export class RowCollector {
  readonly rows: unknown[][] = [];
  truncated: Truncation | null = null;
  private bytes = 0;

  constructor(private readonly limits: Pick<QueryLimits, 'maxRows' | 'maxBytes'>) {}

  /** Keeps the row; false (and the row dropped) once a limit is reached: stop reading. */
  add(row: unknown[]): boolean {
    if (this.rows.length >= this.limits.maxRows) {
      this.truncated = 'rows';
      return false;
    }
    const size = row.reduce<number>((sum, value) => sum + sizeOf(value), 0);
    if (this.bytes + size > this.limits.maxBytes) {
      this.truncated = 'bytes';
      return false;
    }
    this.bytes += size;
    this.rows.push(row);
    return true;
  }
}

/** About what a value costs in the result (strings by length, JSON by its text). */
export function sizeOf(value: unknown): number {
  if (value === null || value === undefined) return 1;
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number' || typeof value === 'bigint') return 8;
  if (typeof value === 'boolean') return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  return JSON.stringify(value)?.length ?? 1;
}
