import { PgAdvisoryLocks } from '../store/exclusive.ts';
import type { Logger } from '../util/logger.ts';

/**
 * Which `drivewarden serve` replica runs the schedules (issue 14): every replica serves the
 * API, the web app and the webhook receiver; one — the leader — runs what must happen once:
 * start-up collections, subscriptions, the webhook inbox, polling, the audit feed, exposure
 * counts, reviews, auto-remediation, full rule evaluations and alert delivery.
 *
 * PostgreSQL: the leader holds a session-level advisory lock on a connection of its own
 * (store/exclusive.ts). The server frees it the moment that session ends — a clean stop, a
 * crash, kill -9 — so a follower, trying every `retryMs`, takes over within a few seconds,
 * with no lease to renew and nothing a slow but live leader could lose. SQLite (one process
 * owns the store): always the leader.
 */
export interface Leadership {
  /** Whether this process leads now. */
  isLeader(): boolean;
  /** Resolves when this process becomes the leader (at once when it is the only one); never rejects. */
  readonly acquired: Promise<void>;
  close(): Promise<void>;
}

/** The only process there is (SQLite, tests): the leader from the start. */
export function soleLeader(): Leadership {
  return { isLeader: () => true, acquired: Promise.resolve(), close: async () => undefined };
}

export interface ElectionOptions {
  databaseUrl: string;
  /** Separates stores sharing a database (their schema). */
  namespace: string;
  logger: Logger;
  /** How often a follower tries the lock (ms, default 2 s). */
  retryMs?: number;
  /**
   * The leader's lock session ended (the database restarted, the connection broke): another
   * replica may lead already, so this one must stop leading at once. `serve` exits (a
   * supervisor restarts it as a follower), as workers do when their lock session goes:
   * stopping every schedule in place, with runs and deliveries in flight, would be a second,
   * rarely exercised shutdown path for the same outcome.
   */
  onLost(err: Error): void;
}

const LEADER_KEY = 'serve:leader';

/** Joins the election: leads at once if no replica does, else tries again every `retryMs`. */
export async function electLeader(options: ElectionOptions): Promise<Leadership> {
  const retryMs = options.retryMs ?? 2000;
  let leading = false;
  let closed = false;
  let session: PgAdvisoryLocks | undefined;
  let timer: NodeJS.Timeout | undefined;
  let becameLeader!: () => void;
  const acquired = new Promise<void>((resolve) => {
    becameLeader = resolve;
  });

  const open = () =>
    PgAdvisoryLocks.open(options.databaseUrl, options.namespace, (err) => {
      if (closed) return;
      // A follower's broken session held nothing: the next try opens another.
      session = undefined;
      if (leading) options.onLost(err);
    });

  const attempt = async (): Promise<void> => {
    session ??= await open();
    if (await session.tryAcquire(LEADER_KEY)) {
      leading = true;
      options.logger.info('leader: this replica runs the schedules');
      becameLeader();
    }
  };
  const retry = () => {
    if (closed || leading) return;
    timer = setTimeout(() => {
      attempt()
        .catch((err) => {
          options.logger.warn({ err: (err as Error).message }, 'leader election: could not try the lock');
          void session?.close();
          session = undefined;
        })
        .finally(retry);
    }, retryMs);
    timer.unref();
  };

  await attempt();
  if (!leading) options.logger.info('follower: another replica runs the schedules');
  retry();
  return {
    isLeader: () => leading,
    acquired,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await session?.close();
    },
  };
}

/** Runs `start` now if this process leads, else once it does (not after `closed()` says so). */
export function whenLeader(leadership: Leadership, start: () => void, closed: () => boolean): void {
  if (leadership.isLeader()) start();
  else
    void leadership.acquired.then(() => {
      if (!closed()) start();
    });
}
