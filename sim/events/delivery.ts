import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import type { SimRuntime } from '../contracts.ts';
import type { EventOptions } from './options.ts';

/** One entry of a notification POST's `value` array (change notification or lifecycle event). */
export type NotificationEntry = Record<string, unknown> & { subscriptionId: string };

export type DeliveryKind = 'change' | 'lifecycle';

/** A POST waiting to go out again after a failure. */
interface Envelope {
  id: string;
  kind: DeliveryKind;
  url: string;
  entries: NotificationEntry[];
  /** Sim ms of the first attempt. */
  firstAttemptAt: number;
  /** Sim ms when the next attempt is due. */
  nextAttemptAt: number;
  attempts: number;
  inFlight: boolean;
  lastError?: string;
}

interface CoalesceBuffer {
  kind: DeliveryKind;
  url: string;
  entries: NotificationEntry[];
  keys: Set<string>;
  timer: NodeJS.Timeout;
}

export interface DeliveryStats {
  /** Change-notification entries answered 2xx (mirrors counters.notificationsDelivered). */
  delivered: number;
  /** Change-notification entries dropped after the retry window (mirrors counters.notificationsFailed). */
  failed: number;
  /** Change-notification entries dropped because delivery was disabled (`runtime.notificationsEnabled` false). */
  lost: number;
  /** POSTs answered 2xx slower than `slowThresholdMs`. */
  slow: number;
  /** POSTs sent (every attempt, lifecycle included). */
  posts: number;
  /** Failed attempts (non-2xx, timeout, connection error) that were or will be retried. */
  failedAttempts: number;
  lifecycleDelivered: number;
  lifecycleFailed: number;
}

export interface PendingDelivery {
  id: string;
  kind: DeliveryKind;
  url: string;
  entries: number;
  subscriptionIds: string[];
  attempts: number;
  firstAttemptAt: string;
  nextAttemptAt: string;
  lastError?: string;
}

export interface DeliveryHooks {
  /** Entries that will never arrive (retry window over, or delivery disabled). */
  onDropped?(kind: DeliveryKind, entries: NotificationEntry[], reason: 'failed' | 'disabled'): void;
}

export type ValidationResult = { ok: true } | { ok: false; message: string };

export class Deliverer {
  readonly stats: DeliveryStats = {
    delivered: 0,
    failed: 0,
    lost: 0,
    slow: 0,
    posts: 0,
    failedAttempts: 0,
    lifecycleDelivered: 0,
    lifecycleFailed: 0,
  };
  private readonly buffers = new Map<string, CoalesceBuffer>();
  private readonly envelopes = new Map<string, Envelope>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private readonly agent: Agent;
  private closed = false;

  constructor(
    private readonly runtime: SimRuntime,
    private readonly options: EventOptions,
    private readonly hooks: DeliveryHooks = {},
  ) {
    this.agent = new Agent({
      connect: {
        rejectUnauthorized: options.deliveryRejectUnauthorized,
        ...(options.deliveryCa ? { ca: options.deliveryCa } : {}),
      },
      keepAliveTimeout: 1_000,
    });
  }

  /**
   * Queues one entry for `url`; entries for the same URL within `coalesceMs` go out in one POST.
   * `dedupeKey` collapses identical entries of one window (e.g. one drive changed ten times).
   */
  enqueue(kind: DeliveryKind, url: string, entry: NotificationEntry, dedupeKey?: string): void {
    if (this.closed) return;
    const key = `${kind} ${url}`;
    let buffer = this.buffers.get(key);
    if (!buffer) {
      const timer = setTimeout(() => this.flushBuffer(key), this.options.coalesceMs);
      timer.unref();
      buffer = { kind, url, entries: [], keys: new Set(), timer };
      this.buffers.set(key, buffer);
    }
    if (dedupeKey !== undefined) {
      if (buffer.keys.has(dedupeKey)) return;
      buffer.keys.add(dedupeKey);
    }
    buffer.entries.push(entry);
  }

  /** Sends every buffered entry now and waits for all attempts in flight. */
  async flush(): Promise<void> {
    for (const key of [...this.buffers.keys()]) this.flushBuffer(key);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Retries whatever is due on the simulated clock; drops what is past the retry window. */
  processDue(): void {
    if (this.closed) return;
    const now = this.runtime.clock.now();
    for (const envelope of this.envelopes.values()) {
      if (envelope.inFlight || envelope.nextAttemptAt > now) continue;
      if (now - envelope.firstAttemptAt >= this.options.retryWindowMs) {
        this.envelopes.delete(envelope.id);
        this.drop(envelope, 'failed');
        continue;
      }
      this.track(this.attempt(envelope));
    }
  }

  pending(): PendingDelivery[] {
    const buffered: PendingDelivery[] = [...this.buffers.values()].map((b) => ({
      id: `buffer:${b.kind}:${b.url}`,
      kind: b.kind,
      url: b.url,
      entries: b.entries.length,
      subscriptionIds: [...new Set(b.entries.map((e) => e.subscriptionId))],
      attempts: 0,
      firstAttemptAt: new Date(this.runtime.clock.now()).toISOString(),
      nextAttemptAt: new Date(this.runtime.clock.now()).toISOString(),
    }));
    const retrying = [...this.envelopes.values()].map((e) => ({
      id: e.id,
      kind: e.kind,
      url: e.url,
      entries: e.entries.length,
      subscriptionIds: [...new Set(e.entries.map((x) => x.subscriptionId))],
      attempts: e.attempts,
      firstAttemptAt: new Date(e.firstAttemptAt).toISOString(),
      nextAttemptAt: new Date(e.nextAttemptAt).toISOString(),
      ...(e.lastError ? { lastError: e.lastError } : {}),
    }));
    return [...buffered, ...retrying];
  }

  /** Records entries produced while delivery was disabled: they are lost, never sent. */
  lose(kind: DeliveryKind, entries: NotificationEntry[]): void {
    if (entries.length === 0) return;
    this.drop(
      { id: '', kind, url: '', entries, firstAttemptAt: 0, nextAttemptAt: 0, attempts: 0, inFlight: false },
      'disabled',
    );
  }

  /** Drops every queued or retrying entry of one subscription (deleted or expired subscriptions get nothing more). */
  forgetSubscription(subscriptionId: string, kind: DeliveryKind = 'change'): void {
    for (const buffer of this.buffers.values()) {
      if (buffer.kind === kind)
        buffer.entries = buffer.entries.filter((e) => e.subscriptionId !== subscriptionId);
    }
    for (const envelope of this.envelopes.values()) {
      if (envelope.kind !== kind || envelope.inFlight) continue;
      envelope.entries = envelope.entries.filter((e) => e.subscriptionId !== subscriptionId);
      if (envelope.entries.length === 0) this.envelopes.delete(envelope.id);
    }
  }

  /**
   * The validation handshake: POST `{url}?validationToken=…`, expect 200, `text/plain` and the
   * decoded token as the body within `validationTimeoutMs`.
   */
  async validate(url: string): Promise<ValidationResult> {
    const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
    const target = new URL(url);
    target.searchParams.append('validationToken', token);
    const started = Date.now();
    try {
      const res = await request(target, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'content-length': '0' },
        signal: AbortSignal.any([AbortSignal.timeout(this.options.validationTimeoutMs), this.abort.signal]),
      });
      const body = await res.body.text();
      if (Date.now() - started > this.options.validationTimeoutMs) {
        return { ok: false, message: 'Subscription validation request timed out.' };
      }
      if (res.statusCode !== 200) {
        return {
          ok: false,
          message: `Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request. Response status code: ${res.statusCode}.`,
        };
      }
      const contentType = String(res.headers['content-type'] ?? '');
      if (!contentType.toLowerCase().startsWith('text/plain')) {
        return {
          ok: false,
          message: `Subscription validation request failed. Response must have Content-Type text/plain, got '${contentType}'.`,
        };
      }
      if (body !== token) {
        return {
          ok: false,
          message:
            'Subscription validation request failed. Response must exactly match validationToken query parameter.',
        };
      }
      return { ok: true };
    } catch (err) {
      const name = (err as Error).name;
      if (
        name === 'TimeoutError' ||
        name === 'AbortError' ||
        (err as { code?: string }).code?.includes('TIMEOUT')
      ) {
        return { ok: false, message: 'Subscription validation request timed out.' };
      }
      return {
        ok: false,
        message: `Subscription validation request failed. Notification endpoint could not be reached: ${(err as Error).message}.`,
      };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const buffer of this.buffers.values()) clearTimeout(buffer.timer);
    this.buffers.clear();
    this.abort.abort();
    await Promise.allSettled([...this.inFlight]);
    this.envelopes.clear();
    await this.agent.close().catch(() => undefined);
  }

  private flushBuffer(key: string): void {
    const buffer = this.buffers.get(key);
    if (!buffer) return;
    this.buffers.delete(key);
    clearTimeout(buffer.timer);
    const now = this.runtime.clock.now();
    for (let i = 0; i < buffer.entries.length; i += this.options.maxEntriesPerPost) {
      const envelope: Envelope = {
        id: randomUUID(),
        kind: buffer.kind,
        url: buffer.url,
        entries: buffer.entries.slice(i, i + this.options.maxEntriesPerPost),
        firstAttemptAt: now,
        nextAttemptAt: now,
        attempts: 0,
        inFlight: false,
      };
      this.track(this.attempt(envelope));
    }
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  private drop(envelope: Envelope, reason: 'failed' | 'disabled'): void {
    const n = envelope.entries.length;
    if (envelope.kind === 'change') {
      if (reason === 'failed') {
        this.stats.failed += n;
        this.runtime.counters.notificationsFailed += n;
      } else {
        this.stats.lost += n;
      }
    } else {
      this.stats.lifecycleFailed += n;
    }
    this.hooks.onDropped?.(envelope.kind, envelope.entries, reason);
  }

  private async attempt(envelope: Envelope): Promise<void> {
    if (envelope.entries.length === 0) {
      this.envelopes.delete(envelope.id);
      return;
    }
    // Delivery paused: the notification is lost (lifecycle events still go out).
    if (envelope.kind === 'change' && !this.runtime.notificationsEnabled) {
      this.envelopes.delete(envelope.id);
      this.drop(envelope, 'disabled');
      return;
    }
    envelope.inFlight = true;
    envelope.attempts += 1;
    this.stats.posts += 1;
    const started = Date.now();
    let error: string | undefined;
    try {
      const res = await request(envelope.url, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ value: envelope.entries }),
        signal: AbortSignal.any([AbortSignal.timeout(this.options.deliveryTimeoutMs), this.abort.signal]),
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        if (Date.now() - started > this.options.slowThresholdMs) this.stats.slow += 1;
      } else {
        error = `HTTP ${res.statusCode}`;
      }
    } catch (err) {
      error = (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message;
    }
    envelope.inFlight = false;
    if (this.closed) return;
    if (error === undefined) {
      this.envelopes.delete(envelope.id);
      const n = envelope.entries.length;
      if (envelope.kind === 'change') {
        this.stats.delivered += n;
        this.runtime.counters.notificationsDelivered += n;
      } else {
        this.stats.lifecycleDelivered += n;
      }
      return;
    }
    this.stats.failedAttempts += 1;
    envelope.lastError = error;
    const now = this.runtime.clock.now();
    if (now - envelope.firstAttemptAt >= this.options.retryWindowMs) {
      this.envelopes.delete(envelope.id);
      this.drop(envelope, 'failed');
      return;
    }
    const delay = Math.min(
      this.options.retryBaseMs * 2 ** (envelope.attempts - 1),
      this.options.retryMaxIntervalMs,
    );
    envelope.nextAttemptAt = now + delay;
    this.envelopes.set(envelope.id, envelope);
  }
}
