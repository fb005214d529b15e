import type SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { openSqlite } from '../store/connection.ts';

/**
 * A durable queue: producers insert rows (an insert resolves once committed), one
 * consumer reads unprocessed rows in id order, marks them processed or records a failed
 * attempt (the row stays for a retry), and processed rows are pruned later. The webhook
 * inbox is the first user (./webhook-inbox.ts); the alert outbox is the next.
 *
 * Two implementations of the same contract:
 * - `SqliteFileQueue`: the queue in its own SQLite file on its own better-sqlite3
 *   connection, synchronous statements (producers group rows into one insert: one
 *   transaction, one fsync). It never waits for the store's connection.
 * - `TableQueue`: a table of the main database through Kysely (PostgreSQL, in-memory
 *   SQLite), with an optional separate `writer` instance (a dedicated pool) for inserts.
 *
 * Every queue table has `id` (growing with inserts), its payload columns, and
 * `processed_at`, `attempts`, `last_error`. A queue may name a `due` column (the alert
 * outbox's `next_attempt_at`): rows are read only once it is null or not after `now`, and a
 * failed attempt can push it (retry backoff).
 */
export type QueueValue = string | number | null;

export interface QueueDefinition<Row extends { [K in keyof Row]: QueueValue }> {
  table: string;
  /** Payload columns in table order with their SQLite type (the own-file schema). */
  columns: { [K in keyof Row]: 'text not null' | 'text' | 'integer not null' | 'integer' };
  /** The payload columns `unprocessed` returns (with id, attempts and last_error). */
  read: ReadonlyArray<keyof Row & string>;
  /** ISO text column: a row is not handed out before this time (null = at once). */
  due?: keyof Row & string;
}

/** What `unprocessed` returns of a row besides the `read` columns. */
export interface QueueRowState {
  id: number;
  attempts: number;
  last_error: string | null;
}

export interface QueueFailureOptions<Row> {
  /** Sets the `due` column: the row is not handed out again before this ISO time. */
  retryAt?: string;
  /** Payload columns to set in the same statement. */
  set?: Partial<Row>;
}

export interface QueueCountFilter<Row> {
  processed?: boolean;
  /** Columns that must be (true) or must not be (false) NULL. */
  notNull?: Partial<Record<keyof Row & string, boolean>>;
  /** Columns that must equal a value. */
  equals?: Partial<Row>;
  /** Columns that must be >= a value. */
  atLeast?: Partial<Row>;
}

export interface QueuePending<Row, K extends keyof Row> {
  key: Pick<Row, K>;
  pending: number;
  /** The smallest value of the `oldest` column among the pending rows. */
  oldest: string | null;
}

export interface DurableQueue<Row extends { [K in keyof Row]: QueueValue }, Read extends keyof Row & string> {
  readonly kind: 'sqlite-file' | 'database';
  /** Where the rows live (a file path, or 'main database'), for logs. */
  readonly location: string;
  /** Inserts the rows in one transaction; resolves once committed, rejects if not. */
  insert(rows: Row[]): Promise<void>;
  /**
   * Unprocessed rows with id > afterId, by id, at most `limit`; with a `due` column only
   * rows due at `now` (ISO, default the current time).
   */
  unprocessed(afterId: number, limit: number, now?: string): Promise<Array<QueueRowState & Pick<Row, Read>>>;
  /** Marks rows processed at `at` (ISO) with `error` as last_error (null: clean), and sets `set`'s columns. */
  markProcessed(ids: number[], at: string, error?: string | null, set?: Partial<Row>): Promise<void>;
  /** A handling attempt failed: attempts + 1, last_error = message. Rows stay unprocessed. */
  recordFailure(ids: number[], message: string, options?: QueueFailureOptions<Row>): Promise<void>;
  /** Unprocessed rows grouped by `by`, with the smallest `oldest` value; optionally only rows equal to `where`. */
  pending<K extends keyof Row & string>(
    by: K[],
    oldest: keyof Row & string,
    where?: Partial<Row>,
  ): Promise<Array<QueuePending<Row, K>>>;
  count(filter?: QueueCountFilter<Row>): Promise<number>;
  /** Deletes rows processed before `before` (ISO); returns how many. */
  prune(before: string): Promise<number>;
  /** Deletes every row whose `column` equals `value`; returns how many. */
  purge(column: keyof Row & string, value: QueueValue): Promise<number>;
  close(): Promise<void>;
}

/** Rows per statement (SQLite caps bound parameters per statement). */
const CHUNK = 500;

const IDENT = /^[a-z_][a-z0-9_]*$/;

function checkDefinition(def: { table: string; columns: object; due?: string }): void {
  for (const name of [def.table, ...Object.keys(def.columns)])
    if (!IDENT.test(name)) throw new Error(`queue ${def.table}: invalid name ${name}`);
  if (def.due !== undefined && !(def.due in def.columns))
    throw new Error(`queue ${def.table}: due column ${def.due} is not one of its columns`);
}

/** The columns an update sets besides the queue's own: `set`, plus `due` = retryAt when given. */
function updateColumns<Row>(
  def: { table: string; due?: string; columns: object },
  set: Partial<Row> = {},
  retryAt?: string,
): Record<string, QueueValue> {
  const values: Record<string, QueueValue> = { ...(set as Record<string, QueueValue>) };
  if (retryAt !== undefined) {
    if (!def.due) throw new Error(`queue ${def.table}: retryAt needs a due column`);
    values[def.due] = retryAt;
  }
  for (const name of Object.keys(values))
    if (!(name in def.columns)) throw new Error(`queue ${def.table}: no column ${name}`);
  return values;
}

/** WHERE clauses of a count filter, with `?` placeholders (SQLite) and their values. */
function filterSql(filter: QueueCountFilter<Record<string, QueueValue>>): {
  where: string[];
  params: unknown[];
} {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.processed !== undefined) where.push(`processed_at is ${filter.processed ? 'not null' : 'null'}`);
  for (const [col, notNull] of Object.entries(filter.notNull ?? {}))
    if (notNull !== undefined) where.push(`${col} is ${notNull ? 'not null' : 'null'}`);
  for (const [col, value] of Object.entries(filter.equals ?? {})) {
    where.push(`${col} = ?`);
    params.push(value);
  }
  for (const [col, value] of Object.entries(filter.atLeast ?? {})) {
    where.push(`${col} >= ?`);
    params.push(value);
  }
  return { where, params };
}

export interface SqliteFileQueueOptions {
  /**
   * FULL (default): a committed row survives a power loss too (one fsync per commit).
   * NORMAL survives a process crash, not a power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** A queue in its own SQLite file, on its own connection. */
export class SqliteFileQueue<Row extends { [K in keyof Row]: QueueValue }, Read extends keyof Row & string>
  implements DurableQueue<Row, Read>
{
  readonly kind = 'sqlite-file' as const;
  readonly location: string;
  private readonly db: SQLite.Database;
  private readonly stmts: ReturnType<SqliteFileQueue<Row, Read>['prepare']>;
  private readonly insertMany: (rows: Row[]) => void;
  private readonly updateMany: (ids: number[], fn: (id: number) => void) => void;
  private readonly updates = new Map<string, SQLite.Statement>();

  constructor(
    private readonly def: QueueDefinition<Row>,
    file: string,
    options: SqliteFileQueueOptions = {},
  ) {
    checkDefinition(def);
    this.location = file;
    // Only this process writes the file; a short busy timeout covers another process
    // reading it (`drivewarden status`). Calls are synchronous: keep it short.
    this.db = openSqlite(file, { busyTimeoutMs: 1000 });
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    const columns = Object.entries(def.columns).map(([name, type]) => `${name} ${type}`);
    this.db.exec(`
      create table if not exists ${def.table} (
        id integer primary key autoincrement,
        ${columns.join(',\n        ')},
        processed_at text,
        attempts integer not null default 0,
        last_error text
      );
      create index if not exists ${def.table}_pending on ${def.table} (processed_at, id);
    `);
    this.stmts = this.prepare();
    this.insertMany = this.db.transaction((rows: Row[]) => {
      for (const r of rows) this.stmts.insert.run(r);
    });
    this.updateMany = this.db.transaction((ids: number[], fn: (id: number) => void) => {
      for (const id of ids) fn(id);
    });
  }

  private prepare() {
    const { db, def } = this;
    const names = Object.keys(def.columns);
    return {
      insert: db.prepare(
        `insert into ${def.table} (${names.join(', ')}) values (${names.map((n) => `@${n}`).join(', ')})`,
      ),
      unprocessed: db.prepare(
        `select id, attempts, last_error, ${def.read.join(', ')} from ${def.table}
         where processed_at is null and id > ?${def.due ? ` and (${def.due} is null or ${def.due} <= ?)` : ''}
         order by id limit ?`,
      ),
      prune: db.prepare(`delete from ${def.table} where processed_at is not null and processed_at < ?`),
    };
  }

  private column(name: string): string {
    if (!(name in this.def.columns)) throw new Error(`queue ${this.def.table}: no column ${name}`);
    return name;
  }

  async insert(rows: Row[]): Promise<void> {
    if (rows.length > 0) this.insertMany(rows);
  }

  async unprocessed(
    afterId: number,
    limit: number,
    now = new Date().toISOString(),
  ): Promise<Array<QueueRowState & Pick<Row, Read>>> {
    const params = this.def.due ? [afterId, now, limit] : [afterId, limit];
    return this.stmts.unprocessed.all(...params) as Array<QueueRowState & Pick<Row, Read>>;
  }

  /** `update … set <fixed>, <columns> where id = ?`, prepared once per column set. */
  private updateStatement(fixed: string, columns: string[]): SQLite.Statement {
    const sets = [fixed, ...columns.map((c) => `${c} = ?`)].join(', ');
    const text = `update ${this.def.table} set ${sets} where id = ?`;
    let stmt = this.updates.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.updates.set(text, stmt);
    }
    return stmt;
  }

  async markProcessed(
    ids: number[],
    at: string,
    error: string | null = null,
    set: Partial<Row> = {},
  ): Promise<void> {
    if (ids.length === 0) return;
    const values = updateColumns(this.def, set);
    const stmt = this.updateStatement('processed_at = ?, last_error = ?', Object.keys(values));
    this.updateMany(ids, (id) => stmt.run(at, error, ...Object.values(values), id));
  }

  async recordFailure(ids: number[], message: string, options: QueueFailureOptions<Row> = {}): Promise<void> {
    if (ids.length === 0) return;
    const values = updateColumns(this.def, options.set, options.retryAt);
    const stmt = this.updateStatement('attempts = attempts + 1, last_error = ?', Object.keys(values));
    this.updateMany(ids, (id) => stmt.run(message, ...Object.values(values), id));
  }

  async pending<K extends keyof Row & string>(
    by: K[],
    oldest: keyof Row & string,
    where: Partial<Row> = {},
  ): Promise<Array<QueuePending<Row, K>>> {
    const keys = by.map((k) => this.column(k));
    for (const col of Object.keys(where)) this.column(col);
    const { where: clauses, params } = filterSql({ processed: false, equals: where });
    const rows = this.db
      .prepare(
        `select ${keys.join(', ')}, count(*) as pending, min(${this.column(oldest)}) as oldest
         from ${this.def.table} where ${clauses.join(' and ')} group by ${keys.join(', ')}`,
      )
      .all(...params) as Array<Record<string, QueueValue>>;
    return rows.map((r) => ({
      key: Object.fromEntries(keys.map((k) => [k, r[k]])) as Pick<Row, K>,
      pending: Number(r.pending),
      oldest: r.oldest === null ? null : String(r.oldest),
    }));
  }

  async count(filter: QueueCountFilter<Row> = {}): Promise<number> {
    for (const part of [filter.notNull, filter.equals, filter.atLeast])
      for (const col of Object.keys(part ?? {})) this.column(col);
    const { where, params } = filterSql(filter as QueueCountFilter<Record<string, QueueValue>>);
    const row = this.db
      .prepare(
        `select count(*) as n from ${this.def.table}${where.length ? ` where ${where.join(' and ')}` : ''}`,
      )
      .get(...params) as { n: number };
    return Number(row.n);
  }

  async prune(before: string): Promise<number> {
    return this.stmts.prune.run(before).changes;
  }

  async purge(column: keyof Row & string, value: QueueValue): Promise<number> {
    return this.db.prepare(`delete from ${this.def.table} where ${this.column(column)} = ?`).run(value)
      .changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export interface TableQueueOptions {
  /** Inserts go through this instance (e.g. a dedicated pool); default `db`. */
  // biome-ignore lint/suspicious/noExplicitAny: the queue's table is named by its definition
  writer?: Kysely<any>;
  /** Destroy `writer` on close (when the queue's opener created it). */
  ownsWriter?: boolean;
}

/** A queue as a table of the main database (created by a migration). */
export class TableQueue<Row extends { [K in keyof Row]: QueueValue }, Read extends keyof Row & string>
  implements DurableQueue<Row, Read>
{
  readonly kind = 'database' as const;
  readonly location = 'main database';
  // biome-ignore lint/suspicious/noExplicitAny: the queue's table is named by its definition
  private readonly db: Kysely<any>;
  // biome-ignore lint/suspicious/noExplicitAny: see db
  private readonly writer: Kysely<any>;

  constructor(
    private readonly def: QueueDefinition<Row>,
    // biome-ignore lint/suspicious/noExplicitAny: see db
    db: Kysely<any>,
    private readonly options: TableQueueOptions = {},
  ) {
    checkDefinition(def);
    this.db = db;
    this.writer = options.writer ?? db;
  }

  async insert(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    await this.writer.transaction().execute((trx) => this.insertWith(trx, rows));
  }

  /**
   * Inserts through `db`, typically the transaction that also writes what caused the rows
   * (a transactional outbox): they commit, or vanish, together with it.
   */
  // biome-ignore lint/suspicious/noExplicitAny: see db
  async insertWith(db: Kysely<any>, rows: Row[]): Promise<void> {
    const values = rows.map((r) => ({ ...r, processed_at: null, last_error: null }));
    for (let i = 0; i < values.length; i += CHUNK) {
      await db
        .insertInto(this.def.table)
        .values(values.slice(i, i + CHUNK))
        .execute();
    }
  }

  async unprocessed(
    afterId: number,
    limit: number,
    now = new Date().toISOString(),
  ): Promise<Array<QueueRowState & Pick<Row, Read>>> {
    const due = this.def.due;
    let q = this.db
      .selectFrom(this.def.table)
      .select(['id', 'attempts', 'last_error', ...this.def.read])
      .where('processed_at', 'is', null)
      .where('id', '>', afterId);
    if (due) q = q.where((eb) => eb.or([eb(due, 'is', null), eb(due, '<=', now as never)]));
    const rows = await q.orderBy('id').limit(limit).execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), attempts: Number(r.attempts) })) as Array<
      QueueRowState & Pick<Row, Read>
    >;
  }

  async markProcessed(
    ids: number[],
    at: string,
    error: string | null = null,
    set: Partial<Row> = {},
  ): Promise<void> {
    if (ids.length === 0) return;
    const values = updateColumns(this.def, set);
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += CHUNK) {
        await trx
          .updateTable(this.def.table)
          .set({ ...values, processed_at: at, last_error: error })
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute();
      }
    });
  }

  async recordFailure(ids: number[], message: string, options: QueueFailureOptions<Row> = {}): Promise<void> {
    if (ids.length === 0) return;
    const values = updateColumns(this.def, options.set, options.retryAt);
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += CHUNK) {
        await trx
          .updateTable(this.def.table)
          .set((eb) => ({ ...values, attempts: eb('attempts', '+', 1), last_error: message }))
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute();
      }
    });
  }

  async pending<K extends keyof Row & string>(
    by: K[],
    oldest: keyof Row & string,
    where: Partial<Row> = {},
  ): Promise<Array<QueuePending<Row, K>>> {
    let q = this.db
      .selectFrom(this.def.table)
      .select((eb) => [...by, eb.fn.countAll().as('pending'), eb.fn.min(oldest).as('oldest')])
      .where('processed_at', 'is', null)
      .groupBy(by);
    for (const [col, value] of Object.entries(where)) q = q.where(col, '=', value);
    const rows = (await q.execute()) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      key: Object.fromEntries(by.map((k) => [k, r[k]])) as Pick<Row, K>,
      pending: Number(r.pending),
      oldest: r.oldest === null || r.oldest === undefined ? null : String(r.oldest),
    }));
  }

  async count(filter: QueueCountFilter<Row> = {}): Promise<number> {
    let q = this.db.selectFrom(this.def.table).select((eb) => eb.fn.countAll().as('n'));
    if (filter.processed !== undefined) q = q.where('processed_at', filter.processed ? 'is not' : 'is', null);
    for (const [col, notNull] of Object.entries(filter.notNull ?? {}))
      if (notNull !== undefined) q = q.where(col, notNull ? 'is not' : 'is', null);
    for (const [col, value] of Object.entries(filter.equals ?? {})) q = q.where(col, '=', value);
    for (const [col, value] of Object.entries(filter.atLeast ?? {})) q = q.where(col, '>=', value);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async prune(before: string): Promise<number> {
    const result = await this.db
      .deleteFrom(this.def.table)
      .where('processed_at', 'is not', null)
      .where('processed_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }

  async purge(column: keyof Row & string, value: QueueValue): Promise<number> {
    const result = await this.db
      .deleteFrom(this.def.table)
      .where(column, '=', value as never)
      .executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }

  async close(): Promise<void> {
    if (this.options.ownsWriter && this.writer !== this.db) await this.writer.destroy();
  }
}
