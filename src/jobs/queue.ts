import type { Logger } from '../util/logger.ts';
import {
  type DispatchStats,
  type EnqueueOptions,
  type FetchedJob,
  type JobBackend,
  type JobKind,
  type JobQueue,
  queueOf,
  type WorkOptions,
} from './types.ts';

const DEFAULTS = { priority: 0, retryLimit: 10, retryDelaySeconds: 5, expireInSeconds: 15 * 60 };

/**
 * The queue over a backend: enqueue validates and sends; `work` runs a dispatcher that
 * takes jobs round-robin over the tenant queues with a per-tenant cap. Round-robin at fetch
 * time (rather than one shared queue ordered by priority) is what keeps a tenant with
 * 100,000 queued drives from holding every worker slot: each free slot goes to the next
 * tenant that has a job and is under its cap. Priority orders a tenant's own queue, where
 * real-time deltas and full syncs compete for the same RU budget.
 */
export function createJobQueue(backend: JobBackend, logger?: Logger): JobQueue {
  const kinds = new Map<string, JobKind<never>>();
  const stats: DispatchStats = { started: 0, completed: 0, failed: 0, order: [], completedByKind: {} };
  const running = new Set<Promise<void>>();
  const activeByQueue = new Map<string, number>();
  let closed = false;
  let working = false;
  let options: Required<WorkOptions> = { concurrency: 4, perTenant: 2, pollMs: 500 };
  let cursor = 0;
  let wakeUp: (() => void) | undefined;
  let loop: Promise<void> | undefined;
  let knownQueues: string[] = [];
  let queuesReadAt = 0;
  const idleWaiters: Array<{ queue?: string; resolve: () => void }> = [];

  const wake = () => {
    const w = wakeUp;
    wakeUp = undefined;
    w?.();
  };
  backend.onSent(wake);

  const isIdle = (queue?: string) =>
    queue === undefined
      ? running.size === 0 && (backend.pending() ?? 0) === 0
      : (activeByQueue.get(queue) ?? 0) === 0 && (backend.pending(queue) ?? 0) === 0;
  const checkIdle = () => {
    for (let i = idleWaiters.length - 1; i >= 0; i--) {
      const w = idleWaiters[i];
      if (!isIdle(w.queue)) continue;
      idleWaiters.splice(i, 1);
      w.resolve();
    }
  };

  const run = async (job: FetchedJob) => {
    const kind = kinds.get(job.kind);
    const tenant = job.queue;
    try {
      // A kind this process does not know (an older worker during an upgrade): another may.
      if (!kind) throw new Error(`this worker has no handler for job kind "${job.kind}"`);
      const parsed = kind.schema.safeParse(job.payload);
      if (!parsed.success) {
        const msg = `job ${job.id} (${job.kind}): invalid payload: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`;
        await backend.discard(job, msg);
        logger?.error({ kind: job.kind, id: job.id }, msg);
        return;
      }
      // A lease measures silence, not run time: renewed while the handler runs, it expires only
      // when the worker died (kill -9, lost machine), so leases can be short and runs long.
      const leaseMs = (kind.expireInSeconds ?? DEFAULTS.expireInSeconds) * 1000;
      const renewal = backend.renew
        ? setInterval(
            () =>
              void backend
                .renew?.(job)
                .catch((err) =>
                  logger?.warn({ id: job.id, err: err.message }, 'could not renew a job lease'),
                ),
            Math.max(250, leaseMs / 4),
          )
        : undefined;
      renewal?.unref();
      try {
        await kind.handler(parsed.data as never, { id: job.id, retryCount: job.retryCount });
      } finally {
        clearInterval(renewal);
      }
      await backend.complete(job);
      stats.completed++;
      stats.completedByKind[job.kind] = (stats.completedByKind[job.kind] ?? 0) + 1;
    } catch (err) {
      stats.failed++;
      const message = (err as Error)?.message ?? String(err);
      logger?.warn(
        { kind: job.kind, id: job.id, retry: job.retryCount, err: message },
        'job failed; retried later',
      );
      await backend
        .fail(job, message)
        .catch((e) => logger?.error({ err: e }, 'could not record a job failure'));
    } finally {
      activeByQueue.set(tenant, (activeByQueue.get(tenant) ?? 1) - 1);
    }
  };

  /** The next job round-robin over the queues under their cap, or undefined after a full pass found none. */
  const next = async (): Promise<FetchedJob | undefined> => {
    if (Date.now() - queuesReadAt > 2000 || backend.name === 'memory') {
      knownQueues = (await backend.queues()).sort();
      queuesReadAt = Date.now();
    }
    const n = knownQueues.length;
    for (let i = 0; i < n; i++) {
      const queue = knownQueues[(cursor + i) % n];
      if ((activeByQueue.get(queue) ?? 0) >= options.perTenant) continue;
      const job = await backend.fetch(queue);
      if (job) {
        // The next search starts after this tenant.
        cursor = (cursor + i + 1) % n;
        return job;
      }
    }
    return undefined;
  };

  const dispatch = async () => {
    while (!closed) {
      if (running.size >= options.concurrency) {
        await Promise.race(running);
        continue;
      }
      let job: FetchedJob | undefined;
      try {
        job = await next();
      } catch (err) {
        if (closed) return;
        logger?.warn({ err: (err as Error).message }, 'job queue: fetch failed; trying again');
      }
      if (!job) {
        checkIdle();
        // Closed while fetching: its wake-up came before this wait (whose timer is unref'd).
        if (closed) return;
        let poll: NodeJS.Timeout | undefined;
        const waitFor = new Promise<void>((resolve) => {
          wakeUp = resolve;
          poll = setTimeout(resolve, options.pollMs);
          poll.unref();
        });
        // A finishing job frees a tenant's cap: look again then too.
        await Promise.race([waitFor, ...running]);
        // Woken early (a job, an enqueue, close): the poll timer is not left pending.
        clearTimeout(poll);
        continue;
      }
      activeByQueue.set(job.queue, (activeByQueue.get(job.queue) ?? 0) + 1);
      stats.started++;
      stats.order.push(job.queue);
      if (stats.order.length > 1000) stats.order.shift();
      const p: Promise<void> = run(job).finally(() => {
        running.delete(p);
        checkIdle();
      });
      running.add(p);
    }
  };

  return {
    backendName: backend.name,
    async enqueue<P>(kind: JobKind<P>, payload: P, opts: EnqueueOptions): Promise<string | null> {
      const parsed = kind.schema.safeParse(payload);
      if (!parsed.success)
        throw new Error(
          `job ${kind.name}: invalid payload: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
        );
      return backend.send(queueOf(opts.tenant), kind.name, parsed.data, {
        priority: opts.priority ?? kind.priority ?? DEFAULTS.priority,
        singletonKey: opts.singletonKey === undefined ? undefined : `${kind.name}:${opts.singletonKey}`,
        delayMs: opts.delayMs,
        retryLimit: kind.retryLimit ?? DEFAULTS.retryLimit,
        retryDelaySeconds: kind.retryDelaySeconds ?? DEFAULTS.retryDelaySeconds,
        expireInSeconds: kind.expireInSeconds ?? DEFAULTS.expireInSeconds,
      });
    },
    work(list, opts = {}) {
      for (const k of list) kinds.set(k.name, k);
      if (working || list.length === 0) return;
      working = true;
      const concurrency = Math.max(1, opts.concurrency ?? 4);
      options = {
        concurrency,
        perTenant: Math.max(1, opts.perTenant ?? Math.ceil(concurrency / 2)),
        pollMs: opts.pollMs ?? 500,
      };
      loop = dispatch();
    },
    async idle(tenant) {
      const queue = tenant === undefined ? undefined : queueOf(tenant);
      if (closed || isIdle(queue)) return;
      await new Promise<void>((resolve) => idleWaiters.push({ queue, resolve }));
    },
    stats: () => ({ ...stats, order: [...stats.order], completedByKind: { ...stats.completedByKind } }),
    async close() {
      closed = true;
      wake();
      await loop;
      await Promise.allSettled([...running]);
      for (const w of idleWaiters.splice(0)) w.resolve();
      await backend.close();
    },
  };
}
