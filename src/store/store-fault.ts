/**
 * Store faults: the database itself failing (disk full, a read-only file, PostgreSQL down or
 * restarting, an I/O error), as opposed to bad data. They are no error of a Graph resource: a
 * sync that meets one stops, since it can neither write the inventory nor record the failure in
 * the store, and says which fault it met. What was committed before stays (each page commits
 * with its cursor), so the next run, once the fault clears, resumes from there.
 */

export type StoreFaultKind = 'full' | 'readOnly' | 'unavailable' | 'io';

const HINTS: Record<StoreFaultKind, string> = {
  full: 'store full: free disk space (or raise the database quota)',
  readOnly: 'store read-only: drivewarden must be able to write the database file and its directory',
  unavailable: 'store unavailable: the database server is down or restarting',
  io: 'store I/O error: check the disk holding the database',
};

export class StoreFaultError extends Error {
  override readonly name = 'StoreFaultError';
  constructor(
    readonly kind: StoreFaultKind,
    /** The SQLite file or 'PostgreSQL'. */
    readonly where: string,
    cause: unknown,
  ) {
    const e = cause as { message?: string; code?: string };
    super(
      `${HINTS[kind]} (${where}): ${e?.message ?? String(cause)}${e?.code ? ` [${e.code}]` : ''}; ` +
        'what was committed is kept and the next run resumes from it',
      { cause },
    );
  }
}

// SQLite extended codes as better-sqlite3 names them (SqliteError.code).
const SQLITE: Array<[RegExp, StoreFaultKind]> = [
  [/^SQLITE_FULL$/, 'full'],
  [/^SQLITE_READONLY/, 'readOnly'],
  [/^SQLITE_(IOERR|CANTOPEN)/, 'io'],
];
// PostgreSQL SQLSTATEs: disk_full, read_only_sql_transaction, admin/crash shutdown,
// cannot_connect_now, connection exceptions (class 08).
const PG_STATES: Record<string, StoreFaultKind> = {
  '53100': 'full',
  '25006': 'readOnly',
  '57P01': 'unavailable',
  '57P02': 'unavailable',
  '57P03': 'unavailable',
};
/** Socket errors of the pg driver (its Error carries the code itself; fetch's wrap it in a cause). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH']);
/** File system errors creating or opening the SQLite file (Node's Error carries code and syscall). */
const FS_CODES: Record<string, StoreFaultKind> = {
  EACCES: 'readOnly',
  EPERM: 'readOnly',
  EROFS: 'readOnly',
  ENOSPC: 'full',
};

/** The kind of store fault `err` is, if it is one. */
export function storeFaultKind(err: unknown): StoreFaultKind | undefined {
  if (err instanceof StoreFaultError) return err.kind;
  if (!(err instanceof Error) || err instanceof TypeError) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (err.name === 'SqliteError') return SQLITE.find(([re]) => re.test(code))?.[1];
    if (PG_STATES[code]) return PG_STATES[code];
    if (code.startsWith('08') && code.length === 5) return 'unavailable';
    if (SOCKET_CODES.has(code) && 'syscall' in err) return 'unavailable';
    if (FS_CODES[code] && 'syscall' in err) return FS_CODES[code];
  }
  // pg's own wording when the server closes a session under a query.
  if (
    /^Connection terminated( unexpectedly)?$|^Client has encountered a connection error and is not queryable$/.test(
      err.message,
    )
  )
    return 'unavailable';
  return undefined;
}

/** `err` as a StoreFaultError naming where it happened, or undefined when it is no store fault. */
export function asStoreFault(err: unknown, where: string): StoreFaultError | undefined {
  if (err instanceof StoreFaultError) return err;
  const kind = storeFaultKind(err);
  return kind ? new StoreFaultError(kind, where, err) : undefined;
}
