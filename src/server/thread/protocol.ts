/**
 * Messages between the main thread and the HTTP server thread (see host.ts / entry.ts).
 * The server thread never waits for an answer from the main thread: every message it
 * sends is a notification, and it stays correct when none arrives (the inbox worker
 * rescans every second; the subscription cache reloads on unknown ids and periodically).
 */

import type { CommandFailure } from '../../app/commands/local-bus.ts';
import type { CommandActor } from '../../app/commands/types.ts';
import type { Config } from '../../config/config.ts';
import type { SubscriptionCacheChange } from '../../store/subscription-cache.ts';
import type { GraphUsage } from '../api/metrics.ts';
import type { RejectionCount } from '../webhooks/receiver.ts';

/** How the server thread reaches the databases (its own connections). */
export type ServerThreadDatabase =
  | {
      kind: 'sqlite';
      /** The main store file, opened read-only (WAL: readers run beside the collector's writer). */
      mainFile: string;
      /** The webhook inbox file the receiver writes (its own connection). */
      inboxFile: string;
      synchronous?: 'FULL' | 'NORMAL';
    }
  | {
      kind: 'postgres';
      databaseUrl: string;
      schema?: string;
      /** Pool size of the server thread (default 2). */
      connections?: number;
    };

export interface ServerThreadData {
  config: Config;
  database: ServerThreadDatabase;
  host: string;
  port: number;
  logLevel: string;
  /** Request body limit of the webhook routes (bytes). */
  webhookBodyLimit?: number;
  /** Record each POST's server time (headers parsed → response finished), for benchmarks. */
  recordTimings?: boolean;
  /** Rejection counters are handed to the main thread this often (ms, default 500). */
  rejectionFlushMs?: number;
  /** The subscription cache is reloaded from the database this often (ms, default 30 s). */
  cacheReloadMs?: number;
  /** The module the bootstrap imports (entry.ts). */
  entry: string;
  /** Serve the REST API and the web app too (their changes run as commands on the main thread). */
  api?: { webDir?: string };
  /**
   * While it starts, the thread says what it is doing at least this often (ms): a step that
   * cannot hang (loading modules, starting the inbox writer thread) repeats its 'starting'
   * message, so the host tells a slow start on a busy machine from a stuck one.
   */
  progressEveryMs?: number;
}

/** What the server thread measured since the last `take-timings` (with `recordTimings`; benchmarks). */
export interface ServerTimings {
  /** Each webhook POST: headers parsed → response finished (ms). */
  ms: number[];
  /** Each inbox commit (one group commit of the requests of one event-loop turn), ms. */
  commitMs: number[];
  /** The thread's event-loop delay (ms): how long a request that arrived could wait to be read. */
  loopDelayP99Ms: number | null;
  loopDelayMaxMs: number | null;
}

export const NO_TIMINGS: ServerTimings = { ms: [], commitMs: [], loopDelayP99Ms: null, loopDelayMaxMs: null };

export type ToServerThread =
  | { type: 'subscription'; change: SubscriptionCacheChange }
  | { type: 'reload-subscriptions' }
  | { type: 'flush-rejections'; requestId: number }
  | { type: 'take-timings'; requestId: number }
  /** The answer to a command the thread relayed. */
  | { type: 'command-result'; requestId: number; ok: true; value: unknown }
  | { type: 'command-result'; requestId: number; ok: false; failure: CommandFailure }
  /** The Graph clients' counters on the main thread, for /metrics. */
  | { type: 'graph-usage'; usage: GraphUsage[] }
  | { type: 'close' }
  /** A fault (tests, drills): the thread dies of an uncaught error, as a bug in it would. */
  | { type: 'crash'; message: string };

export type FromServerThread =
  /** A start-up step began (or, for one that cannot hang, is still going). */
  | { type: 'starting'; step: string }
  | { type: 'ready'; url: string }
  | { type: 'start-failed'; message: string }
  /** Inbox rows were committed: wake the inbox worker. */
  | { type: 'persisted' }
  | { type: 'rejections'; counters: RejectionCount[]; requestId?: number }
  | ({ type: 'timings'; requestId: number } & ServerTimings)
  /** An API change to run on the main thread (the owner of the writable store); answered by command-result. */
  | { type: 'command'; requestId: number; name: string; input: unknown; actor: CommandActor }
  | { type: 'closed' };
