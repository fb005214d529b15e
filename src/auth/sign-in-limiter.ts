/**
 * Sign-in throttling, in the memory of the process that serves the API:
 * - failures per username and address: after `perUser` failures within `windowMs` that pair
 *   is refused until the oldest failure leaves the window (a success clears the pair);
 * - failures per address, any username: after `perAddress` likewise (password spraying);
 * - password checks at once: scrypt takes ~128 MiB per check, so at most `concurrent` run,
 *   `queue` more wait, and the rest are refused.
 * A refused attempt never reaches the password check, so it reveals nothing.
 */

export interface LimiterOptions {
  windowMs: number;
  perUser: number;
  perAddress: number;
  concurrent: number;
  queue: number;
  /** Keys remembered at most (oldest dropped first). */
  maxKeys: number;
  now: () => number;
}

export const DEFAULT_LIMITS: LimiterOptions = {
  windowMs: 15 * 60_000,
  perUser: 5,
  perAddress: 50,
  concurrent: 2,
  queue: 50,
  maxKeys: 10_000,
  now: () => Date.now(),
};

export class SignInLimited extends Error {
  constructor(
    message: string,
    /** Seconds until another attempt may pass. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'SignInLimited';
  }
}

export class SignInLimiter {
  private readonly failures = new Map<string, number[]>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly options: LimiterOptions;

  constructor(options: Partial<LimiterOptions> = {}) {
    this.options = { ...DEFAULT_LIMITS, ...options };
  }

  /**
   * Runs `check` (the password check: resolves null on a failure) unless the pair or the
   * address is locked out; counts a failure or clears the pair. Throws SignInLimited.
   */
  async attempt<T>(username: string, address: string, check: () => Promise<T | null>): Promise<T | null> {
    const userKey = `u:${username.trim().toLowerCase()}|${address}`;
    const addressKey = `a:${address}`;
    this.refuseWhenLocked(userKey, this.options.perUser, 'too many failed sign-ins for this user');
    this.refuseWhenLocked(addressKey, this.options.perAddress, 'too many failed sign-ins from this address');
    const result = await this.limited(check);
    if (result === null) {
      this.fail(userKey);
      this.fail(addressKey);
    } else this.failures.delete(userKey);
    return result;
  }

  private recent(key: string): number[] {
    const since = this.options.now() - this.options.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }

  private refuseWhenLocked(key: string, max: number, message: string): void {
    const list = this.recent(key);
    if (list.length < max) return;
    const until = list[list.length - max] + this.options.windowMs;
    const seconds = Math.max(1, Math.ceil((until - this.options.now()) / 1000));
    throw new SignInLimited(`${message}: try again in ${seconds} s`, seconds);
  }

  private fail(key: string): void {
    const list = this.recent(key);
    list.push(this.options.now());
    // Re-insert so the Map's order is oldest-touched first, then bound its size.
    this.failures.delete(key);
    this.failures.set(key, list.slice(-Math.max(this.options.perUser, this.options.perAddress)));
    while (this.failures.size > this.options.maxKeys) {
      const oldest = this.failures.keys().next().value;
      if (oldest === undefined) break;
      this.failures.delete(oldest);
    }
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.concurrent) {
      if (this.waiting.length >= this.options.queue)
        throw new SignInLimited('too many sign-ins at once: try again in a moment', 1);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
