import type pg from 'pg';
import { pgClient } from '../../connection.ts';
import type { QueryTarget } from '../check-query.ts';
import { checkPostgresQuery, postgresError } from '../postgres-guard.ts';
import { beginReadOnly } from '../postgres-session.ts';
import { RowCollector } from './collector.ts';
import type { ChildMessage, QueryLimits } from './protocol.ts';

/** Rows fetched per round trip. */
const FETCH_BATCH = 500;

/**
 * Runs a query on PostgreSQL: a READ ONLY transaction with a statement timeout, the guard,
 * then DECLARE CURSOR (which takes one SELECT and nothing else) and FETCH in batches until
 * the rows run out or a limit is reached.
 */
export async function executePostgres(
  target: QueryTarget,
  text: string,
  values: unknown[],
  limits: QueryLimits,
  checkOnly = false,
): Promise<Extract<ChildMessage, { type: 'result' }>> {
  const client = pgClient({ databaseUrl: target.databaseUrl!, schema: target.schema });
  await client.connect();
  try {
    const session = await beginReadOnly(client, {
      schema: target.schema,
      timeoutMs: limits.timeoutMs,
      role: target.pgRole,
    });
    const checked = await checkPostgresQuery(session.execute, text, values, { schema: session.schema });
    if (checkOnly) {
      await session.end();
      return { type: 'result', columns: [], rows: [], truncated: null };
    }
    const collector = new RowCollector(limits);
    let columns: string[] = [];
    try {
      await session.execute(`declare dw_query no scroll cursor for ${checked}`, values);
      for (;;) {
        const batch: pg.QueryResult<unknown[]> = await client.query({
          text: `fetch forward ${FETCH_BATCH} from dw_query`,
          rowMode: 'array',
        });
        columns = batch.fields.map((f) => f.name);
        const full = batch.rows.some((row) => !collector.add(row));
        if (full || batch.rows.length < FETCH_BATCH) break;
      }
    } catch (err) {
      throw postgresError(err);
    }
    await session.end();
    return { type: 'result', columns, rows: collector.rows, truncated: collector.truncated };
  } finally {
    await client.end().catch(() => undefined);
  }
}
