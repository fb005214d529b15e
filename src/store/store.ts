import { join } from 'node:path';
import type SQLite from 'better-sqlite3';
import { type Kysely, Migrator, PostgresAdapter, sql } from 'kysely';
import { backfillAccess } from './access.ts';
import { startCheckpointer } from './checkpoint/checkpointer.ts';
import { ensurePgSchema, openKysely, openSqlite } from './connection.ts';
import type { Dialect } from './dialect.ts';
import { migrations } from './migrations/index.ts';
import type { Database } from './schema.ts';
import { ensureConsoleRole } from './sql-guard/console-role.ts';
import { asStoreFault } from './store-fault.ts';

export { dropPgSchema } from './connection.ts';

/** SQLite: checkpoint the WAL from a worker thread instead of in the writer's commits (checkpoint/checkpointer.ts). */
interface SqliteStoreOptions {
  backgroundCheckpoints?: boolean;
}

export type StoreOptions =
  | ({ dataDir: string } & SqliteStoreOptions)
  | ({ file: string } & SqliteStoreOptions)
  | {
      databaseUrl: string;
      /** PostgreSQL schema to work in (created if missing, put first on search_path). */
      schema?: string;
      /** Pool size (default 10). */
      maxConnections?: number;
    };

export interface Store {
  db: Kysely<Database>;
  dialect: Dialect;
  /** The SQLite file, when the dialect is sqlite. */
  file?: string;
  /** PostgreSQL: why the query console's role could not be set up (the console then refuses to run). */
  consoleRoleProblem?: string;
  /** The PostgreSQL schema, when one was given. */
  schema?: string;
  /** The PostgreSQL URL, when the dialect is postgres (read-only queries open their own connection). */
  databaseUrl?: string;
  close(): Promise<void>;
}

/** Prepared statements kept per SQLite connection (apply.ts uses a bounded set of texts). */
const STATEMENT_CACHE_SIZE = 512;
/** SQLite page size of a new database file. */
const PAGE_SIZE = 16_384;
/** WAL bytes between automatic checkpoints (converted to pages of the file's page size). */
const WAL_AUTOCHECKPOINT_BYTES = 64 * 1024 * 1024;

/** The store's SQLite settings (the full-sync bench's bound uses them too, to compare like with like). */
export function tuneSqlite(database: SQLite.Database): void {
  // Before the first table is created (a no-op on an existing database): 16 KiB pages
  // hold ~8 drive_items rows (raw JSON included) instead of 2, and a commit writes a
  // quarter of the WAL frames (one frame header + one write each): −13 % CPU in a full sync.
  database.pragma(`page_size = ${PAGE_SIZE}`);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 10000');
  // A page of a drive (999 items, their history) is a few MB of WAL: with the default
  // 1,000-page auto-checkpoint nearly every commit checkpointed, each an fsync of the
  // database file on the event loop. Checkpoint every 64 MB of WAL instead.
  const pageSize = Number(database.pragma('page_size', { simple: true })) || 4096;
  database.pragma(`wal_autocheckpoint = ${Math.ceil(WAL_AUTOCHECKPOINT_BYTES / pageSize)}`);
}

/**
 * Opens (and creates, and migrates) the store: SQLite `<dataDir>/drivewarden.db` or a
 * given file by default, PostgreSQL when a databaseUrl is given.
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  try {
    return await open(options);
  } catch (err) {
    // A read-only file, a full disk, PostgreSQL down: said as such, naming the file.
    const where = 'databaseUrl' in options ? 'PostgreSQL' : storeFile(options);
    throw asStoreFault(err, where) ?? err;
  }
}

function storeFile(options: { dataDir: string } | { file: string }): string {
  return 'file' in options ? options.file : join(options.dataDir, 'drivewarden.db');
}

async function open(options: StoreOptions): Promise<Store> {
  let store: Store;
  if ('databaseUrl' in options) {
    const schema = options.schema;
    if (schema) await ensurePgSchema(options.databaseUrl, schema);
    const { db } = openKysely({
      dialect: 'postgres',
      databaseUrl: options.databaseUrl,
      schema,
      maxConnections: options.maxConnections ?? 10,
    });
    store = { db, dialect: 'postgres', schema, databaseUrl: options.databaseUrl, close: () => db.destroy() };
  } else {
    const file = storeFile(options);
    const database = openSqlite(file);
    tuneSqlite(database);
    const checkpointer =
      options.backgroundCheckpoints && file !== ':memory:' ? startCheckpointer(file, database) : undefined;
    const { db } = openKysely({ dialect: 'sqlite', database, statementCache: STATEMENT_CACHE_SIZE });
    // The checkpoint thread first: the writer's connection, closing last, checkpoints and removes the WAL.
    const close = async () => {
      await checkpointer?.close();
      await db.destroy();
    };
    store = { db, dialect: 'sqlite', file, close };
  }
  try {
    await migrate(store.db, store.dialect === 'postgres' ? await currentSchema(store.db) : undefined);
    // The console's role follows the tables the migrations made (sql-guard/console-role.ts).
    if (store.dialect === 'postgres') store.consoleRoleProblem = await ensureConsoleRole(store.db);
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}

/**
 * Runs every pending migration (src/store/migrations/index.ts). On PostgreSQL the
 * migration tables' schema must be named: Kysely looks for them in every schema, so a
 * second drivewarden schema in the same database would otherwise skip creating its own.
 */
export async function migrate(db: Kysely<Database>, pgSchema?: string): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(pgSchema ? { migrationTableSchema: pgSchema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`database migration ${failed ?? ''} failed: ${(error as Error).message ?? error}`);
  }
  // Effective access arrived after inventories were collected: fill it in once.
  if (results?.some((r) => r.migrationName === '0200-access' && r.status === 'Success'))
    await backfillAccess(db, db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite');
}

async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  if (!rows[0]?.schema)
    throw new Error('PostgreSQL has no current schema: check the search_path of DW_DATABASE_URL');
  return rows[0].schema;
}

/** Every table with an integration_id column (the inventory's and other areas'). */
export async function tablesWithIntegrationId(db: Kysely<Database>, dialect: Dialect): Promise<string[]> {
  if (dialect === 'postgres') {
    const { rows } = await sql<{ table_name: string }>`
      select c.table_name from information_schema.columns c
      join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
      where c.column_name = 'integration_id' and c.table_schema = current_schema()
        and t.table_type = 'BASE TABLE'`.execute(db);
    return rows.map((r) => r.table_name);
  }
  const { rows } = await sql<{ name: string }>`
    select m.name from sqlite_master m join pragma_table_info(m.name) p
    where m.type = 'table' and p.name = 'integration_id'`.execute(db);
  return rows.map((r) => r.name);
}
