/**
 * Throttling helpers: Retry-After parsing, exponential backoff with full jitter, and the
 * tenant gate that pauses every request of a client while the tenant is throttled.
 */

export const sleep = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();

/**
 * `Retry-After` in seconds, decimals allowed ("2.128"), or an HTTP date. Returns
 * milliseconds, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.min(MAX_RETRY_AFTER_MS, Math.ceil(Number(v) * 1000));
  const date = Date.parse(v);
  if (!Number.isNaN(date)) return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, date - now));
  return undefined;
}

/**
 * The longest pause a Retry-After can impose (15 min). Graph asks for seconds to minutes; a
 * larger value is a bug or hostile, and past 2^31 ms node's timers fire at once (a spin).
 */
export const MAX_RETRY_AFTER_MS = 15 * 60 * 1000;

export interface BackoffOptions {
  baseMs: number;
  capMs: number;
}

/** Full jitter: a uniform delay in [0, min(cap, base·2^attempt)] (attempt 0 = first retry). */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * The tenant gate. `pause(ms)` moves the deadline before which no request of this client
 * may be sent (it only ever moves forward); `wait()` resolves once the deadline passed.
 * `pausedMs` is the total wall-clock time the tenant was paused (the union of the pause
 * intervals, not a sum over waiters).
 */
export class TenantGate {
  private deadline = 0;
  private total = 0;
  private readonly marginMs: number;

  /** @param marginMs added to every pause so timer rounding never sends a request early. */
  constructor(marginMs = 20) {
    this.marginMs = marginMs;
  }

  pause(ms: number, now = Date.now()): void {
    const until = now + ms + this.marginMs;
    if (until <= this.deadline) return;
    this.total += until - Math.max(now, this.deadline);
    this.deadline = until;
  }

  /** Milliseconds left before requests may be sent again (0 = open). */
  remainingMs(now = Date.now()): number {
    return Math.max(0, this.deadline - now);
  }

  get pausedMs(): number {
    // Only the part of the current pause that has elapsed is "time the tenant was paused" so far.
    return this.total - this.remainingMs();
  }

  async wait(): Promise<void> {
    for (let left = this.remainingMs(); left > 0; left = this.remainingMs()) await sleep(left);
  }
}
