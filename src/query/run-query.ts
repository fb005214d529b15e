import type SQLite from 'better-sqlite3';
import type pg from 'pg';
import { openSqlite, pgClient } from '../store/connection.ts';

/**
 * Read-only SQL over the inventory, for people (CLI, later the REST API and web app) and
 * for rules. Safety does not rest on parsing SQL: SQLite runs it on a connection opened
 * read-only and refuses statements that are not readers; PostgreSQL runs it inside a
 * READ ONLY transaction with a statement timeout, rolled back afterwards. The SQL helpers
 * (dw_now, dw_days_between, …: store/dialect.ts) are there on both.
 */

export interface QueryResult {
  columns: string[];
  rows: Array<Record<string, unknown>>;
  /** True when more rows existed than `limit`. */
  truncated: boolean;
}

export class QueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

export interface QueryTarget {
  sqliteFile?: string;
  databaseUrl?: string;
  schema?: string;
}

export async function runReadOnlyQuery(
  target: QueryTarget,
  sqlText: string,
  opts: { limit?: number; timeoutMs?: number } = {},
): Promise<QueryResult> {
  const limit = opts.limit ?? 1000;
  const text = sqlText.trim().replace(/;\s*$/, '');
  if (!text) throw new QueryError('empty query');
  if (target.databaseUrl) return queryPostgres(target, text, limit, opts.timeoutMs ?? 30_000);
  if (!target.sqliteFile) throw new QueryError('no store to query');
  return querySqlite(target.sqliteFile, text, limit);
}

function querySqlite(file: string, text: string, limit: number): QueryResult {
  const db = openSqlite(file, { readonly: true });
  try {
    let stmt: SQLite.Statement;
    try {
      stmt = db.prepare(text);
    } catch (err) {
      throw new QueryError(`SQL error: ${(err as Error).message}`);
    }
    if (!stmt.reader) throw new QueryError('only queries that return rows (SELECT, WITH …) are allowed');
    const columns = stmt.columns().map((c) => c.name);
    const rows: Array<Record<string, unknown>> = [];
    let truncated = false;
    try {
      for (const row of stmt.iterate() as IterableIterator<Record<string, unknown>>) {
        if (rows.length === limit) {
          truncated = true;
          break;
        }
        rows.push(row);
      }
    } catch (err) {
      throw new QueryError(`SQL error: ${(err as Error).message}`);
    }
    return { columns, rows, truncated };
  } finally {
    db.close();
  }
}

async function queryPostgres(
  target: QueryTarget,
  text: string,
  limit: number,
  timeoutMs: number,
): Promise<QueryResult> {
  const client = pgClient({ databaseUrl: target.databaseUrl! });
  await client.connect();
  try {
    await client.query('begin read only');
    await client.query(`set local statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
    if (target.schema) await client.query(`set local search_path = "${target.schema.replace(/"/g, '')}"`);
    let result: pg.QueryResult;
    try {
      result = await client.query({ text: `select * from (${text}) as q limit ${limit + 1}` });
    } catch (err) {
      throw new QueryError(`SQL error: ${(err as Error).message}`);
    }
    const rows = result.rows as Array<Record<string, unknown>>;
    return {
      columns: result.fields.map((f) => f.name),
      rows: rows.slice(0, limit),
      truncated: rows.length > limit,
    };
  } finally {
    await client.query('rollback').catch(() => undefined);
    await client.end();
  }
}

/** Renders rows as an aligned text table (CLI). */
export function formatTable(result: QueryResult): string {
  const cell = (v: unknown) =>
    v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  const widths = result.columns.map((c) =>
    Math.min(60, Math.max(c.length, ...result.rows.map((r) => cell(r[c]).length))),
  );
  const line = (values: string[]) =>
    values
      .map((v, i) => v.slice(0, widths[i]).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [line(result.columns), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of result.rows) out.push(line(result.columns.map((c) => cell(row[c]))));
  out.push(
    `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ', truncated' : ''})`,
  );
  return out.join('\n');
}
