import { existsSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteAdapter, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../store/schema.ts';

/**
 * The durable webhook inbox, behind one interface with two implementations:
 *
 * - `SqliteInboxStore`: its own database file next to the SQLite store
 *   (`<store>-inbox.db`, WAL, synchronous=FULL) written through its own better-sqlite3
 *   connection, synchronously. It never waits for the store's connection, which Kysely
 *   serialises for the whole process (the collector's page transactions, delta runs).
 *   A separate *file* is required: a second connection to the store's file would have
 *   to wait for SQLite's single write lock, held by the same thread between awaits.
 * - `KyselyInboxStore`: the `webhook_inbox` table of the main database (PostgreSQL, and
 *   in-memory SQLite in tests). On PostgreSQL give it a `writer` on its own small pool,
 *   so the receiver's inserts never queue for a connection behind the collector.
 *
 * An insert resolves only once its rows are committed (durable); ids grow with inserts.
 */
export interface InboxStore {
  readonly kind: 'sqlite-file' | 'database';
  /** Where the rows live (a file path, or 'main database'), for logs. */
  readonly location: string;
  /** Inserts the rows in one transaction; resolves once committed, rejects if not. */
  insert(rows: InboxInsert[]): Promise<void>;
  /** Unprocessed rows with id > afterId, by id, at most `limit`. */
  unprocessed(afterId: number, limit: number): Promise<InboxRowLite[]>;
  /** Marks rows processed at `at` (ISO) with `error` as last_error (null: clean). */
  markProcessed(ids: number[], at: string, error?: string | null): Promise<void>;
  /** A handling attempt failed: attempts + 1, last_error = message. Rows stay unprocessed. */
  recordFailure(ids: number[], message: string): Promise<void>;
  /** Unprocessed rows per integration and resource, with the oldest received_at. */
  pendingByResource(integrationId?: string): Promise<InboxPending[]>;
  /** Counts rows (benchmarks, tests, status). */
  count(filter?: InboxCountFilter): Promise<number>;
  /** Deletes processed rows processed before `before` (ISO); returns how many. */
  prune(before: string): Promise<number>;
  /** Deletes every row of an integration (integration deleted); returns how many. */
  purgeIntegration(integrationId: string): Promise<number>;
  close(): Promise<void>;
}

export interface InboxInsert {
  integration_id: string;
  subscription_id: string;
  resource: string;
  change_type: string | null;
  lifecycle_event: string | null;
  received_at: string;
}

export interface InboxRowLite {
  id: number;
  integration_id: string;
  subscription_id: string;
  resource: string;
  lifecycle_event: string | null;
}

export interface InboxPending {
  integration_id: string;
  resource: string;
  pending: number;
  oldest: string | null;
}

export interface InboxCountFilter {
  processed?: boolean;
  /** Only lifecycle events (true) or only change notifications (false). */
  lifecycle?: boolean;
  /** received_at >= this ISO time. */
  receivedSince?: string;
  integrationId?: string;
}

/** Rows per statement (SQLite caps bound parameters per statement). */
const CHUNK = 500;

const INBOX_SCHEMA = `
  create table if not exists webhook_inbox (
    id integer primary key autoincrement,
    integration_id text not null,
    subscription_id text not null,
    resource text not null,
    change_type text,
    lifecycle_event text,
    received_at text not null,
    processed_at text,
    attempts integer not null default 0,
    last_error text
  );
  create index if not exists webhook_inbox_pending on webhook_inbox (processed_at, id);
`;

export interface SqliteInboxOptions {
  /**
   * FULL (default): a committed notification survives a power loss too (one fsync per
   * group commit). NORMAL survives a process crash, not a power loss.
   */
  synchronous?: 'FULL' | 'NORMAL';
}

/** The inbox in its own SQLite file, on its own connection (synchronous calls, group-committed by the caller). */
export class SqliteInboxStore implements InboxStore {
  readonly kind = 'sqlite-file' as const;
  readonly location: string;
  private readonly db: SQLite.Database;
  private readonly stmts: ReturnType<SqliteInboxStore['prepare']>;
  private readonly insertMany: (rows: InboxInsert[]) => void;
  private readonly updateMany: (ids: number[], fn: (id: number) => void) => void;

  constructor(file: string, options: SqliteInboxOptions = {}) {
    this.location = file;
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new SQLite(file);
    // Only this process writes the file; a short busy timeout covers another process
    // reading it (`drivewarden status`). Calls are synchronous: keep it short.
    this.db.pragma('busy_timeout = 1000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    this.db.exec(INBOX_SCHEMA);
    this.stmts = this.prepare();
    this.insertMany = this.db.transaction((rows: InboxInsert[]) => {
      for (const r of rows) this.stmts.insert.run(r);
    });
    this.updateMany = this.db.transaction((ids: number[], fn: (id: number) => void) => {
      for (const id of ids) fn(id);
    });
  }

  private prepare() {
    const db = this.db;
    return {
      insert: db.prepare(
        `insert into webhook_inbox (integration_id, subscription_id, resource, change_type, lifecycle_event, received_at)
             values (@integration_id, @subscription_id, @resource, @change_type, @lifecycle_event, @received_at)`,
      ),
      unprocessed: db.prepare(
        `select id, integration_id, subscription_id, resource, lifecycle_event from webhook_inbox
         where processed_at is null and id > ? order by id limit ?`,
      ),
      markProcessed: db.prepare('update webhook_inbox set processed_at = ?, last_error = ? where id = ?'),
      failure: db.prepare('update webhook_inbox set attempts = attempts + 1, last_error = ? where id = ?'),
      prune: db.prepare('delete from webhook_inbox where processed_at is not null and processed_at < ?'),
      purge: db.prepare('delete from webhook_inbox where integration_id = ?'),
    };
  }

  async insert(rows: InboxInsert[]): Promise<void> {
    if (rows.length > 0) this.insertMany(rows);
  }

  async unprocessed(afterId: number, limit: number): Promise<InboxRowLite[]> {
    return this.stmts.unprocessed.all(afterId, limit) as InboxRowLite[];
  }

  async markProcessed(ids: number[], at: string, error: string | null = null): Promise<void> {
    if (ids.length === 0) return;
    this.updateMany(ids, (id) => this.stmts.markProcessed.run(at, error, id));
  }

  async recordFailure(ids: number[], message: string): Promise<void> {
    if (ids.length === 0) return;
    this.updateMany(ids, (id) => this.stmts.failure.run(message, id));
  }

  async pendingByResource(integrationId?: string): Promise<InboxPending[]> {
    const rows = this.db
      .prepare(
        `select integration_id, resource, count(*) as pending, min(received_at) as oldest from webhook_inbox
         where processed_at is null ${integrationId === undefined ? '' : 'and integration_id = ?'}
         group by integration_id, resource`,
      )
      .all(...(integrationId === undefined ? [] : [integrationId])) as InboxPending[];
    return rows.map((r) => ({ ...r, pending: Number(r.pending) }));
  }

  async count(filter: InboxCountFilter = {}): Promise<number> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.processed !== undefined)
      where.push(`processed_at is ${filter.processed ? 'not null' : 'null'}`);
    if (filter.lifecycle !== undefined)
      where.push(`lifecycle_event is ${filter.lifecycle ? 'not null' : 'null'}`);
    if (filter.receivedSince !== undefined) {
      where.push('received_at >= ?');
      params.push(filter.receivedSince);
    }
    if (filter.integrationId !== undefined) {
      where.push('integration_id = ?');
      params.push(filter.integrationId);
    }
    const row = this.db
      .prepare(
        `select count(*) as n from webhook_inbox${where.length ? ` where ${where.join(' and ')}` : ''}`,
      )
      .get(...params) as { n: number };
    return Number(row.n);
  }

  async prune(before: string): Promise<number> {
    return this.stmts.prune.run(before).changes;
  }

  async purgeIntegration(integrationId: string): Promise<number> {
    return this.stmts.purge.run(integrationId).changes;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export interface KyselyInboxOptions {
  /** Inserts go through this instance (e.g. a dedicated pool); default `db`. */
  writer?: Kysely<Database>;
  /** Destroy `writer` on close (when the inbox created it). */
  ownsWriter?: boolean;
}

/** The inbox as the `webhook_inbox` table of the main database (PostgreSQL, in-memory SQLite). */
export class KyselyInboxStore implements InboxStore {
  readonly kind = 'database' as const;
  readonly location = 'main database';
  private readonly writer: Kysely<Database>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: KyselyInboxOptions = {},
  ) {
    this.writer = options.writer ?? db;
  }

  async insert(rows: InboxInsert[]): Promise<void> {
    if (rows.length === 0) return;
    const values = rows.map((r) => ({ ...r, processed_at: null, last_error: null }));
    await this.writer.transaction().execute(async (trx) => {
      for (let i = 0; i < values.length; i += CHUNK) {
        await trx
          .insertInto('webhook_inbox')
          .values(values.slice(i, i + CHUNK))
          .execute();
      }
    });
  }

  async unprocessed(afterId: number, limit: number): Promise<InboxRowLite[]> {
    const rows = await this.db
      .selectFrom('webhook_inbox')
      .select(['id', 'integration_id', 'subscription_id', 'resource', 'lifecycle_event'])
      .where('processed_at', 'is', null)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async markProcessed(ids: number[], at: string, error: string | null = null): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += CHUNK) {
        await trx
          .updateTable('webhook_inbox')
          .set({ processed_at: at, last_error: error })
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute();
      }
    });
  }

  async recordFailure(ids: number[], message: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < ids.length; i += CHUNK) {
        await trx
          .updateTable('webhook_inbox')
          .set((eb) => ({ attempts: eb('attempts', '+', 1), last_error: message }))
          .where('id', 'in', ids.slice(i, i + CHUNK))
          .execute();
      }
    });
  }

  async pendingByResource(integrationId?: string): Promise<InboxPending[]> {
    let q = this.db
      .selectFrom('webhook_inbox')
      .select((eb) => [
        'integration_id',
        'resource',
        eb.fn.countAll().as('pending'),
        eb.fn.min('received_at').as('oldest'),
      ])
      .where('processed_at', 'is', null)
      .groupBy(['integration_id', 'resource']);
    if (integrationId !== undefined) q = q.where('integration_id', '=', integrationId);
    const rows = await q.execute();
    return rows.map((r) => ({
      integration_id: r.integration_id,
      resource: r.resource,
      pending: Number(r.pending),
      oldest: r.oldest === null || r.oldest === undefined ? null : String(r.oldest),
    }));
  }

  async count(filter: InboxCountFilter = {}): Promise<number> {
    let q = this.db.selectFrom('webhook_inbox').select((eb) => eb.fn.countAll().as('n'));
    if (filter.processed !== undefined) q = q.where('processed_at', filter.processed ? 'is not' : 'is', null);
    if (filter.lifecycle !== undefined)
      q = q.where('lifecycle_event', filter.lifecycle ? 'is not' : 'is', null);
    if (filter.receivedSince !== undefined) q = q.where('received_at', '>=', filter.receivedSince);
    if (filter.integrationId !== undefined) q = q.where('integration_id', '=', filter.integrationId);
    const row = await q.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async prune(before: string): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_inbox')
      .where('processed_at', 'is not', null)
      .where('processed_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }

  async purgeIntegration(integrationId: string): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_inbox')
      .where('integration_id', '=', integrationId)
      .executeTakeFirst();
    return Number(result.numDeletedRows ?? 0);
  }

  async close(): Promise<void> {
    if (this.options.ownsWriter && this.writer !== this.db) await this.writer.destroy();
  }
}

/** The inbox file that belongs to a SQLite store file: `<dir>/<name>-inbox.db`. */
export function inboxFileFor(storeFile: string): string {
  const ext = extname(storeFile);
  return join(dirname(storeFile), `${basename(storeFile, ext)}-inbox.db`);
}

/** The main database file of a SQLite Kysely instance ('' for in-memory), or undefined on other dialects. */
export async function sqliteMainFile(db: Kysely<Database>): Promise<string | undefined> {
  if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return undefined;
  const { rows } = await sql<{
    file: string;
  }>`select file from pragma_database_list where name = 'main'`.execute(db);
  return rows[0]?.file ?? '';
}

export type InboxChoice =
  | InboxStore
  /** The `webhook_inbox` table of the main database, through the main instance. */
  | { kind: 'main' }
  /** A SQLite inbox file. */
  | { kind: 'sqlite'; file: string; synchronous?: 'FULL' | 'NORMAL' }
  /** The main PostgreSQL database through a dedicated pool for the receiver's inserts. */
  | { kind: 'postgres'; databaseUrl: string; schema?: string; connections?: number };

/**
 * Opens the inbox for a store. Default: on a SQLite store file, the sibling inbox file
 * (`inboxFileFor`); otherwise (PostgreSQL, in-memory SQLite) the main database's table.
 * The returned store is the caller's to close (an InboxStore passed in is returned as is).
 */
export async function openInbox(db: Kysely<Database>, choice?: InboxChoice): Promise<InboxStore> {
  if (choice && 'insert' in choice) return choice;
  if (choice?.kind === 'main') return new KyselyInboxStore(db);
  if (choice?.kind === 'sqlite')
    return new SqliteInboxStore(choice.file, { synchronous: choice.synchronous });
  if (choice?.kind === 'postgres') {
    const schema = choice.schema;
    if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
      throw new Error(`invalid schema name ${schema}`);
    const pool = new pg.Pool({
      connectionString: choice.databaseUrl,
      max: choice.connections ?? 2,
      ...(schema ? { options: `-c search_path=${schema}` } : {}),
    });
    const writer = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return new KyselyInboxStore(db, { writer, ownsWriter: true });
  }
  const file = await sqliteMainFile(db);
  if (file) return new SqliteInboxStore(inboxFileFor(file));
  return new KyselyInboxStore(db);
}

/**
 * The inbox to read from another process (`drivewarden status`): the SQLite store's inbox
 * file when it exists (never created here), else the main database's table. Close it.
 */
export async function openInboxForReading(db: Kysely<Database>): Promise<InboxStore> {
  const file = await sqliteMainFile(db);
  if (file && existsSync(inboxFileFor(file))) return new SqliteInboxStore(inboxFileFor(file));
  return new KyselyInboxStore(db);
}
