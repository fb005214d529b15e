import type { Kysely } from 'kysely';
import { type InboxRowLite, type InboxStore, KyselyInboxStore } from '../../queue/webhook-inbox.ts';
import type { Database } from '../../store/schema.ts';
import type { Logger } from '../../util/logger.ts';
import type { DeltaCoordinator } from './coordinator.ts';
import { errorMessage, iso, type RunTarget, realTimers, type Timers, targetFromResource } from './types.ts';

/** What lifecycle events need from the subscription manager. */
export interface LifecycleHandler {
  /** `reauthorizationRequired`: renew (PATCH) the subscription. Throws only on transient errors. */
  reauthorize(integrationId: string, subscriptionId: string): Promise<void>;
  /** `subscriptionRemoved`: create a new subscription for the same resource. Throws only on transient errors. */
  recreate(integrationId: string, subscriptionId: string): Promise<void>;
}

export interface InboxWorkerOptions {
  db: Kysely<Database>;
  /** Where the rows are (default: the main database's `webhook_inbox` through `db`). */
  inbox?: InboxStore;
  coordinator: DeltaCoordinator;
  lifecycle: LifecycleHandler;
  logger: Logger;
  timers?: Timers;
  /** New rows are looked for this often even without a wake-up (other processes, restarts). */
  scanIntervalMs?: number;
  /** Every this often all unprocessed rows are read again, not just those past the cursor. */
  fullScanIntervalMs?: number;
  batchSize?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
}

/** Processed rows older than this are deleted (on full scans). */
const KEEP_PROCESSED_MS = 24 * 3600_000;

/**
 * Reads unprocessed inbox rows and hands them on: change notifications go to the
 * delta coordinator (debounced, one run per drive, processed after the run succeeded);
 * lifecycle events are acted on first (`reauthorizationRequired` → renew,
 * `subscriptionRemoved` → re-create then delta, `missed` → delta).
 */
export class InboxWorker {
  private readonly timers: Timers;
  private readonly inbox: InboxStore;
  private cursor = 0;
  private lastFullScan = Number.NEGATIVE_INFINITY;
  private scanning: Promise<void> | undefined;
  private again = false;
  private timer: unknown;
  private wakeScheduled = false;
  private closed = false;
  /** Lifecycle rows being handled (or waiting for a retry), by row id → failures. */
  private readonly lifecycleRows = new Map<number, number>();
  private readonly lifecycleTimers = new Set<unknown>();
  private readonly lifecycleRuns = new Set<Promise<void>>();

  constructor(private readonly options: InboxWorkerOptions) {
    this.timers = options.timers ?? realTimers;
    this.inbox = options.inbox ?? new KyselyInboxStore(options.db);
  }

  /** Starts the periodic scan (and scans now). */
  start(): void {
    this.closed = false;
    this.tick();
  }

  /** New rows were committed: scan soon (coalesced). */
  wake(): void {
    if (this.closed || this.wakeScheduled) return;
    this.wakeScheduled = true;
    setImmediate(() => {
      this.wakeScheduled = false;
      void this.scan().catch((err) => this.options.logger.warn({ err }, 'webhook inbox scan failed'));
    });
  }

  /** Reads new unprocessed rows and dispatches them. Single-flight; a call during a scan causes one more. */
  async scan(): Promise<void> {
    if (this.scanning) {
      this.again = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      try {
        do {
          this.again = false;
          await this.scanOnce();
        } while (this.again && !this.closed);
      } finally {
        this.scanning = undefined;
      }
    })();
    return this.scanning;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    for (const t of this.lifecycleTimers) this.timers.clearTimeout(t);
    this.lifecycleTimers.clear();
    await this.scanning?.catch(() => undefined);
    await Promise.allSettled([...this.lifecycleRuns]);
  }

  private tick(): void {
    if (this.closed) return;
    void this.scan()
      .catch((err) => this.options.logger.warn({ err }, 'webhook inbox scan failed'))
      .finally(() => {
        if (!this.closed)
          this.timer = this.timers.setTimeout(() => this.tick(), this.options.scanIntervalMs ?? 1000);
      });
  }

  private async scanOnce(): Promise<void> {
    const batchSize = this.options.batchSize ?? 2000;
    const full = this.timers.now() - this.lastFullScan >= (this.options.fullScanIntervalMs ?? 30_000);
    // A full scan re-reads rows below the cursor: on PostgreSQL a row with a lower id can
    // commit after a higher one was read, and rows of failed lifecycle handling come back.
    let from = full ? 0 : this.cursor;
    if (full) {
      this.lastFullScan = this.timers.now();
      await this.inbox
        .prune(iso(this.timers.now() - KEEP_PROCESSED_MS))
        .catch((err) => this.options.logger.warn({ err }, 'could not prune the webhook inbox'));
    }
    for (;;) {
      const rows = await this.inbox.unprocessed(from, batchSize);
      if (rows.length === 0) return;
      this.dispatch(rows);
      from = rows[rows.length - 1].id;
      if (from > this.cursor) this.cursor = from;
      if (rows.length < batchSize || this.closed) return;
    }
  }

  private dispatch(rows: InboxRowLite[]): void {
    const groups = new Map<string, { target: RunTarget; ids: number[] }>();
    for (const row of rows) {
      if (this.options.coordinator.isTracked(row.id) || this.lifecycleRows.has(row.id)) continue;
      const target = targetFromResource(row.integration_id, row.resource);
      if (!target) {
        this.options.logger.warn(
          { resource: row.resource, id: row.id },
          'inbox row for an unknown resource kind; dropped',
        );
        void this.markProcessed(row.id, 'unknown resource kind');
        continue;
      }
      if (row.lifecycle_event) {
        this.handleLifecycle(row, target);
        continue;
      }
      const key = `${target.integrationId}\u0000${target.resource}`;
      const group = groups.get(key) ?? { target, ids: [] };
      group.ids.push(row.id);
      groups.set(key, group);
    }
    for (const { target, ids } of groups.values()) this.options.coordinator.notify(target, ids, 'webhook');
  }

  private handleLifecycle(row: InboxRowLite, target: RunTarget): void {
    if (this.closed) return;
    this.lifecycleRows.set(row.id, this.lifecycleRows.get(row.id) ?? 0);
    const { lifecycle, coordinator, logger } = this.options;
    const run = (async () => {
      try {
        if (row.lifecycle_event === 'reauthorizationRequired') {
          await lifecycle.reauthorize(row.integration_id, row.subscription_id);
          await this.markProcessed(row.id, null);
          this.lifecycleRows.delete(row.id);
          return;
        }
        if (row.lifecycle_event === 'subscriptionRemoved') {
          await lifecycle.recreate(row.integration_id, row.subscription_id);
        } else if (row.lifecycle_event !== 'missed') {
          logger.info({ event: row.lifecycle_event }, 'unknown lifecycle event: running delta to be safe');
        }
        // Catch up: the row is marked processed by the delta run that covers it.
        this.lifecycleRows.delete(row.id);
        coordinator.notify(target, [row.id], 'lifecycle');
      } catch (err) {
        const failures = (this.lifecycleRows.get(row.id) ?? 0) + 1;
        this.lifecycleRows.set(row.id, failures);
        const message = errorMessage(err);
        logger.warn(
          { event: row.lifecycle_event, subscriptionId: row.subscription_id, failures, err: message },
          'lifecycle event handling failed; will retry',
        );
        await this.inbox.recordFailure([row.id], message).catch(() => undefined);
        const base = this.options.retryBaseMs ?? 1000;
        const delay = Math.min(this.options.retryMaxMs ?? 5 * 60_000, base * 2 ** Math.min(failures - 1, 20));
        const timer = this.timers.setTimeout(() => {
          this.lifecycleTimers.delete(timer);
          this.handleLifecycle(row, target);
        }, delay);
        this.lifecycleTimers.add(timer);
      }
    })();
    this.lifecycleRuns.add(run);
    void run.finally(() => this.lifecycleRuns.delete(run));
  }

  private async markProcessed(id: number, error: string | null): Promise<void> {
    await this.inbox
      .markProcessed([id], iso(this.timers.now()), error)
      .catch((err) => this.options.logger.warn({ err, id }, 'could not mark inbox row processed'));
  }
}
