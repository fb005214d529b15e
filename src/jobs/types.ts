import type { z } from 'zod';

/**
 * The job queue: work that any process may do (drive delta runs, start-up collections,
 * directory rounds, rule evaluations) as jobs of a kind, with a zod-validated payload.
 * Two backends keep the same semantics: pg-boss on PostgreSQL (several workers, several
 * machines) and an in-process queue in embedded (SQLite) mode.
 *
 * - **Tenant queues.** Every job belongs to a tenant (an integration, or `system`); each tenant
 *   has its own queue. Workers take jobs round-robin over the tenants, at most `perTenant` of a
 *   tenant at once, so one big tenant does not starve the others.
 * - **Priority** orders a tenant's queue (higher first): real-time deltas before polls before
 *   full syncs. Across tenants the round-robin decides.
 * - **Singleton key**: at most one *queued* job per key (a second enqueue while one waits is
 *   dropped: the waiting job covers it). Runs of a key never overlap because handlers of
 *   exclusive work run under store/exclusive.ts, which queues one follow-up run instead.
 * - **Retries**: a handler that throws is retried after `retryDelaySeconds`, up to
 *   `retryLimit` times. A job whose worker died is retried once its lease
 *   (`expireInSeconds`) ran out (pg-boss's supervisor).
 */
export interface JobKind<P> {
  name: string;
  schema: z.ZodType<P>;
  handler(payload: P, job: { id: string; retryCount: number }): Promise<void>;
  /** Default priority of this kind's jobs. */
  priority?: number;
  retryLimit?: number;
  retryDelaySeconds?: number;
  /** How long a job may stay active before another worker may take it (pg-boss). */
  expireInSeconds?: number;
}

export interface EnqueueOptions {
  /** The integration the job works for, or 'system'. */
  tenant: string;
  priority?: number;
  singletonKey?: string;
  /**
   * Not before this many ms from now (a debounce: with a singleton key, enqueues made while
   * it waits are covered by it).
   */
  delayMs?: number;
}

export interface JobQueue {
  readonly backendName: 'memory' | 'pg-boss';
  /** Validates the payload (a clear error naming the kind and the field) and queues the job; null when a job with the singleton key already waits. */
  enqueue<P>(kind: JobKind<P>, payload: P, options: EnqueueOptions): Promise<string | null>;
  /** Starts taking jobs of the kinds given (a serve that only enqueues passes none). */
  work(kinds: Array<JobKind<never>>, options?: WorkOptions): void;
  /**
   * Resolves when nothing is queued or running in this process's view (memory: exact; tests);
   * with a tenant, nothing of that tenant.
   */
  idle(tenant?: string): Promise<void>;
  stats(): DispatchStats;
  close(): Promise<void>;
}

export interface WorkOptions {
  /** Jobs running at once in this process (default 4). */
  concurrency?: number;
  /** Jobs of one tenant running at once in this process (default: half the concurrency, at least 1). */
  perTenant?: number;
  /** How often empty queues are asked again (ms, default 500; the memory backend is woken at once). */
  pollMs?: number;
}

export interface DispatchStats {
  started: number;
  completed: number;
  failed: number;
  /** Jobs started per tenant, in order (the last 1000): what fairness is measured on. */
  order: string[];
  /** Jobs completed per kind (e.g. `drive.delta`). */
  completedByKind: Record<string, number>;
}

/** A job as a backend hands it over. */
export interface FetchedJob {
  id: string;
  queue: string;
  kind: string;
  payload: unknown;
  retryCount: number;
}

export interface SendOptions {
  priority: number;
  singletonKey?: string;
  /** Not before this many ms from now. */
  delayMs?: number;
  retryLimit: number;
  retryDelaySeconds: number;
  expireInSeconds: number;
}

/** What a queue needs from storage: per-tenant queues of prioritised jobs. */
export interface JobBackend {
  readonly name: 'memory' | 'pg-boss';
  send(queue: string, kind: string, payload: unknown, options: SendOptions): Promise<string | null>;
  /** The next job of a queue (highest priority, oldest first), now active; undefined when none is ready. */
  fetch(queue: string): Promise<FetchedJob | undefined>;
  complete(job: FetchedJob): Promise<void>;
  /** The handler threw: retried after its delay while retries are left. */
  fail(job: FetchedJob, message: string): Promise<void>;
  /**
   * The job's worker is alive and still running it: its lease starts again (pg-boss: the job's
   * started_on moves to now). Absent where leases do not expire (memory).
   */
  renew?(job: FetchedJob): Promise<void>;
  /** The job can never run (its payload is invalid): not retried. */
  discard(job: FetchedJob, message: string): Promise<void>;
  /** The tenant queues that exist. */
  queues(): Promise<string[]>;
  /** Called when a job is sent from this process (memory: wakes the dispatcher). */
  onSent(listener: () => void): void;
  /** Jobs queued or active (memory), of one queue or all; undefined when the backend cannot say cheaply. */
  pending(queue?: string): number | undefined;
  close(): Promise<void>;
}

export const QUEUE_PREFIX = 'dw_tenant_';

/** A tenant's queue name (pg-boss names allow letters, digits, `_`, `-`, `.`). */
export function queueOf(tenant: string): string {
  return QUEUE_PREFIX + tenant.replace(/[^A-Za-z0-9_.-]/g, '_');
}
