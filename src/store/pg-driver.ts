import pg from 'pg';

/**
 * node-postgres's connections with drivewarden's settings (type parsers, search_path). Apart
 * from connection.ts (Kysely over them, re-exporting this) so that the query process
 * (sql-guard/runner/), which starts for every console query, loads its driver alone: neither
 * Kysely nor better-sqlite3.
 */

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `schema` is a plain lower-case PostgreSQL identifier (it is interpolated). */
export function checkSchemaName(schema: string | undefined): void {
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) throw new Error(`invalid schema name ${schema}`);
}

// int8 → number (byte counts stay far below 2^53), timestamptz → ISO-8601 with ms.
const PG_TYPES = {
  getTypeParser(oid: number, format?: string) {
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 1184 || oid === 1114)
      return (v: string) => new Date(oid === 1114 ? `${v}Z` : v).toISOString();
    // biome-ignore lint/suspicious/noExplicitAny: pg's overloads
    return (pg.types.getTypeParser as any)(oid, format);
  },
};

export interface PgOpenOptions {
  databaseUrl: string;
  /** Schema put first on search_path (not created here: see ensurePgSchema). */
  schema?: string;
}

/** A PostgreSQL pool with drivewarden's type parsers and search_path. */
export function openPgPool(options: PgOpenOptions & { maxConnections: number }): pg.Pool {
  checkSchemaName(options.schema);
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.maxConnections,
    types: PG_TYPES,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // A connection the server closed (a restart, a terminated backend) while idle leaves the
  // pool, which opens a new one for the next query; while checked out (between the statements
  // of a transaction) its next query fails. Unheard, either 'error' event would end the process.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** One PostgreSQL client (not connected yet) with the same type parsers and search_path. */
export function pgClient(options: PgOpenOptions): pg.Client {
  checkSchemaName(options.schema);
  return new pg.Client({
    connectionString: options.databaseUrl,
    types: PG_TYPES,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
}
