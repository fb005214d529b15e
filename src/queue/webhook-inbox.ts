import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { type Kysely, SqliteAdapter, sql } from 'kysely';
import { openKysely } from '../store/connection.ts';
import type { Database } from '../store/schema.ts';
import {
  type DurableQueue,
  type QueueDefinition,
  SqliteFileQueue,
  type SqliteFileQueueOptions,
  TableQueue,
  type TableQueueOptions,
} from './durable-queue.ts';

/**
 * The durable webhook inbox: the first user of the durable queue (./durable-queue.ts),
 * behind one interface with two implementations:
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

/** What a receiver needs of the inbox: the insert (the server thread's only write). */
export type InboxWriter = Pick<InboxStore, 'insert'>;

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

/** The inbox as a durable queue: the `webhook_inbox` table (migration 0100 / its own file). */
export const WEBHOOK_INBOX: QueueDefinition<InboxInsert> = {
  table: 'webhook_inbox',
  columns: {
    integration_id: 'text not null',
    subscription_id: 'text not null',
    resource: 'text not null',
    change_type: 'text',
    lifecycle_event: 'text',
    received_at: 'text not null',
  },
  read: ['integration_id', 'subscription_id', 'resource', 'lifecycle_event'],
};

type InboxRead = 'integration_id' | 'subscription_id' | 'resource' | 'lifecycle_event';

/** The inbox's own questions, answered through the queue's generic ones. */
class InboxOverQueue implements InboxStore {
  constructor(private readonly queue: DurableQueue<InboxInsert, InboxRead>) {}

  get kind() {
    return this.queue.kind;
  }

  get location() {
    return this.queue.location;
  }

  insert(rows: InboxInsert[]): Promise<void> {
    return this.queue.insert(rows);
  }

  unprocessed(afterId: number, limit: number): Promise<InboxRowLite[]> {
    return this.queue.unprocessed(afterId, limit);
  }

  markProcessed(ids: number[], at: string, error: string | null = null): Promise<void> {
    return this.queue.markProcessed(ids, at, error);
  }

  recordFailure(ids: number[], message: string): Promise<void> {
    return this.queue.recordFailure(ids, message);
  }

  async pendingByResource(integrationId?: string): Promise<InboxPending[]> {
    const groups = await this.queue.pending(
      ['integration_id', 'resource'],
      'received_at',
      integrationId === undefined ? {} : { integration_id: integrationId },
    );
    return groups.map((g) => ({ ...g.key, pending: g.pending, oldest: g.oldest }));
  }

  count(filter: InboxCountFilter = {}): Promise<number> {
    return this.queue.count({
      processed: filter.processed,
      notNull: filter.lifecycle === undefined ? {} : { lifecycle_event: filter.lifecycle },
      equals: filter.integrationId === undefined ? {} : { integration_id: filter.integrationId },
      atLeast: filter.receivedSince === undefined ? {} : { received_at: filter.receivedSince },
    });
  }

  prune(before: string): Promise<number> {
    return this.queue.prune(before);
  }

  purgeIntegration(integrationId: string): Promise<number> {
    return this.queue.purge('integration_id', integrationId);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}

export type SqliteInboxOptions = SqliteFileQueueOptions;

/** The inbox in its own SQLite file, on its own connection (synchronous calls, group-committed by the caller). */
export class SqliteInboxStore extends InboxOverQueue {
  constructor(file: string, options: SqliteInboxOptions = {}) {
    super(new SqliteFileQueue(WEBHOOK_INBOX, file, options));
  }
}

export type KyselyInboxOptions = TableQueueOptions;

/** The inbox as the `webhook_inbox` table of the main database (PostgreSQL, in-memory SQLite). */
export class KyselyInboxStore extends InboxOverQueue {
  constructor(db: Kysely<Database>, options: KyselyInboxOptions = {}) {
    super(new TableQueue(WEBHOOK_INBOX, db, options));
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
    const { db: writer } = openKysely({
      dialect: 'postgres',
      databaseUrl: choice.databaseUrl,
      schema: choice.schema,
      maxConnections: choice.connections ?? 2,
    });
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
