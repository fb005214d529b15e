import { Worker } from 'node:worker_threads';
import type { Store } from '../store/store.ts';
import { moduleUrl, startingModule } from '../util/runtime-files.ts';
import type { RuleDefinition } from './definition.ts';
import { openReadSession, type ReadSession } from './read-session.ts';
import { type RuleRunOptions, type RuleRunResult, runRuleOnSession } from './rule-runner.ts';
import type { RuleTask, RuleTaskAnswer } from './worker/rule-worker.ts';

/**
 * Several rules at once in a full evaluation. A rule's SQL is one synchronous SQLite call
 * on the thread that runs it, so SQLite runs rules in worker threads, each with its own
 * read-only connection; PostgreSQL runs them on several read-only sessions of the pool.
 * Every rule still sees a snapshot taken after the evaluation fixed its cursor bound, so
 * nothing below the bound is missed; the findings are written by the caller, one rule at a
 * time.
 */
export interface RuleExecutor {
  /** Rules that run at the same time. */
  readonly slots: number;
  run(rule: RuleDefinition, opts: Omit<RuleRunOptions, 'scope' | 'onRow'>): Promise<RuleRunResult>;
  close(): Promise<void>;
}

const BOOT = new URL('./worker/boot.mjs', import.meta.url);
const ENTRY = moduleUrl('./worker/rule-worker.ts', import.meta.url);

/** Worker threads over a SQLite file; kept for as long as the caller keeps the executor. */
export function startSqliteWorkers(file: string, size: number): RuleExecutor {
  interface Job {
    task: RuleTask;
    resolve(r: RuleRunResult): void;
    reject(e: Error): void;
  }
  const queue: Job[] = [];
  const workers = Array.from({ length: Math.max(1, size) }, () => {
    const slot: { worker: Worker; job?: Job } = {
      worker: new Worker(startingModule('./worker/rule-worker.ts', import.meta.url, BOOT), {
        workerData: { entry: ENTRY.href, file },
      }),
    };
    slot.worker.unref();
    slot.worker.on('message', (answer: RuleTaskAnswer) => {
      const job = slot.job;
      slot.job = undefined;
      if (job && answer.ok) job.resolve(answer.result);
      else job?.reject(new Error(answer.ok ? 'unexpected answer' : answer.message));
      pump();
    });
    slot.worker.on('error', (err) => {
      slot.job?.reject(err);
      slot.job = undefined;
    });
    return slot;
  });
  // One rule per worker at a time: the next waits in the queue.
  const pump = () => {
    for (const slot of workers) {
      if (slot.job || queue.length === 0) continue;
      slot.job = queue.shift();
      slot.worker.postMessage(slot.job?.task);
    }
  };
  let next = 0;
  return {
    slots: workers.length,
    run(rule, opts) {
      const task: RuleTask = {
        id: ++next,
        rule,
        integrationId: opts.integrationId,
        params: opts.params,
        now: opts.now,
      };
      return new Promise<RuleRunResult>((resolve, reject) => {
        queue.push({ task, resolve, reject });
        pump();
      });
    },
    async close() {
      for (const job of queue.splice(0)) job.reject(new Error('the rule workers were closed'));
      await Promise.all(workers.map((w) => w.worker.terminate()));
    },
  };
}

/** Read-only PostgreSQL sessions for one evaluation (each its own snapshot, taken after the bound). */
export async function openPgSessions(store: Store, size: number): Promise<RuleExecutor> {
  const sessions: ReadSession[] = [];
  for (let i = 0; i < Math.max(1, size); i++) sessions.push(await openReadSession(store));
  const free = [...sessions];
  const waiters: Array<(s: ReadSession) => void> = [];
  return {
    slots: sessions.length,
    async run(rule, opts) {
      const session = free.pop() ?? (await new Promise<ReadSession>((ok) => waiters.push(ok)));
      try {
        return await runRuleOnSession(session, rule, opts);
      } finally {
        const waiter = waiters.shift();
        if (waiter) waiter(session);
        else free.push(session);
      }
    },
    async close() {
      await Promise.all(sessions.map((s) => s.close()));
    },
  };
}
