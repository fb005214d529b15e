/**
 * Refuses webhook sources that send mostly entries the receiver rejects (forged client
 * states, unknown subscriptions, malformed entries). Graph itself sends valid entries for the
 * subscriptions drivewarden made, so a source past the threshold is a flood or a probe: it gets
 * 429 before its body is read, for `blockMs`, and genuine acknowledgements keep the server's
 * time. Counting is per source address over a sliding window; memory is bounded by `maxSources`.
 */
export interface SourceGuardOptions {
  /** Rejected entries a source may send per window before it is refused (default 200). */
  maxRejected?: number;
  windowMs?: number;
  blockMs?: number;
  maxSources?: number;
  now?: () => number;
}

interface SourceState {
  windowStart: number;
  rejected: number;
  blockedUntil: number;
}

export class SourceGuard {
  private readonly sources = new Map<string, SourceState>();
  private readonly maxRejected: number;
  private readonly windowMs: number;
  private readonly blockMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;
  /** Requests refused because their source was blocked. */
  refused = 0;

  constructor(options: SourceGuardOptions = {}) {
    this.maxRejected = options.maxRejected ?? 200;
    this.windowMs = options.windowMs ?? 10_000;
    this.blockMs = options.blockMs ?? 60_000;
    this.maxSources = options.maxSources ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Whether a request from `source` is refused now (counted in `refused`). */
  blocked(source: string): boolean {
    const state = this.sources.get(source);
    if (!state || state.blockedUntil <= this.now()) return false;
    this.refused++;
    return true;
  }

  /** Records what the receiver rejected of one request from `source`. */
  record(source: string, rejected: number): void {
    if (rejected === 0) return;
    const now = this.now();
    let state = this.sources.get(source);
    if (!state) {
      if (this.sources.size >= this.maxSources) this.evict(now);
      state = { windowStart: now, rejected: 0, blockedUntil: 0 };
      this.sources.set(source, state);
    }
    if (now - state.windowStart > this.windowMs) {
      state.windowStart = now;
      state.rejected = 0;
    }
    state.rejected += rejected;
    if (state.rejected > this.maxRejected) state.blockedUntil = now + this.blockMs;
  }

  /** Drops sources that are neither blocked nor in a current window (then the oldest, if still full). */
  private evict(now: number): void {
    for (const [source, s] of this.sources)
      if (s.blockedUntil <= now && now - s.windowStart > this.windowMs) this.sources.delete(source);
    if (this.sources.size >= this.maxSources) {
      const oldest = this.sources.keys().next().value;
      if (oldest !== undefined) this.sources.delete(oldest);
    }
  }
}
