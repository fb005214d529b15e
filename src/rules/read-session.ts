import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type SQLite from 'better-sqlite3';
import { CompiledQuery, type Kysely } from 'kysely';
import { openSqlite } from '../store/connection.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';

/**
 * The read-only path rules run on: one snapshot of the store for a whole evaluation, on a
 * connection that cannot write the inventory.
 * - SQLite: a second connection opened read-only (the SQL helpers registered), one read
 *   transaction (BEGIN … COMMIT) so every rule sees the same snapshot.
 * - PostgreSQL: one pooled connection in a `begin isolation level repeatable read read only`
 *   transaction (one snapshot), rows read through DECLARE CURSOR / FETCH.
 * Rows are streamed in batches: only the caller decides what to keep (alarm and error
 * rows), so a rule over a million resources never holds a million rows.
 *
 * Both allow TEMP tables (SQLite's temp schema on a read-only connection; PostgreSQL
 * temp tables created before the read-only transaction, written inside it): the incremental
 * evaluation writes its scope there (scope.ts).
 */
export interface ReadSession {
  readonly dialect: Dialect;
  /** Every row of a query (small results: scope lists, counts). */
  all(text: string, values?: readonly unknown[]): Promise<Array<Record<string, unknown>>>;
  /** A statement without result rows (temp tables only). */
  exec(text: string, values?: readonly unknown[]): Promise<void>;
  /** The rows of a query, in batches of up to `batchSize`; the event loop runs between batches. */
  stream(
    text: string,
    values: readonly unknown[],
    onBatch: (rows: Array<Record<string, unknown>>) => void,
  ): Promise<void>;
  close(): Promise<void>;
}

export const STREAM_BATCH = 2_000;

export class ReadSessionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReadSessionError';
  }
}

/** Opens the read-only session; `prepare` runs first, outside the read-only transaction (PostgreSQL temp tables). */
export async function openReadSession(store: Store, prepare: string[] = []): Promise<ReadSession> {
  return store.dialect === 'sqlite' ? sqliteSession(store, prepare) : postgresSession(store.db, prepare);
}

function sqliteSession(store: Store, prepare: string[]): ReadSession {
  if (!store.file || store.file === ':memory:')
    throw new ReadSessionError(
      'rules need a SQLite store in a file (a read-only second connection opens it)',
    );
  return openSqliteReadSession(store.file, prepare);
}

/** A read-only session on a SQLite file (also what a rule worker thread opens). */
export function openSqliteReadSession(file: string, prepare: string[] = []): ReadSession {
  const db = openSqlite(file, { readonly: true, busyTimeoutMs: 10_000 });
  for (const text of prepare) db.exec(text);
  db.exec('begin');
  const prepared = (text: string): SQLite.Statement => {
    try {
      return db.prepare(text);
    } catch (err) {
      throw new ReadSessionError(`SQL error: ${(err as Error).message}`);
    }
  };
  return {
    dialect: 'sqlite',
    async all(text, values = []) {
      const stmt = prepared(text);
      if (!stmt.reader) throw new ReadSessionError('only queries that return rows can run here');
      return stmt.all(...values) as Array<Record<string, unknown>>;
    },
    async exec(text, values = []) {
      prepared(text).run(...values);
    },
    async stream(text, values, onBatch) {
      const stmt = prepared(text);
      if (!stmt.reader) throw new ReadSessionError('only queries that return rows can run here');
      let batch: Array<Record<string, unknown>> = [];
      for (const row of stmt.iterate(...values) as IterableIterator<Record<string, unknown>>) {
        batch.push(row);
        if (batch.length === STREAM_BATCH) {
          onBatch(batch);
          batch = [];
          // The iterator stays open on this connection (nothing else uses it); other work
          // (the collector, timers) runs between batches of a long rule.
          await yieldToLoop();
        }
      }
      if (batch.length) onBatch(batch);
    },
    async close() {
      try {
        if (db.inTransaction) db.exec('commit');
      } finally {
        db.close();
      }
    },
  };
}

async function postgresSession(kdb: Kysely<Database>, prepare: string[]): Promise<ReadSession> {
  // Hold one pooled connection for the session: the callback stays pending until close().
  let release!: () => void;
  const released = new Promise<void>((ok) => {
    release = ok;
  });
  const conn = await new Promise<Kysely<Database>>((ok, fail) => {
    kdb
      .connection()
      .execute(async (c) => {
        ok(c);
        await released;
      })
      .catch(fail);
  });
  const q = async (text: string, values: readonly unknown[] = []) =>
    (await conn.executeQuery(CompiledQuery.raw(text, [...values]))).rows as Array<Record<string, unknown>>;
  let cursors = 0;
  try {
    for (const text of prepare) await q(text);
    await q('begin isolation level repeatable read read only');
  } catch (err) {
    release();
    throw err;
  }
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      throw new ReadSessionError(`SQL error: ${(err as Error).message}`);
    }
  };
  // A failed statement aborts the transaction: later statements need a savepoint to go on.
  const step = async <T>(work: () => Promise<T>): Promise<T> => {
    await q('savepoint dw_step');
    try {
      const out = await guarded(work);
      await q('release savepoint dw_step');
      return out;
    } catch (err) {
      await q('rollback to savepoint dw_step');
      throw err;
    }
  };
  return {
    dialect: 'postgres',
    all: (text, values = []) => step(() => q(text, values)),
    exec: async (text, values = []) => {
      await step(() => q(text, values));
    },
    stream: (text, values, onBatch) =>
      step(async () => {
        const name = `dw_rule_cursor_${++cursors}`;
        await q(`declare ${name} no scroll cursor for ${text}`, values);
        for (;;) {
          const rows = await q(`fetch ${STREAM_BATCH} from ${name}`);
          if (rows.length) onBatch(rows);
          if (rows.length < STREAM_BATCH) break;
        }
        await q(`close ${name}`);
      }),
    async close() {
      try {
        await q('rollback');
      } finally {
        release();
      }
    },
  };
}
