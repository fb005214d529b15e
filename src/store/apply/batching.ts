/**
 * Statement batching and SQL text caching. Every statement text is built once per shape
 * and cached; the prepared statements behind it are cached by that text
 * (store/sqlite-statements.ts), so only a few distinct texts may exist.
 */
import { CompiledQuery, type Kysely } from 'kysely';
import type { Dialect } from '../codec.ts';
import { dialectOf } from '../dialect.ts';
import type { Database } from '../schema.ts';

// SQLite takes 32,766 host parameters per statement, PostgreSQL 65,535.
export const MAX_PARAMS = 30_000;
/** Rows (or IN-list values) per statement at most; a power of two (see pow2Chunks). */
export const MAX_ROWS = 512;

const sqlCache = new Map<string, string>();

/** A quoted identifier. */
export const q = (name: string) => `"${name}"`;

export function placeholders(dialect: Dialect, start: number, count: number): string {
  return dialectOf(dialect).placeholders(start, count);
}

/** The SQL text of one statement shape (`key`), built on first use. */
export function cachedSql(key: string, build: () => string): string {
  let text = sqlCache.get(key);
  if (text === undefined) {
    text = build();
    sqlCache.set(key, text);
  }
  return text;
}

export async function run(
  db: Kysely<Database>,
  text: string,
  params: unknown[],
): Promise<{ rows: Record<string, unknown>[]; affected: number }> {
  const result = await db.executeQuery(CompiledQuery.raw(text, params));
  return {
    rows: result.rows as Record<string, unknown>[],
    affected: Number(result.numAffectedRows ?? 0n),
  };
}

/*
 * Statement shapes. A multi-row statement's text depends on its row count, and every new
 * text is compiled again (and would fill the prepared-statement cache). So statements are
 * only built for powers of two: multi-row INSERTs take parts of 2^k rows, IN lists are
 * padded to the next power of two by repeating their last value (a repeated value changes
 * nothing in an IN list). That keeps ~10 texts per statement kind and table.
 */

export function pow2Floor(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

function pow2Ceil(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Consecutive parts of 2^k items, each at most `max` (a power of two), largest first. */
export function pow2Chunks<T>(items: T[], max: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = Math.min(max, pow2Floor(items.length - i));
    out.push(items.slice(i, i + size));
    i += size;
  }
  return out;
}

/** Parts of at most MAX_ROWS values, each padded to a power of two with its last value (IN lists). */
export function inLists(values: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < values.length; i += MAX_ROWS) {
    const part = values.slice(i, i + MAX_ROWS);
    const size = pow2Ceil(part.length);
    const last = part[part.length - 1];
    while (part.length < size) part.push(last);
    out.push(part);
  }
  return out;
}

/** Placeholders of an IN list of `count` values starting at parameter `start`. */
export function inList(dialect: Dialect, start: number, count: number): string {
  return placeholders(dialect, start, count);
}
