import type SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type Driver,
  Kysely,
  PostgresDialect,
  type SchemaMetadata,
  SqliteDialect,
  type SqliteDialectConfig,
  sql,
  type TableMetadata,
} from 'kysely';
import type { Dialect } from './dialect.ts';
import { checkSchemaName, openPgPool, type PgOpenOptions, pgClient } from './pg-driver.ts';
import type { Database } from './schema.ts';
import { dropConsoleRole } from './sql-guard/console-role.ts';
import { sqlProfileLog } from './sql-profile.ts';
import { CachingSqliteDatabase } from './sqlite-statements.ts';

/**
 * The one place database connections are opened: the store, the webhook inbox, the
 * HTTP server thread, read-only queries and tests all come through here (the drivers'
 * own connections in ./sqlite-driver.ts and ./pg-driver.ts, re-exported), so every SQLite connection has the SQL helpers
 * registered and every PostgreSQL connection has the same type parsers and search_path.
 */

export { checkSchemaName, openPgPool, type PgOpenOptions, pgClient } from './pg-driver.ts';
export { openSqlite, type SqliteOpenOptions } from './sqlite-driver.ts';

/** Creates the schema if missing. */
export async function ensurePgSchema(databaseUrl: string, schema: string): Promise<void> {
  checkSchemaName(schema);
  const client = pgClient({ databaseUrl });
  await client.connect();
  try {
    await client.query(`create schema if not exists "${schema}"`);
  } finally {
    await client.end();
  }
}

/** Drops a PostgreSQL schema (tests). */
export async function dropPgSchema(databaseUrl: string, schema: string): Promise<void> {
  checkSchemaName(schema);
  const client = pgClient({ databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
    const { rows } = await client.query('select current_database() as d');
    await dropConsoleRole((text) => client.query(text), rows[0].d, schema);
  } finally {
    await client.end();
  }
}

export type ConnectionSpec =
  | {
      dialect: 'sqlite';
      /** An open connection (openSqlite); the Kysely instance closes it. */
      database: SQLite.Database;
      /** Cache this many prepared statements by SQL text (CachingSqliteDatabase); 0 = none. */
      statementCache?: number;
    }
  | ({ dialect: 'postgres'; maxConnections: number } & PgOpenOptions);

export interface Connection {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

/** A Kysely instance over a SQLite connection or a new PostgreSQL pool. */
export function openKysely(spec: ConnectionSpec): Connection {
  let db: Kysely<Database>;
  if (spec.dialect === 'sqlite') {
    const database = spec.statementCache
      ? new CachingSqliteDatabase(spec.database, spec.statementCache)
      : spec.database;
    // Read-only connections (the server thread, query children) keep deferred transactions.
    db = new Kysely<Database>({
      dialect: spec.database.readonly
        ? new SqliteDialect({ database })
        : new ImmediateSqliteDialect({ database }, spec.database),
      log: sqlProfileLog(),
    });
  } else {
    db = new Kysely<Database>({
      dialect: new CurrentSchemaPostgresDialect({ pool: openPgPool(spec) }),
      log: sqlProfileLog(),
    });
  }
  return { db, dialect: spec.dialect, close: () => db.destroy() };
}

/**
 * SQLite whose transactions start as writers (`begin immediate`). A deferred transaction that
 * reads, then writes, fails with SQLITE_BUSY_SNAPSHOT when another connection committed in
 * between (a CLI command beside `serve`); an immediate one waits for the write lock at its
 * start (busy_timeout) and then cannot be overtaken.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(
    config: SqliteDialectConfig,
    private readonly raw: SQLite.Database,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    const driver = super.createDriver();
    const begin = CompiledQuery.raw('begin immediate');
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await untilWriteLock(() => connection.executeQuery(begin));
    };
    // A statement outside a transaction is its own transaction: refused with SQLITE_BUSY, it
    // did nothing, and runs again the same way. Inside one, `begin immediate` holds the lock.
    // (SQLite has one connection here: Kysely hands out the same object every time.)
    const acquire = driver.acquireConnection.bind(driver);
    const waiting = new WeakSet<DatabaseConnection>();
    driver.acquireConnection = async () => {
      const connection = await acquire();
      if (!waiting.has(connection)) {
        waiting.add(connection);
        const execute = connection.executeQuery.bind(connection);
        connection.executeQuery = (query) =>
          this.raw.inTransaction ? execute(query) : untilWriteLock(() => execute(query));
      }
      return connection;
    };
    return driver;
  }
}

/** How long a transaction's start waits for the write lock in all (the store's busy_timeout). */
export const WRITE_LOCK_WAIT_MS = 10_000;

/**
 * Runs `start` (a `begin immediate`, or a statement outside a transaction) again while SQLite answers SQLITE_BUSY, with a growing
 * pause that lets the event loop run, until `WRITE_LOCK_WAIT_MS` have passed.
 *
 * busy_timeout should make SQLite wait by itself, but SQLite does not always call the busy
 * handler: a full sync failed drives with "database is locked" at once (no 10 s wait) while
 * the checkpoint thread's RESTART checkpoint held the write lock for 150–500 ms (seen under
 * `--cpu-prof`, every ~10 s). Nothing of the transaction has run when `begin` fails, so
 * starting it again is safe; waiting here also keeps the event loop turning, where SQLite's
 * own busy wait sleeps on the thread.
 */
export async function untilWriteLock<T>(start: () => Promise<T>, waitMs = WRITE_LOCK_WAIT_MS): Promise<T> {
  const deadline = performance.now() + waitMs;
  for (let pause = 2; ; pause = Math.min(pause * 2, 100)) {
    try {
      return await start();
    } catch (err) {
      if (!isSqliteBusy(err) || performance.now() + pause > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

function isSqliteBusy(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * PostgreSQL whose introspection sees the connection's own schema only (the first on its
 * search_path). Kysely's migrator introspects to find its migration tables; the stock
 * introspector reads every schema of the database and resolves names by text
 * (pg_get_serial_sequence), so a schema another process drops meanwhile fails it with
 * "schema … does not exist" (seen with parallel test processes, each in its own schema).
 */
class CurrentSchemaPostgresDialect extends PostgresDialect {
  // biome-ignore lint/suspicious/noExplicitAny: Kysely hands the introspector an untyped instance
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}

class CurrentSchemaIntrospector implements DatabaseIntrospector {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select current_schema() as name`.execute(this.db);
    return rows.filter((r) => r.name !== null);
  }

  /** Tables and views of the current schema, with their column names (types as PostgreSQL names them). */
  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{
      table_name: string;
      table_schema: string;
      table_type: string;
      column_name: string | null;
      data_type: string | null;
      is_nullable: string | null;
      column_default: string | null;
    }>`select t.table_name, t.table_schema, t.table_type, c.column_name, c.data_type, c.is_nullable, c.column_default
       from information_schema.tables t
       left join information_schema.columns c on c.table_schema = t.table_schema and c.table_name = t.table_name
       where t.table_schema = current_schema()
       order by t.table_name, c.ordinal_position`.execute(this.db);
    const tables = new Map<string, TableMetadata>();
    for (const r of rows) {
      let table = tables.get(r.table_name);
      if (!table) {
        table = { name: r.table_name, schema: r.table_schema, isView: r.table_type === 'VIEW', columns: [] };
        tables.set(r.table_name, table);
      }
      if (r.column_name)
        (table.columns as TableMetadata['columns'][number][]).push({
          name: r.column_name,
          dataType: r.data_type ?? 'unknown',
          isNullable: r.is_nullable === 'YES',
          isAutoIncrementing: (r.column_default ?? '').startsWith('nextval('),
          hasDefaultValue: r.column_default !== null,
        });
    }
    return [...tables.values()];
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}
