import type SQLite from 'better-sqlite3';

/**
 * Everything that differs between SQLite and PostgreSQL, decided here and nowhere else:
 * parameter placeholders, how booleans and JSON are bound, and the SQL helper functions
 * rules use under the same name on both (SQLite: registered on every connection the
 * connection factory opens; PostgreSQL: created by migration 0150-sql-helpers).
 */
export type Dialect = 'sqlite' | 'postgres';

export interface SqlDialect {
  readonly name: Dialect;
  /**
   * SQLite binds `?` parameters in the order they appear in the text; PostgreSQL binds
   * `$n` by number, so a parameter may appear twice or out of order there.
   */
  readonly bindsByPosition: boolean;
  /** The placeholder of the n-th parameter (1-based). */
  placeholder(n: number): string;
  /** `count` comma-separated placeholders, numbered from `start`. */
  placeholders(start: number, count: number): string;
  /** A boolean literal in SQL text: 1/0 on SQLite (what its partial indexes name), true/false on PostgreSQL. */
  booleanLiteral(value: boolean): string;
  /** A boolean as the driver binds it: 0/1 on SQLite, boolean on PostgreSQL. */
  encodeBoolean(value: unknown): number | boolean;
  /** A JSON value as bound to a JSON column (text on SQLite, jsonb on PostgreSQL). */
  encodeJson(value: unknown): string;
  /**
   * ` indexed by <index>` after a table in FROM on SQLite (nothing on PostgreSQL, whose planner
   * has statistics). For plans SQLite gets wrong without them: a recursive step over a subtree
   * must walk the parent index, not scan every item of one exposure (drive_items_api_exposure).
   */
  indexedBy(index: string): string;
}

export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  bindsByPosition: true,
  placeholder: () => '?',
  placeholders: (_start, count) => Array(count).fill('?').join(', '),
  booleanLiteral: (value) => (value ? '1' : '0'),
  encodeBoolean: (value) => (value ? 1 : 0),
  encodeJson: (value) => JSON.stringify(value),
  indexedBy: (index) => ` indexed by ${index}`,
};

export const postgresDialect: SqlDialect = {
  name: 'postgres',
  bindsByPosition: false,
  placeholder: (n) => `$${n}`,
  placeholders: (start, count) => Array.from({ length: count }, (_, i) => `$${start + i}`).join(', '),
  booleanLiteral: (value) => (value ? 'true' : 'false'),
  encodeBoolean: (value) => Boolean(value),
  encodeJson: (value) => JSON.stringify(value),
  indexedBy: () => '',
};

export function dialectOf(name: Dialect): SqlDialect {
  return name === 'sqlite' ? sqliteDialect : postgresDialect;
}

/**
 * The SQL helper functions, the same name and result on both dialects (rules are written
 * in the SQL both accept). Times are ISO-8601 text on SQLite and timestamptz on PostgreSQL,
 * read back as the same ISO text.
 *
 * - `dw_json_text(json, path)`: the field at a dotted path (`'a.b'`) of a JSON document
 *   (text or jsonb) as text: strings as themselves, numbers and `true`/`false` as text,
 *   objects and arrays as JSON text; NULL when absent or JSON null.
 * - `dw_now()`: the current time (PostgreSQL: the transaction's start).
 * - `dw_days_between(from, to)`: days from `from` to `to` (fractional, negative when `to`
 *   is earlier); NULL when either is NULL.
 * - `dw_email_domain(address)`: the lower-cased part after the last `@`; NULL without one.
 * - `dw_json_has(json, value)`: 1 when the JSON array (text or jsonb) holds the string
 *   `value` (`dw_json_has(roles, 'write') = 1`), else 0; an integer on both dialects.
 *   (PostgreSQL: created by migration 0300-rules.)
 * - `dw_in_nocase(value, candidate, …)`: 1 when `value` equals one of the candidates ignoring
 *   case, else 0 (also for a NULL value); takes a `string_list` rule parameter:
 *   `dw_in_nocase(l.label_name, :restricted_labels) = 1`. (PostgreSQL: created by 0320-item-labels.)
 */
export const SQL_HELPERS = [
  'dw_json_text',
  'dw_now',
  'dw_days_between',
  'dw_email_domain',
  'dw_json_has',
  'dw_in_nocase',
] as const;

const DAY_MS = 86_400_000;

/** dw_json_text on SQLite. */
export function jsonText(doc: unknown, path: unknown): string | null {
  if (doc === null || doc === undefined || typeof path !== 'string') return null;
  let value: unknown;
  try {
    value = typeof doc === 'string' ? JSON.parse(doc) : doc;
  } catch {
    return null;
  }
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return null;
    value = Array.isArray(value)
      ? /^\d+$/.test(key)
        ? value[Number(key)]
        : undefined
      : (value as Record<string, unknown>)[key];
  }
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** dw_days_between on SQLite. */
export function daysBetween(from: unknown, to: unknown): number | null {
  if (from === null || from === undefined || to === null || to === undefined) return null;
  const a = Date.parse(String(from));
  const b = Date.parse(String(to));
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return (b - a) / DAY_MS;
}

/** dw_email_domain on SQLite. */
export function emailDomain(address: unknown): string | null {
  if (typeof address !== 'string') return null;
  const at = address.lastIndexOf('@');
  if (at < 0 || at === address.length - 1) return null;
  return address.slice(at + 1).toLowerCase();
}

/** dw_json_has on SQLite. */
export function jsonHas(doc: unknown, value: unknown): number {
  if (doc === null || doc === undefined || typeof value !== 'string') return 0;
  let parsed: unknown;
  try {
    parsed = typeof doc === 'string' ? JSON.parse(doc) : doc;
  } catch {
    return 0;
  }
  return Array.isArray(parsed) && parsed.includes(value) ? 1 : 0;
}

/** dw_in_nocase on SQLite. */
export function inNoCase(value: unknown, ...candidates: unknown[]): number {
  if (typeof value !== 'string') return 0;
  const v = value.toLowerCase();
  return candidates.some((c) => typeof c === 'string' && c.toLowerCase() === v) ? 1 : 0;
}

/** Registers the SQL helpers on a better-sqlite3 connection (every connection needs them). */
export function registerSqliteHelpers(db: SQLite.Database): void {
  db.function('dw_json_text', { deterministic: true }, (doc: unknown, path: unknown) => jsonText(doc, path));
  db.function('dw_now', { deterministic: false }, () => new Date().toISOString());
  db.function('dw_days_between', { deterministic: true }, (from: unknown, to: unknown) =>
    daysBetween(from, to),
  );
  db.function('dw_email_domain', { deterministic: true }, (address: unknown) => emailDomain(address));
  db.function('dw_json_has', { deterministic: true }, (doc: unknown, value: unknown) => jsonHas(doc, value));
  db.function(
    'dw_in_nocase',
    { deterministic: true, varargs: true },
    (value: unknown, ...candidates: unknown[]) => inNoCase(value, ...candidates),
  );
}
