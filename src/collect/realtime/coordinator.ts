import type { Kysely } from 'kysely';
import pLimit from 'p-limit';
import { type InboxStore, KyselyInboxStore } from '../../queue/webhook-inbox.ts';
import type { Database } from '../../store/schema.ts';
import type { Logger } from '../../util/logger.ts';
import {
  type DeltaRunner,
  errorMessage,
  iso,
  type RunSource,
  type RunTarget,
  realTimers,
  type Timers,
  targetKey,
} from './types.ts';

export interface CoordinatorOptions {
  /** The main database (`realtime_sync_state`). */
  db: Kysely<Database>;
  /** Where inbox rows are marked (default: the main database's `webhook_inbox` through `db`). */
  inbox?: InboxStore;
  runner: DeltaRunner;
  logger: Logger;
  timers?: Timers;
  /** Notifications within this window (from the first one) become one run. */
  debounceMs: number;
  /** Runs in flight per integration (across drives). */
  concurrencyPerIntegration?: number;
  /** First retry delay after a failed run; doubles up to retryMaxMs (with ±20% jitter). */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

interface KeyState {
  target: RunTarget;
  /** Inbox rows waiting for the next run. */
  pending: Set<number>;
  /** Rows the run in flight will mark processed. */
  inFlight: number[];
  sources: Set<RunSource>;
  wantRun: boolean;
  running: boolean;
  timer: unknown;
  failures: number;
  lastSuccessAt?: number;
  lastError?: string;
}

export interface TargetRunState {
  integrationId: string;
  resource: string;
  driveId?: string;
  running: boolean;
  scheduled: boolean;
  pendingRows: number;
  failures: number;
  lastSuccessAt?: number;
  lastError?: string;
}

const SOURCE_PRIORITY: RunSource[] = ['lifecycle', 'webhook', 'poll'];

/**
 * Decides when delta runs happen, per target (a drive root, `users`, `groups`): inbox rows
 * for a target are coalesced over the debounce window into one run; at most one run per
 * target is in flight; rows arriving during a run cause exactly one follow-up run; a failed
 * run keeps its rows and retries with exponential backoff; rows are marked processed only
 * after the run that covered them succeeded (at-least-once). Polls join the same queue.
 */
export class DeltaCoordinator {
  private readonly states = new Map<string, KeyState>();
  /** Every inbox row id pending or in flight, so rescans do not add a row twice. */
  private readonly tracked = new Set<number>();
  private readonly limits = new Map<string, ReturnType<typeof pLimit>>();
  private readonly timers: Timers;
  private readonly inbox: InboxStore;
  private readonly running = new Set<Promise<void>>();
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: CoordinatorOptions) {
    this.timers = options.timers ?? realTimers;
    this.inbox = options.inbox ?? new KyselyInboxStore(options.db);
  }

  /** True when this inbox row is already waiting for or inside a run. */
  isTracked(rowId: number): boolean {
    return this.tracked.has(rowId);
  }

  /** Inbox rows (already persisted) that ask for a delta run of `target`. */
  notify(target: RunTarget, rowIds: number[], source: RunSource): void {
    if (this.closed) return;
    const st = this.state(target);
    for (const id of rowIds) {
      if (this.tracked.has(id)) continue;
      this.tracked.add(id);
      st.pending.add(id);
    }
    st.sources.add(source);
    st.wantRun = true;
    if (!st.running) this.schedule(st, this.options.debounceMs);
  }

  /**
   * A scheduled poll: starts a run now unless one is already in flight or scheduled for
   * this target (which covers it). Returns whether it started one.
   */
  poll(target: RunTarget): boolean {
    if (this.closed) return false;
    const st = this.state(target);
    if (st.running || st.timer !== undefined || st.wantRun) return false;
    st.sources.add('poll');
    st.wantRun = true;
    this.schedule(st, 0);
    return true;
  }

  /** Last successful run of a target (ms), from this process. */
  lastSuccess(target: Pick<RunTarget, 'integrationId' | 'resource'>): number | undefined {
    return this.states.get(targetKey(target))?.lastSuccessAt;
  }

  /** Seeds the last-success times (e.g. from realtime_sync_state at start-up). */
  seedLastSuccess(target: RunTarget, at: number): void {
    const st = this.state(target);
    if (st.lastSuccessAt === undefined || st.lastSuccessAt < at) st.lastSuccessAt = at;
  }

  snapshot(): TargetRunState[] {
    return [...this.states.values()].map((st) => ({
      integrationId: st.target.integrationId,
      resource: st.target.resource,
      driveId: st.target.driveId,
      running: st.running,
      scheduled: st.timer !== undefined,
      pendingRows: st.pending.size,
      failures: st.failures,
      lastSuccessAt: st.lastSuccessAt,
      lastError: st.lastError,
    }));
  }

  /** Resolves when no run is in flight and none is scheduled (tests, shutdown). */
  async idle(): Promise<void> {
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops scheduling, cancels timers and waits for runs in flight. Unprocessed rows stay in the inbox. */
  async close(): Promise<void> {
    this.closed = true;
    for (const st of this.states.values()) {
      if (st.timer !== undefined) this.timers.clearTimeout(st.timer);
      st.timer = undefined;
    }
    await Promise.allSettled([...this.running]);
  }

  private isIdle(): boolean {
    for (const st of this.states.values()) if (st.running || st.timer !== undefined) return false;
    return true;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length > 0 && this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private state(target: RunTarget): KeyState {
    const key = targetKey(target);
    let st = this.states.get(key);
    if (!st) {
      st = {
        target,
        pending: new Set(),
        inFlight: [],
        sources: new Set(),
        wantRun: false,
        running: false,
        timer: undefined,
        failures: 0,
      };
      this.states.set(key, st);
    }
    return st;
  }

  private schedule(st: KeyState, delayMs: number): void {
    if (st.timer !== undefined || this.closed) return; // the earlier timer covers it
    st.timer = this.timers.setTimeout(() => {
      st.timer = undefined;
      this.fire(st);
    }, delayMs);
  }

  private fire(st: KeyState): void {
    if (this.closed || st.running || !st.wantRun) {
      this.checkIdle();
      return;
    }
    st.running = true;
    st.wantRun = false;
    st.inFlight = [...st.pending];
    st.pending.clear();
    const source = SOURCE_PRIORITY.find((s) => st.sources.has(s)) ?? 'poll';
    st.sources.clear();
    const run = this.run(st, source).finally(() => {
      this.running.delete(run);
      st.running = false;
      if (st.wantRun)
        this.schedule(st, st.failures > 0 ? this.backoff(st.failures) : this.options.debounceMs);
      this.checkIdle();
    });
    this.running.add(run);
  }

  private backoff(failures: number): number {
    const base = this.options.retryBaseMs ?? 1000;
    const max = this.options.retryMaxMs ?? 5 * 60_000;
    const delay = Math.min(max, base * 2 ** Math.min(failures - 1, 20));
    return Math.round(delay * (0.8 + Math.random() * 0.4));
  }

  private limit(integrationId: string): ReturnType<typeof pLimit> {
    let limit = this.limits.get(integrationId);
    if (!limit) {
      limit = pLimit(this.options.concurrencyPerIntegration ?? 4);
      this.limits.set(integrationId, limit);
    }
    return limit;
  }

  private async run(st: KeyState, source: RunSource): Promise<void> {
    const { target } = st;
    const { runner, logger } = this.options;
    const rows = st.inFlight;
    try {
      await this.limit(target.integrationId)(async () => {
        await this.recordStart(target, source);
        if (target.kind === 'drive' && target.driveId) {
          await runner.runDriveDelta(target.integrationId, target.driveId, source);
        } else if (target.kind === 'users') {
          await runner.runUsersDelta(target.integrationId, source);
        } else if (target.kind === 'groups') {
          if (runner.runGroupsDelta) await runner.runGroupsDelta(target.integrationId, source);
        }
      });
      await this.markProcessed(rows);
      st.failures = 0;
      st.lastError = undefined;
      st.lastSuccessAt = this.timers.now();
      for (const id of rows) this.tracked.delete(id);
      await this.recordSuccess(target, source).catch((err) =>
        logger.warn({ err, resource: target.resource }, 'could not store sync state'),
      );
    } catch (err) {
      st.failures += 1;
      st.lastError = errorMessage(err);
      for (const id of rows) st.pending.add(id);
      st.sources.add(source);
      st.wantRun = true;
      logger.warn(
        {
          integrationId: target.integrationId,
          resource: target.resource,
          source,
          failures: st.failures,
          err: st.lastError,
        },
        'delta run failed; will retry',
      );
      await this.recordFailure(target, rows, st.lastError).catch((e) =>
        logger.warn({ err: e, resource: target.resource }, 'could not store sync failure'),
      );
    } finally {
      st.inFlight = [];
    }
  }

  private async markProcessed(rows: number[]): Promise<void> {
    await this.inbox.markProcessed(rows, iso(this.timers.now()), null);
  }

  private async recordStart(target: RunTarget, source: RunSource): Promise<void> {
    const at = iso(this.timers.now());
    await this.options.db
      .insertInto('realtime_sync_state')
      .values({
        integration_id: target.integrationId,
        resource: target.resource,
        drive_id: target.driveId ?? null,
        last_started_at: at,
        last_success_at: null,
        last_source: source,
        last_error: null,
        last_error_at: null,
        consecutive_failures: 0,
      })
      .onConflict((oc) =>
        oc.columns(['integration_id', 'resource']).doUpdateSet({ last_started_at: at, last_source: source }),
      )
      .execute()
      .catch((err) =>
        this.options.logger.warn({ err, resource: target.resource }, 'could not store sync state'),
      );
  }

  private async recordSuccess(target: RunTarget, source: RunSource): Promise<void> {
    await this.options.db
      .updateTable('realtime_sync_state')
      .set({ last_success_at: iso(this.timers.now()), last_source: source, consecutive_failures: 0 })
      .where('integration_id', '=', target.integrationId)
      .where('resource', '=', target.resource)
      .execute();
  }

  private async recordFailure(target: RunTarget, rows: number[], message: string): Promise<void> {
    const at = iso(this.timers.now());
    // Two stores (the inbox may be its own file): each update is atomic on its own.
    await this.inbox.recordFailure(rows, message);
    await this.options.db
      .updateTable('realtime_sync_state')
      .set((eb) => ({
        last_error: message,
        last_error_at: at,
        consecutive_failures: eb('consecutive_failures', '+', 1),
      }))
      .where('integration_id', '=', target.integrationId)
      .where('resource', '=', target.resource)
      .execute();
  }
}
