import pLimit from 'p-limit';
import type { AlertOutbox, OutboxItem } from '../queue/alert-outbox.ts';
import type { Logger } from '../util/logger.ts';
import { backoffMs } from './backoff.ts';
import type { ChannelRepository } from './channel-repo.ts';
import { sendToChannel } from './channels/index.ts';
import { type DeliveryError, toDeliveryError } from './delivery-error.ts';
import type { AlertMessage } from './message.ts';
import type { OutboundGuard } from './outbound-guard.ts';

/**
 * The delivery worker: sends due outbox rows, channel by channel in id order (channels in
 * parallel), and records each outcome: delivered (status, latency), retry later
 * (exponential backoff with jitter, or the receiver's Retry-After) or dead-lettered
 * (a permanent failure, or `maxAttempts` reached). A retryable failure postpones its
 * channel's other pending rows to the same time, so a failing receiver is not hammered by
 * the rows queued behind and never holds up the other channels.
 *
 * A crash after the receiver accepted and before the outcome is committed sends the row
 * again with the same idempotency key: receivers that deduplicate (webhook-id, Message-ID)
 * see it once.
 */
export interface WorkerOptions {
  outbox: AlertOutbox;
  channels: ChannelRepository;
  guard: OutboundGuard;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  logger: Logger;
  /** Longest sleep between looks at the outbox (default 1 s); `notify` wakes it at once. */
  pollMs?: number;
  /** Channels served at once (default 4). */
  concurrency?: number;
  /** Delivered and dead rows are pruned after this many days (default 30). */
  retentionDays?: number;
  now?: () => Date;
  random?: () => number;
}

const BATCH = 200;
const DAY_MS = 86_400_000;
/** A receiver's Retry-After is honoured up to a day (beyond that it is a broken header). */
const MAX_RETRY_AFTER_MS = DAY_MS;
/** The log's latency column is an integer. */
const MAX_LATENCY_MS = 2_147_483_647;

export class DeliveryWorker {
  /** Channels waiting for a retry time: rows routed to them meanwhile wait too. */
  private readonly pausedUntil = new Map<string, string>();
  private readonly now: () => Date;
  private loop: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  private lastPrune = 0;

  constructor(private readonly o: WorkerOptions) {
    this.now = o.now ?? (() => new Date());
  }

  start(): void {
    if (this.loop) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** New rows were written: look now. */
  notify(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.notify();
    await this.loop;
    this.loop = null;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let attempted = 0;
      try {
        attempted = await this.deliverDue();
        await this.pruneDaily();
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'alerts: delivery pass failed');
      }
      if (attempted > 0 || this.stopped) continue;
      await this.sleep(await this.idleMs());
    }
  }

  private async idleMs(): Promise<number> {
    const poll = this.o.pollMs ?? 1000;
    const next = await this.o.outbox.nextDue().catch(() => null);
    const untilNext = next ? Date.parse(next) - this.now().getTime() : poll;
    return Math.max(10, Math.min(poll, untilNext));
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** One pass over the due rows; returns how many were attempted. */
  async deliverDue(): Promise<number> {
    const rows = await this.o.outbox.due(this.now().toISOString(), BATCH);
    const byChannel = new Map<string, OutboxItem[]>();
    for (const row of rows) {
      const list = byChannel.get(row.channel_id) ?? [];
      list.push(row);
      byChannel.set(row.channel_id, list);
    }
    const limit = pLimit(this.o.concurrency ?? 4);
    const counts = await Promise.all(
      [...byChannel.entries()].map(([channelId, list]) =>
        limit(async () => {
          const paused = this.pausedUntil.get(channelId);
          if (paused && paused > this.now().toISOString()) {
            await this.o.outbox.postponeChannel(channelId, paused);
            return 0;
          }
          this.pausedUntil.delete(channelId);
          let n = 0;
          for (const row of list) {
            n++;
            if ((await this.deliver(row)) === 'retry') break;
          }
          return n;
        }),
      ),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Delivers until nothing is due (tests, one-shot commands); rows waiting for a retry stay. */
  async drain(): Promise<void> {
    while ((await this.deliverDue()) > 0) {}
  }

  /** One attempt; 'retry' when the channel should not be sent more now. */
  private async deliver(row: OutboxItem): Promise<'done' | 'retry'> {
    const { outbox } = this.o;
    const channel = await this.o.channels.config(row.channel_id);
    if (!channel) {
      await outbox.dead(row, this.now().toISOString(), 'channel removed', null);
      return 'done';
    }
    const message = JSON.parse(row.body) as AlertMessage;
    let status: number;
    try {
      status = (
        await sendToChannel(channel, message, {
          guard: this.o.guard,
          timeoutMs: this.o.timeoutMs,
          idempotencyKey: row.idempotency_key,
          now: this.now(),
        })
      ).status;
    } catch (err) {
      return this.failed(row, channel.name, toDeliveryError(err, this.o.timeoutMs));
    }
    // Recording the success is outside the try: if it fails, the row stays pending and is
    // sent again with the same idempotency key, never counted as a failed delivery.
    const at = this.now();
    const latency = Math.min(MAX_LATENCY_MS, Math.max(0, at.getTime() - Date.parse(row.created_at)));
    await outbox.delivered(row, at.toISOString(), latency, status);
    return 'done';
  }

  private async failed(row: OutboxItem, channelName: string, e: DeliveryError): Promise<'done' | 'retry'> {
    const { outbox, logger } = this.o;
    const attempts = row.attempts + 1;
    const log = { channel: channelName, alert: row.alert_id, attempts, err: e.message };
    if (!e.retryable || attempts >= this.o.maxAttempts) {
      const why = e.retryable ? `${e.message} (gave up after ${attempts} attempts)` : e.message;
      await outbox.dead(row, this.now().toISOString(), why, e.status);
      logger.error(log, `alerts: delivery to ${channelName} dead-lettered`);
      return 'done';
    }
    const delay =
      e.retryAfterMs !== null
        ? Math.min(e.retryAfterMs, MAX_RETRY_AFTER_MS)
        : backoffMs(attempts, this.o.retryBaseMs, this.o.retryMaxMs, this.o.random);
    const retryAt = new Date(this.now().getTime() + delay).toISOString();
    await outbox.retry(row, e.message, retryAt, e.status);
    await outbox.postponeChannel(row.channel_id, retryAt);
    this.pausedUntil.set(row.channel_id, retryAt);
    logger.warn({ ...log, retryInMs: delay }, `alerts: delivery to ${channelName} failed, retrying`);
    return 'retry';
  }

  private async pruneDaily(): Promise<void> {
    const now = this.now().getTime();
    if (now - this.lastPrune < DAY_MS) return;
    this.lastPrune = now;
    await this.o.outbox.prune(new Date(now - (this.o.retentionDays ?? 30) * DAY_MS).toISOString());
  }
}
