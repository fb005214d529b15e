import type { ColumnKind } from '../resources/types.ts';
import { type Dialect, dialectOf } from './dialect.ts';

export type { Dialect } from './dialect.ts';

/** A JS value → the parameter the dialect's driver takes for a column of this kind. */
export function encodeValue(kind: ColumnKind, value: unknown, dialect: Dialect): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'boolean':
      return dialectOf(dialect).encodeBoolean(value);
    case 'json':
      return dialectOf(dialect).encodeJson(value);
    case 'timestamp':
      return typeof value === 'string' ? value : new Date(value as number).toISOString();
    default:
      return value;
  }
}

/** What the driver returned → the plain JS value (boolean, number, ISO string, parsed JSON). */
export function decodeValue(kind: ColumnKind, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'boolean':
      return typeof value === 'boolean' ? value : Number(value) !== 0;
    case 'json':
      if (typeof value === 'string') {
        try {
          return JSON.parse(value);
        } catch {
          return value;
        }
      }
      return value;
    case 'integer':
    case 'bigint':
      return typeof value === 'number' ? value : Number(value);
    case 'timestamp':
      return value instanceof Date ? value.toISOString() : String(value);
    default:
      return value;
  }
}

/** Stable JSON (sorted keys) so jsonb's key reordering never looks like a change. */
export function canonical(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Decodes every known column of a row read from a resource table. */
export function decodeRow(
  columns: Record<string, { kind: ColumnKind }>,
  row: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(row)) {
    const def = columns[name];
    out[name] = def ? decodeValue(def.kind, value) : value;
  }
  return out;
}
