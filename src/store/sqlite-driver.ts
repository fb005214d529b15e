import { accessSync, chmodSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { registerSqliteHelpers } from './dialect.ts';

/**
 * better-sqlite3's connection with drivewarden's settings (the SQL helpers registered). Apart
 * from connection.ts (Kysely over it, re-exporting this) so that the query process
 * (sql-guard/runner/), which starts for every console query, loads its driver alone: neither
 * Kysely nor node-postgres.
 */

export interface SqliteOpenOptions {
  /** Open read-only; the file must exist. */
  readonly?: boolean;
  /** Wait this long for another connection's lock (ms). */
  busyTimeoutMs?: number;
}

/**
 * A better-sqlite3 connection with the SQL helpers registered. A new file's directory is
 * created 0700 and a new file 0600: the inventory names every shared file and who can reach
 * it, so other local users must not read it (SQLite gives -wal and -shm the file's mode).
 */
export function openSqlite(file: string, options: SqliteOpenOptions = {}): SQLite.Database {
  const creating = !options.readonly && file !== ':memory:' && !existsSync(file);
  if (creating) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // SQLite opens a file it may not write read-only without a word, and the first write fails
  // later: refuse here (EACCES, a read-only store fault naming the file).
  else if (!options.readonly && file !== ':memory:') accessSync(file, constants.R_OK | constants.W_OK);
  const db = options.readonly ? new SQLite(file, { readonly: true, fileMustExist: true }) : new SQLite(file);
  if (creating) chmodSync(file, 0o600);
  if (options.busyTimeoutMs !== undefined) db.pragma(`busy_timeout = ${options.busyTimeoutMs}`);
  registerSqliteHelpers(db);
  return db;
}
