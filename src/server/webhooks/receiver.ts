import { timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type InboxInsert, type InboxWriter, KyselyInboxStore } from '../../queue/webhook-inbox.ts';
import type { Database } from '../../store/schema.ts';
import {
  type CachedSubscription,
  clientStateDigest,
  type SubscriptionCache,
} from '../../store/subscription-cache.ts';
import type { Logger } from '../../util/logger.ts';

export type RejectReason =
  | 'unknown_subscription'
  | 'client_state_mismatch'
  | 'tenant_mismatch'
  | 'malformed_entry';

export const LIFECYCLE_EVENTS = ['reauthorizationRequired', 'subscriptionRemoved', 'missed'] as const;

/** Dropped entries counted per integration and reason (`webhook_rejections`). */
export interface RejectionCount {
  integrationId: string;
  reason: RejectReason;
  count: number;
  /** Last rejection (epoch ms). */
  lastAt: number;
}

export interface AcceptResult {
  accepted: number;
  rejected: number;
}

export interface WebhookReceiverOptions {
  /** The main database: rejection counters (and the inbox when `inbox` is not given). */
  db: Kysely<Database>;
  /**
   * Where accepted notifications are persisted. Default: the main database's
   * `webhook_inbox` through `db` (then acks wait for `db`'s connection: tests only).
   */
  inbox?: InboxWriter;
  cache: SubscriptionCache;
  logger: Logger;
  now?: () => number;
  /** Called after rows were committed (the inbox worker's wake-up). */
  onPersisted?: () => void;
  /** Rejection counters are written to the database this often (ms). */
  flushIntervalMs?: number;
  /**
   * Where flushed rejection counters go instead of `webhook_rejections` through `db`: the
   * server thread hands them to the main thread, which writes them (a write here would
   * wait for the collector's write lock).
   */
  onRejections?: (counters: RejectionCount[]) => void;
}

type InboxRow = InboxInsert;

/**
 * Checks every entry of a notification POST against the cached subscriptions and
 * persists the accepted ones in the inbox (`InboxStore`). Entries from requests that
 * arrive within the same event-loop turn, or while the previous commit runs, share one
 * transaction (group commit: one commit in flight at a time); each
 * request's promise resolves only once its rows are committed, and rejects if they were
 * not. Nothing else happens here: no Graph call, no delta, no query on the main database
 * (except a rate-limited subscription reload for an unknown subscription id).
 */
export class WebhookReceiver {
  private readonly db: Kysely<Database>;
  private readonly inbox: InboxWriter;
  private readonly cache: SubscriptionCache;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly onPersisted?: () => void;
  private readonly onRejections?: (counters: RejectionCount[]) => void;
  private queue: Array<{ rows: InboxRow[]; resolve: () => void; reject: (err: unknown) => void }> = [];
  private flushScheduled = false;
  /** A commit is in flight: rows arriving meanwhile wait for it, then go in the next one. */
  private flushing = false;
  private readonly rejections = new Map<string, RejectionCount>();
  private readonly flushTimer: NodeJS.Timeout;
  private readonly totals = { accepted: 0, rejected: 0 };

  constructor(options: WebhookReceiverOptions) {
    this.db = options.db;
    this.inbox = options.inbox ?? new KyselyInboxStore(options.db);
    this.cache = options.cache;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.onPersisted = options.onPersisted;
    this.onRejections = options.onRejections;
    this.flushTimer = setInterval(() => {
      this.flushRejections().catch((err) =>
        this.logger.warn({ err }, 'could not store webhook rejection counters'),
      );
    }, options.flushIntervalMs ?? 1000);
    this.flushTimer.unref();
  }

  /** Totals since start (accepted / rejected entries), for logs and benchmarks. */
  stats(): { accepted: number; rejected: number } {
    return { ...this.totals };
  }

  /**
   * Validates `entries` (the `value` array of a notification POST) and persists the
   * accepted ones. Resolves once they are committed; rejects when the inbox cannot persist.
   */
  async accept(entries: unknown[]): Promise<AcceptResult> {
    const receivedAt = new Date(this.now()).toISOString();
    const rows: InboxRow[] = [];
    let rejected = 0;
    let reloaded = false;
    for (const entry of entries) {
      const check = this.check(entry);
      let sub: CachedSubscription | undefined;
      if (check.ok) sub = check.sub;
      else if (check.reason === 'unknown_subscription' && !reloaded) {
        // A subscription created a moment ago (or by another process): one rate-limited reload.
        reloaded = true;
        await this.cache.reloadIfStale(1000);
        const again = this.check(entry);
        if (again.ok) sub = again.sub;
        else this.reject(again.integrationId, again.reason, entry);
      } else this.reject(check.integrationId, check.reason, entry);
      if (!sub) {
        rejected += 1;
        continue;
      }
      const n = entry as Record<string, unknown>;
      rows.push({
        integration_id: sub.integrationId,
        subscription_id: sub.id,
        resource: sub.resource,
        change_type: typeof n.changeType === 'string' ? n.changeType.slice(0, 100) : null,
        lifecycle_event: typeof n.lifecycleEvent === 'string' ? n.lifecycleEvent.slice(0, 100) : null,
        received_at: receivedAt,
      });
    }
    this.totals.rejected += rejected;
    if (rows.length > 0) {
      await this.persist(rows);
      this.totals.accepted += rows.length;
    }
    return { accepted: rows.length, rejected };
  }

  private check(
    entry: unknown,
  ): { ok: true; sub: CachedSubscription } | { ok: false; reason: RejectReason; integrationId: string } {
    if (typeof entry !== 'object' || entry === null)
      return { ok: false, reason: 'malformed_entry', integrationId: '' };
    const n = entry as Record<string, unknown>;
    if (typeof n.subscriptionId !== 'string' || n.subscriptionId === '') {
      return { ok: false, reason: 'malformed_entry', integrationId: '' };
    }
    const sub = this.cache.get(n.subscriptionId);
    if (!sub) return { ok: false, reason: 'unknown_subscription', integrationId: '' };
    if (typeof n.clientState !== 'string' || !sameSecret(sub.clientState, clientStateDigest(n.clientState))) {
      return { ok: false, reason: 'client_state_mismatch', integrationId: sub.integrationId };
    }
    if (typeof n.tenantId !== 'string' || n.tenantId.toLowerCase() !== sub.tenantId.toLowerCase()) {
      return { ok: false, reason: 'tenant_mismatch', integrationId: sub.integrationId };
    }
    return { ok: true, sub };
  }

  private reject(integrationId: string, reason: RejectReason, entry: unknown): void {
    const key = `${integrationId}\u0000${reason}`;
    const counter = this.rejections.get(key) ?? { integrationId, reason, count: 0, lastAt: 0 };
    counter.count += 1;
    counter.lastAt = this.now();
    this.rejections.set(key, counter);
    // Never the clientState: only which subscription the entry claimed to be for.
    const subscriptionId =
      typeof entry === 'object' &&
      entry !== null &&
      typeof (entry as { subscriptionId?: unknown }).subscriptionId === 'string'
        ? String((entry as { subscriptionId: string }).subscriptionId).slice(0, 100)
        : undefined;
    this.logger.debug(
      { reason, integrationId: integrationId || undefined, subscriptionId },
      'webhook notification dropped',
    );
  }

  private persist(rows: InboxRow[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.flushing || this.queue.length === 0) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flushQueue());
  }

  private async flushQueue(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.flushScheduled = false;
    this.flushing = true;
    const rows = batch.flatMap((b) => b.rows);
    try {
      await this.inbox.insert(rows);
    } catch (err) {
      this.logger.error({ err, rows: rows.length }, 'webhook inbox could not persist notifications');
      for (const b of batch) b.reject(err);
      return;
    } finally {
      this.flushing = false;
      this.scheduleFlush();
    }
    for (const b of batch) b.resolve();
    try {
      this.onPersisted?.();
    } catch (err) {
      this.logger.warn({ err }, 'inbox wake-up failed');
    }
  }

  /** Rejected counts not yet written to the database. */
  pendingRejections(): Array<{ integrationId: string; reason: RejectReason; count: number }> {
    return [...this.rejections.values()].map(({ integrationId, reason, count }) => ({
      integrationId,
      reason,
      count,
    }));
  }

  /** Removes and returns the counters not yet flushed (the server thread hands them over on request). */
  takeRejections(): RejectionCount[] {
    const counters = [...this.rejections.values()];
    this.rejections.clear();
    return counters;
  }

  /** Adds the in-memory rejection counts to `webhook_rejections` (or hands them to `onRejections`). */
  async flushRejections(): Promise<void> {
    if (this.rejections.size === 0) return;
    const counters = [...this.rejections.values()];
    this.rejections.clear();
    try {
      if (this.onRejections) this.onRejections(counters);
      else await writeRejections(this.db, counters);
    } catch (err) {
      // put them back so the counts are not lost
      for (const c of counters) {
        const key = `${c.integrationId}\u0000${c.reason}`;
        const now = this.rejections.get(key);
        if (now) now.count += c.count;
        else this.rejections.set(key, c);
      }
      throw err;
    }
  }

  /** Stops the flush timer and writes the last counters. */
  async close(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushRejections();
  }
}

/** Adds counters to `webhook_rejections` in one transaction (one upsert per integration+reason). */
export async function writeRejections(db: Kysely<Database>, counters: RejectionCount[]): Promise<void> {
  if (counters.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const c of counters) {
      await trx
        .insertInto('webhook_rejections')
        .values({
          integration_id: c.integrationId,
          reason: c.reason,
          count: c.count,
          last_at: new Date(c.lastAt).toISOString(),
        })
        .onConflict((oc) =>
          oc.columns(['integration_id', 'reason']).doUpdateSet((eb) => ({
            count: eb('webhook_rejections.count', '+', eb.ref('excluded.count')),
            last_at: eb.ref('excluded.last_at'),
          })),
        )
        .execute();
    }
  });
}

/** Constant-time comparison of a stored secret with a presented one. */
export function sameSecret(stored: Buffer, presented: string): boolean {
  const given = Buffer.from(presented, 'utf8');
  if (given.length !== stored.length) {
    // compare anyway so the time taken does not depend on where the lengths differ
    timingSafeEqual(stored, stored);
    return false;
  }
  return timingSafeEqual(stored, given);
}
