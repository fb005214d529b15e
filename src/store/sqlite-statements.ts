import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * The better-sqlite3 database as Kysely's SqliteDialect sees it, with prepared statements
 * kept per SQL text. Kysely's driver calls `prepare(sql)` for every query; compiling a
 * statement costs as much as running a small one, and the store runs the same few
 * statement texts (apply.ts builds them from a small set of row counts) over and over.
 *
 * A better-sqlite3 statement can be run any number of times with new parameters; only
 * one that is still being iterated (`busy`) cannot be run again, so a busy cached
 * statement is never handed out: the caller gets a fresh, uncached one. Least recently
 * used statements are dropped beyond `maxStatements` or beyond `maxChars` of SQL text in
 * all: a compiled multi-row statement takes native memory in proportion to its text
 * (~30 bytes a character: a 512-row upsert of drive_items is ~60 k characters, ~1.8 MB).
 * Dropped statements are freed by SQLite when garbage-collected.
 */
export class CachingSqliteDatabase implements SqliteDatabase {
  readonly #db: SQLite.Database;
  readonly #cache = new Map<string, SQLite.Statement>();
  readonly #max: number;
  readonly #maxChars: number;
  #chars = 0;
  /** Statements compiled vs served from the cache (for tests and diagnostics). */
  readonly stats = { prepared: 0, hits: 0 };

  constructor(db: SQLite.Database, maxStatements = 256, maxChars = 1_000_000) {
    this.#db = db;
    this.#max = Math.max(0, maxStatements);
    this.#maxChars = Math.max(0, maxChars);
  }

  /** The wrapped better-sqlite3 handle. */
  get database(): SQLite.Database {
    return this.#db;
  }

  get size(): number {
    return this.#cache.size;
  }

  prepare(sql: string): SqliteStatement {
    const cached = this.#cache.get(sql);
    if (cached !== undefined && !cached.busy) {
      this.stats.hits++;
      // Map order is insertion order: move to the most recent end.
      this.#cache.delete(sql);
      this.#cache.set(sql, cached);
      return cached as unknown as SqliteStatement;
    }
    const stmt = this.#db.prepare(sql);
    this.stats.prepared++;
    if (cached === undefined && this.#max > 0 && sql.length <= this.#maxChars) {
      this.#cache.set(sql, stmt);
      this.#chars += sql.length;
      while (this.#cache.size > this.#max || this.#chars > this.#maxChars) {
        const oldest = this.#cache.keys().next().value as string;
        this.#cache.delete(oldest);
        this.#chars -= oldest.length;
      }
    }
    return stmt as unknown as SqliteStatement;
  }

  close(): void {
    this.#cache.clear();
    this.#chars = 0;
    this.#db.close();
  }
}
