import { randomUUID } from 'node:crypto';
import type { FetchedJob, JobBackend, SendOptions } from './types.ts';

interface MemoryJob extends FetchedJob {
  priority: number;
  seq: number;
  singletonKey?: string;
  retryLimit: number;
  retryDelaySeconds: number;
  startAfter: number;
  state: 'created' | 'active';
}

/**
 * The in-process backend of embedded (SQLite) mode: the same semantics as pg-boss with the
 * policy the queue uses ('short': one queued job per singleton key), priorities, retries after
 * a delay. Nothing survives the process, as before the queue existed: the durable parts of the
 * work (webhook inbox, checkpoints, the outbox) are in the store, and start-up catches up.
 */
export class MemoryBackend implements JobBackend {
  readonly name = 'memory' as const;
  private readonly queuesByName = new Map<string, MemoryJob[]>();
  private readonly listeners: Array<() => void> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;

  async send(queue: string, kind: string, payload: unknown, options: SendOptions): Promise<string | null> {
    const jobs = this.queue(queue);
    if (
      options.singletonKey !== undefined &&
      jobs.some((j) => j.state === 'created' && j.singletonKey === options.singletonKey)
    )
      return null;
    const job: MemoryJob = {
      id: randomUUID(),
      queue,
      kind,
      payload,
      retryCount: 0,
      priority: options.priority,
      seq: this.seq++,
      singletonKey: options.singletonKey,
      retryLimit: options.retryLimit,
      retryDelaySeconds: options.retryDelaySeconds,
      startAfter: 0,
      state: 'created',
    };
    jobs.push(job);
    if (options.delayMs && options.delayMs > 0) {
      job.startAfter = Date.now() + options.delayMs;
      this.wakeAfter(options.delayMs);
    } else this.wake();
    return job.id;
  }

  async fetch(queue: string): Promise<FetchedJob | undefined> {
    const now = Date.now();
    let best: MemoryJob | undefined;
    for (const j of this.queuesByName.get(queue) ?? []) {
      if (j.state !== 'created' || j.startAfter > now) continue;
      if (!best || j.priority > best.priority || (j.priority === best.priority && j.seq < best.seq)) best = j;
    }
    if (!best) return undefined;
    best.state = 'active';
    return best;
  }

  async complete(job: FetchedJob): Promise<void> {
    this.remove(job);
  }

  async fail(job: FetchedJob, _message: string): Promise<void> {
    const j = this.find(job);
    if (!j) return;
    if (j.retryCount >= j.retryLimit) {
      this.remove(job);
      return;
    }
    // A retry waits like a new queued job (pg-boss's 'retry' state is outside the singleton rule).
    j.retryCount += 1;
    j.state = 'created';
    j.singletonKey = undefined;
    j.startAfter = Date.now() + j.retryDelaySeconds * 1000;
    this.wakeAfter(j.retryDelaySeconds * 1000);
  }

  async discard(job: FetchedJob): Promise<void> {
    this.remove(job);
  }

  async queues(): Promise<string[]> {
    return [...this.queuesByName.keys()];
  }

  onSent(listener: () => void): void {
    this.listeners.push(listener);
  }

  pending(queue?: string): number {
    if (queue !== undefined) return this.queuesByName.get(queue)?.length ?? 0;
    let n = 0;
    for (const jobs of this.queuesByName.values()) n += jobs.length;
    return n;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queuesByName.clear();
  }

  /** Wakes the dispatcher when a delayed job (or a retry) becomes due. */
  private wakeAfter(ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.wake();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private wake(): void {
    for (const l of this.listeners) l();
  }

  private queue(name: string): MemoryJob[] {
    let jobs = this.queuesByName.get(name);
    if (!jobs) {
      jobs = [];
      this.queuesByName.set(name, jobs);
    }
    return jobs;
  }

  private find(job: FetchedJob): MemoryJob | undefined {
    return this.queuesByName.get(job.queue)?.find((j) => j.id === job.id);
  }

  private remove(job: FetchedJob): void {
    const jobs = this.queuesByName.get(job.queue);
    if (!jobs) return;
    const i = jobs.findIndex((j) => j.id === job.id);
    if (i >= 0) jobs.splice(i, 1);
  }
}
