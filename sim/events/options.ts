import type { SimRuntime } from '../contracts.ts';

/**
 * Tunables of the event half of the simulator. Every value has a default that follows
 * docs/graph-behaviour.md; tests shrink the real-time ones so they finish in seconds.
 *
 * "real ms" values are wall-clock milliseconds (timers, HTTP timeouts); "sim" values are
 * measured on the simulated clock (`runtime.clock`), which advances with real time and
 * jumps when the admin API advances it.
 */
export interface EventOptions {
  /** Real ms: how long notifications for one URL are collected before one POST carries them all. */
  coalesceMs: number;
  /** Most entries in one notification POST (more are split over several POSTs). */
  maxEntriesPerPost: number;
  /** Real ms: the validation handshake must answer within this (Graph: 10 s). */
  validationTimeoutMs: number;
  /** Real ms: a delivery not answered within this fails and is retried (Graph: 10 s). */
  deliveryTimeoutMs: number;
  /** Real ms: a 2xx answer slower than this counts as slow (Graph: 2.9 s). */
  slowThresholdMs: number;
  /** Sim ms: first retry delay after a failed delivery; doubles per attempt. */
  retryBaseMs: number;
  /** Sim ms: cap of the retry delay. */
  retryMaxIntervalMs: number;
  /** Sim ms: undelivered notifications are retried this long, then dropped (Graph: 4 h). */
  retryWindowMs: number;
  /** Real ms: housekeeping period (expiry, reauthorizationRequired, due retries). Also runs on every clock advance. */
  tickMs: number;
  /** reauthorizationRequired is sent once the remaining lifetime is at most this share of the subscription's lifetime. */
  reauthorizationFraction: number;
  /** Send a `missed` lifecycle event (when a lifecycle URL exists) after notifications were lost or dropped. */
  autoMissed: boolean;
  /** PEM CA(s) trusted for https notification URLs (in addition to the system store). */
  deliveryCa?: string;
  /** Verify the certificate of https notification URLs. */
  deliveryRejectUnauthorized: boolean;
  /** Shown as `applicationId` of subscriptions when the bearer token carries no `appid`/`azp`. */
  applicationId?: string;
  /** Fallback admin secret when `runtime.verifyAdmin` is not provided. */
  adminSecret?: string;

  /** Sim seconds: every audit event becomes available this long after it happened. */
  auditDelaySeconds: number;
  /** Sim seconds: audit events that become available within one such window share a content blob. */
  auditBlobSeconds: number;
  /** 0..1: share of audit events held back by a random extra delay (→ late, out-of-order blobs). */
  auditLateRate: number;
  /** Sim seconds: the largest extra delay of a late event (Graph: up to 12 h). */
  auditMaxLateSeconds: number;
  /** 0..1: share of audit events served a second time, same Id, in a later blob (consumers must de-duplicate on Id). */
  auditDuplicateRate: number;
  /** Content entries per page of `subscriptions/content` (next page in `NextPageUri`). */
  auditContentPageSize: number;
  /** Records per content blob; a window with more gets several blobs (a week of history injected at once). */
  auditMaxBlobRecords: number;
  /** Requests per minute per tenant on the Management Activity API; over it: 429 AF429. */
  managementRateLimitPerMinute: number;
}

export const defaultEventOptions: EventOptions = {
  coalesceMs: 100,
  maxEntriesPerPost: 100,
  validationTimeoutMs: 10_000,
  deliveryTimeoutMs: 10_000,
  slowThresholdMs: 2_900,
  retryBaseMs: 30_000,
  retryMaxIntervalMs: 15 * 60_000,
  retryWindowMs: 4 * 3_600_000,
  tickMs: 1_000,
  reauthorizationFraction: 0.1,
  autoMissed: false,
  deliveryRejectUnauthorized: true,
  auditDelaySeconds: 0,
  auditBlobSeconds: 10,
  auditLateRate: 0,
  auditMaxLateSeconds: 12 * 3600,
  auditDuplicateRate: 0,
  auditContentPageSize: 200,
  auditMaxBlobRecords: 2_000,
  managementRateLimitPerMinute: 2_000,
};

/** Defaults, then `runtime.options.events` (if the core passes one through), then `overrides`. */
export function resolveEventOptions(runtime: SimRuntime, overrides?: Partial<EventOptions>): EventOptions {
  const fromRuntime = runtime.options.events ?? {};
  const merged: EventOptions = { ...defaultEventOptions };
  for (const source of [fromRuntime, overrides ?? {}]) {
    for (const [key, value] of Object.entries(source)) {
      if (value !== undefined) (merged as unknown as Record<string, unknown>)[key] = value;
    }
  }
  return merged;
}

const RATIOS = new Set<keyof EventOptions>([
  'reauthorizationFraction',
  'auditLateRate',
  'auditDuplicateRate',
]);
const AT_LEAST_ONE = new Set<keyof EventOptions>([
  'maxEntriesPerPost',
  'tickMs',
  'auditContentPageSize',
  'auditMaxBlobRecords',
  'managementRateLimitPerMinute',
]);
const STRINGS = new Set<string>(['deliveryCa', 'applicationId', 'adminSecret']);

/** Problems with a partial EventOptions (unknown keys, wrong types, out of range); empty when fine. */
export function checkEventOptions(events: unknown): string[] {
  if (events === undefined) return [];
  if (events === null || typeof events !== 'object' || Array.isArray(events))
    return ['events must be an object of event options'];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(events)) {
    if (value === undefined) continue;
    const k = key as keyof EventOptions;
    if (STRINGS.has(key)) {
      if (typeof value !== 'string') problems.push(`events.${key} must be a string`);
    } else if (!(key in defaultEventOptions)) problems.push(`events.${key} is not an event option`);
    else if (typeof defaultEventOptions[k] === 'boolean') {
      if (typeof value !== 'boolean') problems.push(`events.${key} must be a boolean`);
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
      problems.push(`events.${key} must be a number ≥ 0`);
    else if (RATIOS.has(k) && value > 1) problems.push(`events.${key} must be in 0..1`);
    else if (AT_LEAST_ONE.has(k) && value < 1) problems.push(`events.${key} must be ≥ 1`);
  }
  return problems;
}

/** Small deterministic PRNG (mulberry32) so a seed gives the same late/duplicate pattern. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0 || 0x9e3779b9;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
