import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { pgClient } from './connection.ts';
import type { Database } from './schema.ts';

/**
 * Exclusive runs across processes: one delta run per drive (and one rule evaluation per
 * integration) at a time, whichever worker holds the job. The queue's singleton key already
 * keeps a second job of a key out of the queue, but a queue cannot promise more than that: a
 * job whose lease expired while its worker was still busy is handed to another worker. This
 * guard is what makes interleaving impossible.
 *
 * PostgreSQL: a session-level advisory lock per key, all held on one dedicated connection per
 * process. The server releases a dead process's locks the moment its connection ends (kill -9
 * included), with no expiry to tune and nothing a slow but live holder could lose; a lease
 * row would need heartbeats and could be taken from a live holder that missed them. Losing
 * that connection while runs go on would release their locks, so the owner treats it as fatal
 * (`onLost`). SQLite (one process writes the store): the same protocol over an in-memory set.
 *
 * A caller that finds the key locked does not wait: it leaves a "run again" request
 * (`run_requests`) and re-checks the lock once; the holder, after releasing, takes the request
 * and runs again. So runs asked for during a run become exactly one follow-up run, no worker
 * slot is spent waiting, and no request is lost between "locked" and "released".
 */
export interface ExclusiveLocks {
  tryAcquire(key: string): Promise<boolean>;
  release(key: string): Promise<void>;
  close(): Promise<void>;
}

export type ExclusiveOutcome<T> = { ran: true; result: T } | { ran: false };

/**
 * Runs `run` holding `key`, then again for as long as run requests arrived meanwhile. When
 * another process holds the key, leaves a request for it and returns `{ ran: false }`.
 * `run` gets the source of the request it serves (the caller's for the first run).
 */
export async function runExclusive<T>(
  db: Kysely<Database>,
  locks: ExclusiveLocks,
  key: string,
  source: string,
  run: (source: string) => Promise<T>,
): Promise<ExclusiveOutcome<T>> {
  if (!(await locks.tryAcquire(key))) {
    await requestRun(db, key, source);
    // The holder may have released between our attempt and the request: then nobody would look.
    if (!(await locks.tryAcquire(key))) return { ran: false };
  }
  let current = source;
  let result: T;
  for (;;) {
    try {
      // Requests made before this point are covered by this run.
      await takeRequest(db, key);
      result = await run(current);
    } finally {
      await locks.release(key);
    }
    // After releasing: a request made during the run is ours to serve, unless another process
    // took the lock meanwhile (it takes the request too).
    const next = await peekRequest(db, key);
    if (!next || !(await locks.tryAcquire(key))) return { ran: true, result };
    current = next;
  }
}

async function requestRun(db: Kysely<Database>, key: string, source: string): Promise<void> {
  await db
    .insertInto('run_requests')
    .values({ lock_key: key, source, requested_ms: Date.now() })
    .onConflict((oc) => oc.column('lock_key').doNothing())
    .execute();
}

async function peekRequest(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('run_requests')
    .select('source')
    .where('lock_key', '=', key)
    .executeTakeFirst();
  return row?.source;
}

async function takeRequest(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const row = await db
    .deleteFrom('run_requests')
    .where('lock_key', '=', key)
    .returning('source')
    .executeTakeFirst();
  return row?.source;
}

/** The key of one drive's delta runs. */
export const driveKey = (integrationId: string, driveId: string): string =>
  `drive:${integrationId}:${driveId}`;

/** In one process (SQLite): a set of held keys. */
export class LocalLocks implements ExclusiveLocks {
  private readonly held = new Set<string>();
  async tryAcquire(key: string): Promise<boolean> {
    if (this.held.has(key)) return false;
    this.held.add(key);
    return true;
  }
  async release(key: string): Promise<void> {
    this.held.delete(key);
  }
  async close(): Promise<void> {
    this.held.clear();
  }
}

/**
 * PostgreSQL session advisory locks on one dedicated connection. Advisory locks are re-entrant
 * within a session, so the keys this process holds are also tracked here: a second run of the
 * same key in this process is refused like one in another process.
 */
export class PgAdvisoryLocks implements ExclusiveLocks {
  private readonly held = new Set<string>();
  private lost: Error | undefined;
  private constructor(
    private readonly client: pg.Client,
    private readonly namespace: string,
    /** The server process of the lock session (tests end it as kill -9 would). */
    readonly backendPid: number,
  ) {}

  /** `namespace` separates stores sharing a database (their schema). `onLost` is called once if the connection ends. */
  static async open(
    databaseUrl: string,
    namespace: string,
    onLost: (err: Error) => void,
  ): Promise<PgAdvisoryLocks> {
    const client = pgClient({ databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    const locks = new PgAdvisoryLocks(client, namespace, rows[0].pid);
    const fail = (err: Error) => {
      if (locks.lost) return;
      locks.lost = err;
      onLost(err);
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('the advisory-lock connection ended')));
    return locks;
  }

  /** Two 32-bit halves of SHA-256(namespace, key): a collision would only serialise two keys. */
  private lockId(key: string): [number, number] {
    const d = createHash('sha256').update(`${this.namespace}\u0000${key}`).digest();
    return [d.readInt32BE(0), d.readInt32BE(4)];
  }

  async tryAcquire(key: string): Promise<boolean> {
    if (this.lost) throw this.lost;
    if (this.held.has(key)) return false;
    this.held.add(key);
    try {
      const r = await this.client.query<{ ok: boolean }>(
        'select pg_try_advisory_lock($1, $2) as ok',
        this.lockId(key),
      );
      if (!r.rows[0]?.ok) this.held.delete(key);
      return r.rows[0]?.ok === true;
    } catch (err) {
      this.held.delete(key);
      throw err;
    }
  }

  async release(key: string): Promise<void> {
    if (!this.held.delete(key) || this.lost) return;
    await this.client.query('select pg_advisory_unlock($1, $2)', this.lockId(key));
  }

  async close(): Promise<void> {
    this.lost ??= new Error('closed');
    this.held.clear();
    this.client.removeAllListeners('end');
    await this.client.end().catch(() => undefined);
  }
}
