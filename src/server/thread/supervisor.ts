/**
 * Keeps the HTTP server thread running: when it dies (an uncaught error, a crash of its
 * native modules) it is started again on the same port after a backoff, and when it keeps
 * dying the supervisor gives up and, unless told otherwise, ends the process with exit
 * code 1 — a server that cannot acknowledge webhooks must not look healthy.
 *
 * While the thread is down, Graph's notifications fail and Graph retries them; the new
 * thread loads the subscription cache from the database, so changes relayed to the dead
 * one are not lost. Rejection counters the dead thread had not handed over are.
 */

import type { SubscriptionCacheChange } from '../../store/subscription-cache.ts';
import type { GraphUsage } from '../api/metrics.ts';
import { ServerThread, type ServerThreadOptions } from './host.ts';
import { NO_TIMINGS, type ServerTimings } from './protocol.ts';

export interface RestartPolicy {
  /** Delay before the first restart (ms); doubled for each death within the window. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Give up at this many deaths within `windowMs`. */
  maxDeaths: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 250,
  maxDelayMs: 10_000,
  maxDeaths: 5,
  windowMs: 60_000,
};

export interface SupervisedServerThreadOptions extends Omit<ServerThreadOptions, 'onExit'> {
  restart?: Partial<RestartPolicy>;
  /** A restarted thread listens again. */
  onRestart?(): void;
  /** The thread kept dying. Default: log it, say it on stderr and exit the process with code 1. */
  onGiveUp?(err: Error): void;
}

export class SupervisedServerThread {
  private current: ServerThread | undefined;
  private deaths: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly policy: RestartPolicy;
  /** http://host:port the thread listens on (the same after every restart). */
  url = '';
  /** Restarts so far. */
  restarts = 0;

  private constructor(private readonly options: SupervisedServerThreadOptions) {
    this.policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
  }

  /** Starts the thread; resolves once it listens (rejects when the first start fails). */
  static async start(options: SupervisedServerThreadOptions): Promise<SupervisedServerThread> {
    const supervisor = new SupervisedServerThread(options);
    supervisor.current = await ServerThread.start(supervisor.threadOptions(options.port));
    supervisor.url = supervisor.current.url;
    return supervisor;
  }

  private threadOptions(port: number): ServerThreadOptions {
    const { restart: _r, onRestart: _s, onGiveUp: _g, ...rest } = this.options;
    return { ...rest, port, onExit: (reason) => this.died(reason) };
  }

  private died(reason: string): void {
    this.current = undefined;
    if (this.stopped) return;
    const now = Date.now();
    this.deaths = this.deaths.filter((t) => now - t < this.policy.windowMs);
    this.deaths.push(now);
    const { logger } = this.options;
    if (this.deaths.length >= this.policy.maxDeaths) {
      this.stopped = true;
      const err = new Error(
        `the HTTP server thread died ${this.deaths.length} times within ${Math.round(this.policy.windowMs / 1000)} s ` +
          `(last: ${reason}); giving up`,
      );
      if (this.options.onGiveUp) this.options.onGiveUp(err);
      else {
        logger.fatal({ err }, 'HTTP server thread keeps dying');
        process.stderr.write(`drivewarden: ${err.message}\n`);
        process.exit(1);
      }
      return;
    }
    const delay = Math.min(
      this.policy.maxDelayMs,
      this.policy.initialDelayMs * 2 ** (this.deaths.length - 1),
    );
    logger.error({ reason, restartInMs: delay }, 'HTTP server thread died; restarting it');
    this.restartTimer = setTimeout(() => void this.restart(), delay);
  }

  private async restart(): Promise<void> {
    this.restartTimer = undefined;
    if (this.stopped) return;
    const port = Number(new URL(this.url).port);
    let thread: ServerThread;
    try {
      thread = await ServerThread.start(this.threadOptions(port));
    } catch (err) {
      this.died(`restart failed: ${(err as Error).message}`);
      return;
    }
    if (this.stopped) {
      await thread.close();
      return;
    }
    // It may have died again already (then `died` ran and a restart is scheduled).
    if (!thread.alive) return;
    this.current = thread;
    this.restarts++;
    this.options.logger.warn({ url: this.url, restarts: this.restarts }, 'HTTP server thread restarted');
    this.options.onRestart?.();
  }

  /** Whether a thread is listening now (false between a death and its restart). */
  get alive(): boolean {
    return this.current?.alive ?? false;
  }

  subscriptionChanged(change: SubscriptionCacheChange): void {
    this.current?.subscriptionChanged(change);
  }

  reloadSubscriptions(): void {
    this.current?.reloadSubscriptions();
  }

  graphUsage(usage: GraphUsage[]): void {
    this.current?.graphUsage(usage);
  }

  async flushRejections(): Promise<void> {
    await this.current?.flushRejections();
  }

  async takeTimings(): Promise<ServerTimings> {
    return this.current ? this.current.takeTimings() : NO_TIMINGS;
  }

  /** Fault injection (tests, drills): the current thread dies of an uncaught error. */
  crash(message?: string): void {
    this.current?.crash(message);
  }

  /** Stops supervising and closes the thread. */
  async close(timeoutMs?: number): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.current?.close(timeoutMs);
  }
}
