import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { AlertDeliveryStatus } from '../store/tables/alerts.ts';
import { type QueueDefinition, type QueueRowState, TableQueue } from './durable-queue.ts';

/**
 * The alert outbox: one row per alert and channel in `alert_outbox` (migration 0400), the
 * second user of the durable queue. Rows are written by the alert router in the same
 * transaction that advances its cursor over the events (`enqueue` with the transaction), so
 * an event is routed exactly once; the delivery worker reads due rows, and each row's
 * outcome (delivered, retry later, dead-lettered) is one update. The rows are also the
 * delivery log (`drivewarden alerts log`) until pruned.
 */
export interface OutboxRow {
  alert_id: string;
  idempotency_key: string;
  policy_id: string;
  channel_id: string;
  kind: 'alert' | 'digest';
  item_count: number;
  severity: string;
  title: string;
  body: string;
  created_at: string;
  next_attempt_at: string | null;
  status: AlertDeliveryStatus;
  delivered_at: string | null;
  latency_ms: number | null;
  response_status: number | null;
}

type OutboxRead =
  | 'alert_id'
  | 'idempotency_key'
  | 'policy_id'
  | 'channel_id'
  | 'kind'
  | 'body'
  | 'created_at';

export const ALERT_OUTBOX: QueueDefinition<OutboxRow> = {
  table: 'alert_outbox',
  columns: {
    alert_id: 'text not null',
    idempotency_key: 'text not null',
    policy_id: 'text not null',
    channel_id: 'text not null',
    kind: 'text not null',
    item_count: 'integer not null',
    severity: 'text not null',
    title: 'text not null',
    body: 'text not null',
    created_at: 'text not null',
    next_attempt_at: 'text',
    status: 'text not null',
    delivered_at: 'text',
    latency_ms: 'integer',
    response_status: 'integer',
  },
  read: ['alert_id', 'idempotency_key', 'policy_id', 'channel_id', 'kind', 'body', 'created_at'],
  due: 'next_attempt_at',
};

export type OutboxItem = QueueRowState & Pick<OutboxRow, OutboxRead>;

/** A new outbox row: what the router decides; the delivery columns start empty. */
export type OutboxNew = Pick<
  OutboxRow,
  | 'alert_id'
  | 'idempotency_key'
  | 'policy_id'
  | 'channel_id'
  | 'kind'
  | 'item_count'
  | 'severity'
  | 'title'
  | 'body'
  | 'created_at'
>;

export interface DeliveryLogEntry {
  id: number;
  alertId: string;
  policy: string;
  channel: string;
  kind: string;
  title: string;
  severity: string;
  itemCount: number;
  status: AlertDeliveryStatus;
  /** Attempts made: the failed ones, plus the one that delivered. */
  attempts: number;
  lastError: string | null;
  responseStatus: number | null;
  latencyMs: number | null;
  createdAt: string;
  deliveredAt: string | null;
  nextAttemptAt: string | null;
}

export interface DeliveryLogFilter {
  policyId?: string;
  channelId?: string;
  status?: AlertDeliveryStatus;
  limit?: number;
}

export class AlertOutbox {
  private readonly queue: TableQueue<OutboxRow, OutboxRead>;

  constructor(private readonly db: Kysely<Database>) {
    this.queue = new TableQueue(ALERT_OUTBOX, db);
  }

  /** Writes rows through `trx`: they commit with whatever else the transaction writes. */
  enqueue(trx: Kysely<Database>, rows: OutboxNew[]): Promise<void> {
    return this.queue.insertWith(
      trx,
      rows.map((r) => ({
        ...r,
        next_attempt_at: null,
        status: 'pending' as const,
        delivered_at: null,
        latency_ms: null,
        response_status: null,
      })),
    );
  }

  /** Pending rows due at `now`, oldest first. */
  due(now: string, limit: number): Promise<OutboxItem[]> {
    return this.queue.unprocessed(0, limit, now);
  }

  /** Delivered: the error of an earlier attempt stays in the log. */
  delivered(row: OutboxItem, at: string, latencyMs: number, status: number): Promise<void> {
    return this.queue.markProcessed([row.id], at, row.last_error, {
      status: 'delivered',
      delivered_at: at,
      latency_ms: latencyMs,
      response_status: status,
    });
  }

  /** A failed attempt to try again at `retryAt`. */
  retry(row: OutboxItem, error: string, retryAt: string, status: number | null): Promise<void> {
    return this.queue.recordFailure([row.id], error, { retryAt, set: { response_status: status } });
  }

  /** Given up: attempts exhausted or a permanent failure. */
  async dead(row: OutboxItem, at: string, error: string, status: number | null): Promise<void> {
    await this.queue.recordFailure([row.id], error, { set: { response_status: status } });
    await this.queue.markProcessed([row.id], at, error, { status: 'dead', next_attempt_at: null });
  }

  /**
   * Holds a channel's pending rows until `until` (ISO): a receiver that failed or asked to
   * wait is not sent the rows queued behind, and other channels' rows are not held up.
   */
  async postponeChannel(channelId: string, until: string): Promise<void> {
    await this.db
      .updateTable('alert_outbox')
      .set({ next_attempt_at: until })
      .where('channel_id', '=', channelId)
      .where('processed_at', 'is', null)
      .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<', until)]))
      .execute();
  }

  /** Alerts (not rows: one alert has a row per channel) a policy created since `since`. */
  async alertsSince(trx: Kysely<Database>, policyId: string, since: string): Promise<number> {
    const row = await trx
      .selectFrom('alert_outbox')
      .select((eb) => eb.fn.count<number>('alert_id').distinct().as('n'))
      .where('policy_id', '=', policyId)
      .where('created_at', '>=', since)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** When the next pending row is due (null: none is waiting for a time). */
  async nextDue(): Promise<string | null> {
    const row = await this.db
      .selectFrom('alert_outbox')
      .select((eb) => eb.fn.min('next_attempt_at').as('at'))
      .where('processed_at', 'is', null)
      .executeTakeFirst();
    return (row?.at as string | null | undefined) ?? null;
  }

  count(status?: AlertDeliveryStatus): Promise<number> {
    return this.queue.count(status ? { equals: { status } } : {});
  }

  /** The delivery log, newest first. */
  async log(filter: DeliveryLogFilter = {}): Promise<DeliveryLogEntry[]> {
    let q = deliveryLogQuery(this.db)
      .orderBy('o.id', 'desc')
      .limit(filter.limit ?? 50);
    if (filter.policyId) q = q.where('o.policy_id', '=', filter.policyId);
    if (filter.channelId) q = q.where('o.channel_id', '=', filter.channelId);
    if (filter.status) q = q.where('o.status', '=', filter.status);
    const rows = await q.execute();
    return rows.map((r) => ({
      id: Number(r.id),
      alertId: r.alert_id,
      policy: r.policy ?? `(removed ${r.policy_id.slice(0, 8)})`,
      channel: r.channel ?? `(removed ${r.channel_id.slice(0, 8)})`,
      kind: r.kind,
      title: r.title,
      severity: r.severity,
      itemCount: Number(r.item_count),
      status: r.status,
      // The queue counts failed attempts; the log counts the delivering one too.
      attempts: Number(r.attempts) + (r.status === 'delivered' ? 1 : 0),
      lastError: r.last_error,
      responseStatus: r.response_status === null ? null : Number(r.response_status),
      latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
      createdAt: r.created_at,
      deliveredAt: r.delivered_at,
      nextAttemptAt: r.next_attempt_at,
    }));
  }

  /** Drops delivered and dead-lettered rows processed before `before` (ISO). */
  prune(before: string): Promise<number> {
    return this.queue.prune(before);
  }
}

/** The delivery log's rows (outbox with policy and channel names): the CLI's log and the API's list. */
export function deliveryLogQuery(db: Kysely<Database>) {
  return db
    .selectFrom('alert_outbox as o')
    .leftJoin('alert_policies as p', 'p.id', 'o.policy_id')
    .leftJoin('alert_channels as c', 'c.id', 'o.channel_id')
    .select([
      'o.id',
      'o.alert_id',
      'o.policy_id',
      'o.channel_id',
      'p.name as policy',
      'c.name as channel',
      'o.kind',
      'o.title',
      'o.severity',
      'o.item_count',
      'o.status',
      'o.attempts',
      'o.last_error',
      'o.response_status',
      'o.latency_ms',
      'o.created_at',
      'o.delivered_at',
      'o.next_attempt_at',
    ]);
}
