import { CompiledQuery, type Kysely, sql } from 'kysely';
import type { Dialect } from '../../src/store/dialect.ts';

/**
 * A statement's plan as text, for plan tests: SQLite's `explain query plan` details, one a
 * line; PostgreSQL's `explain` with sequential scans disabled, so the plan shows whether an
 * index can serve the statement (on one connection; nothing is executed).
 */
// biome-ignore lint/suspicious/noExplicitAny: any store's database
export async function queryPlan(db: Kysely<any>, dialect: Dialect, q: CompiledQuery): Promise<string> {
  if (dialect === 'sqlite') {
    const r = await db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]),
    );
    return r.rows.map((x) => x.detail).join('\n');
  }
  return db.connection().execute(async (c) => {
    await sql`set enable_seqscan = off`.execute(c);
    try {
      const r = await c.executeQuery<{ 'QUERY PLAN': string }>(
        CompiledQuery.raw(`explain ${q.sql}`, [...q.parameters]),
      );
      return r.rows.map((x) => x['QUERY PLAN']).join('\n');
    } finally {
      await sql`reset enable_seqscan`.execute(c);
    }
  });
}
