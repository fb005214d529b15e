import type { Timers } from './types.ts';

/**
 * A simulated clock for tests and the simulator: timers fire only when `advance` moves
 * time past them, in due order (ties in creation order).
 */
export class ManualTimers implements Timers {
  private current: number;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; seq: number; fn: () => void }>();

  constructor(startMs = Date.parse('2025-01-01T00:00:00Z')) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.current + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Number of timers not yet fired. */
  get size(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones set while firing). */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      await settle(); // let promise chains started earlier (or by the last timer) run first
      let next: { id: number; at: number; seq: number; fn: () => void } | undefined;
      for (const [id, t] of this.pending) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)))
          next = { id, ...t };
      }
      if (!next) break;
      this.pending.delete(next.id);
      this.current = Math.max(this.current, next.at);
      next.fn();
    }
    this.current = target;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
