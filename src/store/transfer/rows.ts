import type { ColumnKind, PlannedColumn } from './plan.ts';

/**
 * One value of a SQLite row on its way to PostgreSQL, and the canonical form both sides are
 * compared in. SQLite keeps booleans as 0/1, JSON and timestamps as text; PostgreSQL has
 * boolean, jsonb (key order and spacing normalised) and timestamptz (read back as ISO text).
 */

type SqliteValue = string | number | bigint | Buffer | null;

/** The parameter sent to PostgreSQL for a SQLite value of a column; throws naming a value it cannot convert. */
export function toPgParam(table: string, column: PlannedColumn, value: SqliteValue): unknown {
  if (value === null) return null;
  const bad = (what: string) =>
    new Error(
      `table ${table}, column ${column.name}: ${what} (${describe(value)}) cannot be copied as ${column.kind}`,
    );
  if (Buffer.isBuffer(value)) throw bad('a blob');
  switch (column.kind) {
    case 'boolean':
      if (value === 0 || value === 1 || value === 0n || value === 1n) return Number(value) === 1;
      throw bad('not 0 or 1');
    case 'integer':
    case 'float':
      if (typeof value === 'string') throw bad('text');
      return typeof value === 'bigint' ? value.toString() : value;
    case 'json':
      return typeof value === 'string' ? value : JSON.stringify(Number(value));
    case 'timestamp':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw bad('not an ISO timestamp');
      return value;
    case 'text':
      return typeof value === 'string' ? value : String(value);
  }
}

function describe(value: SqliteValue): string {
  if (Buffer.isBuffer(value)) return `${value.length} bytes`;
  const text = String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

/** A value in the form both sides are compared in (JSON text of it). */
export function canonicalValue(kind: ColumnKind, value: unknown, side: 'sqlite' | 'postgres'): unknown {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'boolean':
      return side === 'sqlite' ? Number(value) === 1 : value === true;
    case 'integer':
    case 'float':
      return Number(value);
    case 'json':
      // pg parses jsonb; SQLite holds the text.
      return sortedKeys(side === 'sqlite' ? JSON.parse(String(value)) : value);
    case 'timestamp':
      return new Date(String(value)).toISOString();
    case 'text':
      return String(value);
  }
}

function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortedKeys((value as Record<string, unknown>)[k])]),
    );
  return value;
}

/** A row as canonical JSON text (columns in plan order). */
export function canonicalRow(columns: PlannedColumn[], row: unknown[], side: 'sqlite' | 'postgres'): string {
  return JSON.stringify(columns.map((c, i) => canonicalValue(c.kind, row[i], side)));
}
