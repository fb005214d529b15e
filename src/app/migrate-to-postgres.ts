import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sql } from 'kysely';
import { inboxFileFor } from '../queue/webhook-inbox.ts';
import { openKysely, openSqlite, pgClient } from '../store/connection.ts';
import { migrations } from '../store/migrations/index.ts';
import { readServiceState } from '../store/service-state.ts';
import { openStore } from '../store/store.ts';
import { type CopyOptions, copyTables, type TableReport } from '../store/transfer/copy.ts';
import { planCopy, sqliteTables } from '../store/transfer/plan.ts';
import { SecretBox } from '../util/secret-box.ts';

/**
 * `drivewarden migrate --from <SQLite data dir or file> --to postgres://…`: an embedded
 * installation copied into PostgreSQL at the same migration version (src/store/transfer/
 * does the copy and the checks). Sealed secrets are copied as they are, still sealed: the
 * PostgreSQL installation needs the key that sealed them, checked here to open them.
 */

export interface MigrateToPostgresOptions {
  /** A SQLite data directory (holding drivewarden.db) or the database file itself. */
  from: string;
  /** postgres:// URL of the target (its search_path schema; created and migrated if new). */
  to: string;
  /** DW_SECRET_KEY, when the source's key is configured rather than in its secret.key file. */
  secretKey?: string;
  copy?: CopyOptions;
}

export interface MigrateReport {
  sourceFile: string;
  /** The last migration both databases are at. */
  migration: string;
  tables: TableReport[];
  rows: number;
  /** Sealed values (every *_enc column) copied; 0 = no key needed. */
  sealedSecrets: number;
  /** Where the key that opens them is: DW_SECRET_KEY or a secret.key file. */
  keyFrom?: string;
  /** The source's review-link signing key, when it has one (serve hosts need the same file). */
  reviewKeyFile?: string;
  /** Unprocessed webhook notifications left in the SQLite inbox file (not copied). */
  inboxPending: number;
}

export async function migrateToPostgres(options: MigrateToPostgresOptions): Promise<MigrateReport> {
  const sourceFile = sourceFileOf(options.from);
  const database = openSqlite(sourceFile, { readonly: true });
  const source = openKysely({ dialect: 'sqlite', database });
  try {
    // One read transaction: every table comes from the same snapshot.
    database.exec('begin');
    const sourceMigrations = await migrationNames(database);
    const known = Object.keys(migrations);
    const unknown = sourceMigrations.filter((m) => !known.includes(m));
    if (unknown.length > 0)
      throw new Error(
        `${sourceFile} was written by a newer drivewarden (migrations ${unknown.join(', ')}): copy it with that version`,
      );
    const missing = known.filter((m) => !sourceMigrations.includes(m));
    if (missing.length > 0)
      throw new Error(
        `${sourceFile} is at an older migration version (missing ${missing.join(', ')}): open it once with this ` +
          `version so it migrates (e.g. DW_DATA_DIR=${dirname(sourceFile)} drivewarden status), then copy it`,
      );
    const service = await readServiceState(source.db);
    if (service.running)
      throw new Error(
        `the drivewarden service (pid ${service.pid} on ${service.hostname}) is writing ${sourceFile}: ` +
          'stop it first, so that nothing it writes after the copy is lost',
      );
    const sealed = sealedValues(database);
    const keyFrom = sealed.count > 0 ? checkKey(sourceFile, sealed.samples, options.secretKey) : undefined;

    // The target: created and migrated like any drivewarden start-up, then compared.
    const store = await openStore({ databaseUrl: options.to, maxConnections: 1 });
    let targetMigrations: string[];
    try {
      const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
        store.db,
      );
      targetMigrations = rows.map((r) => r.name);
    } finally {
      await store.close();
    }
    if (targetMigrations.join() !== sourceMigrations.join())
      throw new Error(
        `the target is at migrations ${targetMigrations.at(-1)}, the source at ${sourceMigrations.at(-1)}: they must match`,
      );

    const target = pgClient({ databaseUrl: options.to });
    await target.connect();
    let tables: TableReport[];
    try {
      const plans = await planCopy(target, sqliteTables(database));
      tables = await copyTables(database, target, plans, {
        ...options.copy,
        seededTables: await tablesSeededByMigrations(),
      });
    } finally {
      await target.end();
    }
    return {
      sourceFile,
      migration: sourceMigrations.at(-1) ?? '',
      tables,
      rows: tables.reduce((n, t) => n + t.targetRows, 0),
      sealedSecrets: sealed.count,
      ...(keyFrom ? { keyFrom } : {}),
      ...(existsSync(join(dirname(sourceFile), 'review-links.key'))
        ? { reviewKeyFile: join(dirname(sourceFile), 'review-links.key') }
        : {}),
      inboxPending: inboxPending(sourceFile),
    };
  } finally {
    if (database.inTransaction) database.exec('rollback');
    await source.close();
  }
}

function sourceFileOf(from: string): string {
  if (!existsSync(from)) throw new Error(`--from ${from}: no such file or directory`);
  const file = statSync(from).isDirectory() ? join(from, 'drivewarden.db') : from;
  if (!existsSync(file)) throw new Error(`--from ${from}: no drivewarden.db in it`);
  return file;
}

async function migrationNames(database: ReturnType<typeof openSqlite>): Promise<string[]> {
  const table = database.prepare(
    `select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'`,
  );
  if (!table.get())
    throw new Error(`${database.name} is not a drivewarden database (no migrations recorded)`);
  return database.prepare('select name from kysely_migration order by name').pluck().all() as string[];
}

/** Every non-null value of a column named *_enc (sealed by SecretBox), and one sample per column. */
function sealedValues(database: ReturnType<typeof openSqlite>): { count: number; samples: string[] } {
  const columns = database
    .prepare(
      `select m.name as tbl, p.name as col from sqlite_master m join pragma_table_info(m.name) p
       where m.type = 'table' and p.name like '%\\_enc' escape '\\'`,
    )
    .all() as Array<{ tbl: string; col: string }>;
  let count = 0;
  const samples: string[] = [];
  for (const { tbl, col } of columns) {
    const where = `from "${tbl}" where "${col}" is not null`;
    count += Number(database.prepare(`select count(*) ${where}`).pluck().get());
    const one = database.prepare(`select "${col}" ${where} limit 1`).pluck().get();
    if (typeof one === 'string') samples.push(one);
  }
  return { count, samples };
}

/**
 * The key that sealed the source's secrets must come along (DW_SECRET_KEY on every host of
 * the PostgreSQL installation). It is checked to open them now, not at the first sync there.
 */
function checkKey(sourceFile: string, samples: string[], secretKey?: string): string {
  const keyFile = join(dirname(sourceFile), 'secret.key');
  let box: SecretBox;
  let keyFrom: string;
  if (secretKey) {
    box = SecretBox.fromKey(secretKey);
    keyFrom = 'DW_SECRET_KEY';
  } else if (existsSync(keyFile)) {
    box = SecretBox.fromKey(readFileSync(keyFile, 'utf8').trim());
    keyFrom = keyFile;
  } else
    throw new Error(
      `the source holds sealed secrets but ${keyFile} does not exist and DW_SECRET_KEY is not set: ` +
        'set DW_SECRET_KEY to the key that sealed them',
    );
  for (const sealed of samples)
    try {
      box.decrypt(sealed);
    } catch {
      throw new Error(
        `the key from ${keyFrom} does not open the source's sealed secrets: use the key that sealed them ` +
          '(DW_SECRET_KEY, or the secret.key of the data directory that wrote them)',
      );
    }
  return keyFrom;
}

/** Tables a fresh, migrated database already has rows in (their rows are replaced by the copy). */
async function tablesSeededByMigrations(): Promise<Set<string>> {
  const fresh = await openStore({ file: ':memory:' });
  try {
    const seeded = new Set<string>();
    const { rows } = await sql<{ name: string }>`
      select name from sqlite_master where type = 'table' and name not like 'sqlite%'`.execute(fresh.db);
    for (const { name } of rows) {
      const { rows: any } = await sql<{
        one: number;
      }>`select 1 as one from ${sql.table(name)} limit 1`.execute(fresh.db);
      if (any.length > 0) seeded.add(name);
    }
    return seeded;
  } finally {
    await fresh.close();
  }
}

/** Unprocessed rows of the SQLite store's own inbox file: the first delta poll covers what they announced. */
function inboxPending(sourceFile: string): number {
  const file = inboxFileFor(sourceFile);
  if (!existsSync(file)) return 0;
  const inbox = openSqlite(file, { readonly: true });
  try {
    return Number(
      inbox.prepare('select count(*) from webhook_inbox where processed_at is null').pluck().get(),
    );
  } catch {
    return 0;
  } finally {
    inbox.close();
  }
}
