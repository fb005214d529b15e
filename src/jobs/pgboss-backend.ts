import PgBoss from 'pg-boss';
import type { Logger } from '../util/logger.ts';
import { type FetchedJob, type JobBackend, QUEUE_PREFIX, type SendOptions } from './types.ts';

export interface PgBossBackendOptions {
  databaseUrl: string;
  /** pg-boss's own schema (default `pgboss`): one per store that shares the database. */
  schema?: string;
  /** How often expired leases are handed back to the queue (s, default 30; the supervisor runs in one process at a time). */
  maintenanceIntervalSeconds?: number;
  /** Connections of pg-boss's own pool (default 4). */
  connections?: number;
  logger?: Logger;
}

/**
 * pg-boss 10 on PostgreSQL. One queue per tenant with the 'short' policy: at most one job per
 * singleton key in the created state (a job waiting covers the next enqueue), any number
 * active. 'stately' (one queued and one active per key) looks closer, but pg-boss fetches
 * the head of a queue and a head whose key is active fails the whole fetch: one busy drive
 * would stop its tenant's queue. Runs of a key are kept apart by store/exclusive.ts instead.
 * A job carries `{ kind, payload }`; every job has a singleton key (jobs without one get
 * their own), because 'short' treats a missing key as one shared key.
 */
export class PgBossBackend implements JobBackend {
  readonly name = 'pg-boss' as const;
  private readonly created = new Set<string>();
  private readonly listeners: Array<() => void> = [];

  private constructor(
    private readonly boss: PgBoss,
    private readonly schema: string,
  ) {}

  static async open(options: PgBossBackendOptions): Promise<PgBossBackend> {
    const schema = options.schema ?? 'pgboss';
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid job queue schema name "${schema}"`);
    const boss = new PgBoss({
      connectionString: options.databaseUrl,
      schema,
      max: options.connections ?? 4,
      application_name: 'drivewarden-jobs',
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 30,
      // No cron here: schedules are the service's, run once across replicas (server/leader.ts).
      schedule: false,
    });
    boss.on('error', (err) => options.logger?.warn({ err: err.message }, 'job queue (pg-boss) error'));
    await boss.start();
    return new PgBossBackend(boss, schema);
  }

  async send(queue: string, kind: string, payload: unknown, options: SendOptions): Promise<string | null> {
    await this.ensureQueue(queue);
    const id = await this.boss.send(queue, { kind, payload } as object, {
      priority: options.priority,
      singletonKey: options.singletonKey ?? `job:${crypto.randomUUID()}`,
      retryLimit: options.retryLimit,
      retryDelay: options.retryDelaySeconds,
      expireInSeconds: options.expireInSeconds,
      ...(options.delayMs && options.delayMs > 0
        ? { startAfter: new Date(Date.now() + options.delayMs) }
        : {}),
    });
    if (id) for (const l of this.listeners) l();
    return id;
  }

  async fetch(queue: string): Promise<FetchedJob | undefined> {
    const [job] = await this.boss.fetch<{ kind: string; payload: unknown }>(queue, {
      batchSize: 1,
      priority: true,
      includeMetadata: true,
    });
    if (!job) return undefined;
    return {
      id: job.id,
      queue,
      kind: job.data?.kind,
      payload: job.data?.payload,
      retryCount: job.retryCount,
    };
  }

  async complete(job: FetchedJob): Promise<void> {
    await this.boss.complete(job.queue, job.id);
  }

  /**
   * pg-boss 10 has no heartbeat (its lease is started_on + expire_in, checked by maintenance),
   * so the lease is renewed the way its own fetch starts it: started_on = now() on the active job.
   */
  async renew(job: FetchedJob): Promise<void> {
    await this.boss
      .getDb()
      .executeSql(
        `update ${this.schema}.job set started_on = now() where name = $1 and id = $2 and state = 'active'`,
        [job.queue, job.id],
      );
  }

  async fail(job: FetchedJob, message: string): Promise<void> {
    await this.boss.fail(job.queue, job.id, { message });
  }

  async discard(job: FetchedJob, message: string): Promise<void> {
    await this.boss.fail(job.queue, job.id, { message });
    // A failed job with retries left goes back to 'retry': cancel it for good.
    await this.boss.cancel(job.queue, job.id).catch(() => undefined);
  }

  async queues(): Promise<string[]> {
    const all = await this.boss.getQueues();
    return all.map((q) => q.name).filter((n) => n.startsWith(QUEUE_PREFIX));
  }

  onSent(listener: () => void): void {
    this.listeners.push(listener);
  }

  pending(_queue?: string): undefined {
    return undefined;
  }

  /** A job's state (tests, and serve waiting for a start-up collection). */
  async state(queue: string, id: string): Promise<string | undefined> {
    return (await this.boss.getJobById(queue, id))?.state;
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true, timeout: 1000 });
  }

  private async ensureQueue(queue: string): Promise<void> {
    if (this.created.has(queue)) return;
    // createQueue is idempotent (insert … on conflict do nothing) across processes.
    await this.boss.createQueue(queue, { name: queue, policy: 'short' });
    this.created.add(queue);
  }
}
