import { pgClient } from '../../pg-driver.ts';
import type { QueryTarget } from '../check-query.ts';
import { QueryError } from '../errors.ts';
import { checkPostgresQuery, postgresError } from '../postgres-guard.ts';
import { beginReadOnly, RoleError } from '../postgres-session.ts';
import { RowCollector } from './collector.ts';
import type { ChildMessage, QueryLimits } from './protocol.ts';

/** Rows fetched per round trip. */
const FETCH_BATCH = 500;

/**
 * Runs a query on PostgreSQL: a READ ONLY transaction with a statement timeout as the
 * console's role, the text alone as a prepared statement, the guard over its plan, then its
 * rows through a portal in batches until they run out or a limit is reached.
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
    await checkPostgresQuery(session, text, values, { schema: session.schema });
    if (checkOnly) {
      await session.end();
      return { type: 'result', columns: [], rows: [], truncated: null };
    }
    await session.asRole().catch((err) => {
      if (err instanceof RoleError) throw new QueryError('failed', err.message);
      throw err;
    });
    const collector = new RowCollector(limits);
    const reader = session.rows(values, FETCH_BATCH);
    try {
      for (let batch = await reader.next(); batch; batch = await reader.next())
        if (batch.some((row) => !collector.add(row))) break;
      await reader.close();
    } catch (err) {
      throw postgresError(err);
    }
    await session.end();
    return { type: 'result', columns: reader.columns, rows: collector.rows, truncated: collector.truncated };
  } finally {
    await client.end().catch(() => undefined);
  }
}
