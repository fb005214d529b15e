import { availableParallelism } from 'node:os';
import { readCursor } from '../rules/cursor.ts';
import { openPgSessions, type RuleExecutor, startSqliteWorkers } from '../rules/parallel.ts';
import type { AppContext } from './context.ts';

/**
 * Whether and how a full evaluation runs several rules at once (`rules.workers`, default 2,
 * at most the CPUs): only for inventories big enough to repay it. SQLite's worker threads
 * start once per process and stay; PostgreSQL's read sessions are opened per evaluation.
 */

/** Below this many items a full evaluation takes well under a second: one thread does it. */
export const PARALLEL_MIN_ITEMS = 50_000;

export class RuleExecutors {
  private sqlite?: RuleExecutor;

  constructor(private readonly app: AppContext) {}

  private get size(): number {
    return Math.min(this.app.config.rules.workers, availableParallelism());
  }

  /** Runs `fn` with an executor for a full evaluation of the integration, or none. */
  async use<T>(
    integrationId: string,
    mode: 'full' | 'incremental',
    fn: (executor?: RuleExecutor) => Promise<T>,
  ): Promise<T> {
    // An incremental evaluation without a cursor is a full one.
    const full = mode === 'full' || !(await readCursor(this.app.store.db, integrationId));
    if (!full || this.size < 2 || !(await this.big(integrationId))) return fn(undefined);
    const { store } = this.app;
    if (store.dialect === 'sqlite' && store.file) {
      this.sqlite ??= startSqliteWorkers(store.file, this.size);
      return fn(this.sqlite);
    }
    if (store.dialect === 'postgres') {
      const sessions = await openPgSessions(store, this.size);
      try {
        return await fn(sessions);
      } finally {
        await sessions.close();
      }
    }
    return fn(undefined);
  }

  private async big(integrationId: string): Promise<boolean> {
    const rows = await this.app.store.db
      .selectFrom('drive_items')
      .select('id')
      .where('integration_id', '=', integrationId)
      .offset(PARALLEL_MIN_ITEMS - 1)
      .limit(1)
      .execute();
    return rows.length > 0;
  }

  async close(): Promise<void> {
    await this.sqlite?.close();
    this.sqlite = undefined;
  }
}
