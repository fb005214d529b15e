/**
 * The main thread's side of the HTTP server thread: starts it (boot.mjs registers tsx,
 * then entry.ts runs the Fastify app), relays "rows persisted" to the inbox worker and
 * rejection counters to the main database, forwards subscription changes to the thread's
 * cache, and stops it. Requests the main thread makes (`flushRejections`, `takeTimings`)
 * wait for the thread; the thread never waits for the main thread.
 */
import { Worker } from 'node:worker_threads';
import type { CommandName } from '../../app/commands/index.ts';
import { type CommandBus, failureOf } from '../../app/commands/local-bus.ts';
import type { SubscriptionCacheChange } from '../../store/subscription-cache.ts';
import type { Logger } from '../../util/logger.ts';
import { COMPILED, moduleUrl, startingModule } from '../../util/runtime-files.ts';
import type { GraphUsage } from '../api/metrics.ts';
import type { RejectionCount } from '../webhooks/receiver.ts';
import {
  type FromServerThread,
  NO_TIMINGS,
  type ServerThreadData,
  type ServerTimings,
  type ToServerThread,
} from './protocol.ts';

export interface ServerThreadOptions extends Omit<ServerThreadData, 'entry'> {
  logger: Logger;
  /** Inbox rows were committed by the thread. */
  onPersisted(): void;
  /** Rejection counters from the thread (periodic, on request and at close). */
  onRejections(counters: RejectionCount[]): void;
  /**
   * Start-up limit (ms, default 30 s): the longest the thread may go without progress — a new
   * step, or word that a step that cannot hang (loading its modules) is still going. Not a limit
   * on the whole start, which on a busy machine may take longer from the TypeScript sources.
   */
  startStallMs?: number;
  /** The thread ended without being closed (it died): why, as far as known. */
  onExit?(reason: string): void;
  /** Runs the API's changes the thread relays (with `api` set); without it they fail as unavailable. */
  commands?: CommandBus;
  /** The thread's module (default entry.ts; a test starts a stand-in speaking the same protocol). */
  entry?: URL;
}

const BOOT = new URL('./boot.mjs', import.meta.url);
const ENTRY = moduleUrl('./entry.ts', import.meta.url);

export class ServerThread {
  private nextRequest = 1;
  private readonly pending = new Map<number, (message: FromServerThread) => void>();
  private exited = false;
  private readonly exit: Promise<void>;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly options: ServerThreadOptions,
    /** http://host:port the thread listens on. */
    readonly url: string,
    /** Resolves with the exit code once the worker ended (listened to from its creation on). */
    exit: Promise<number>,
    lastError: () => Error | undefined,
  ) {
    this.exit = exit.then((code) => {
      this.exited = true;
      for (const resolve of this.pending.values()) resolve({ type: 'closed' });
      this.pending.clear();
      if (!this.closing) this.options.onExit?.(lastError()?.message ?? `exit code ${code}`);
    });
  }

  /** Whether the thread is still running. */
  get alive(): boolean {
    return !this.exited;
  }

  /** Starts the thread; resolves once it listens (rejects when it could not start). */
  static async start(options: ServerThreadOptions): Promise<ServerThread> {
    const { logger, onPersisted, onRejections, startStallMs, onExit, commands, entry, ...rest } = options;
    const stallMs = startStallMs ?? 30_000;
    const module = entry ?? ENTRY;
    const data: ServerThreadData = { ...rest, entry: module.href, progressEveryMs: Math.ceil(stallMs / 6) };
    // Per-thread flags (e.g. --cpu-prof from the bench) are inherited; from the sources the
    // loader comes from boot.mjs, the build starts its entry directly.
    // A given entry (a test's fixture) starts as the product's entry would from the same code.
    const start = entry ? (COMPILED ? entry : BOOT) : startingModule('./entry.ts', import.meta.url, BOOT);
    const worker = new Worker(start, { workerData: data });
    const exit = new Promise<number>((resolve) => worker.once('exit', resolve));
    let thread: ServerThread | undefined;
    const early: FromServerThread[] = [];
    worker.on('message', (message: FromServerThread) => {
      if (thread) thread.onMessage(message);
      else early.push(message);
    });
    let lastError: Error | undefined;
    worker.on('error', (err) => {
      lastError = err;
      logger.error({ err }, 'HTTP server thread failed');
    });
    const url = await new Promise<string>((resolve, reject) => {
      const t0 = performance.now();
      let step = 'loading its modules';
      let timer: NodeJS.Timeout | undefined;
      const rearm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          const seconds = ((performance.now() - t0) / 1000).toFixed(1);
          reject(
            new Error(
              `the HTTP server thread did not start: no progress for ${stallMs / 1000} s while ${step} (${seconds} s since it was started)`,
            ),
          );
        }, stallMs);
      };
      rearm();
      const done = () => clearTimeout(timer);
      const listener = (message: FromServerThread) => {
        if (message.type === 'starting') {
          if (message.step !== step)
            logger.debug(
              { step: message.step, ms: Math.round(performance.now() - t0) },
              'HTTP server thread starting',
            );
          step = message.step;
          rearm();
        } else if (message.type === 'ready') {
          logger.debug({ ms: Math.round(performance.now() - t0) }, 'HTTP server thread started');
          done();
          resolve(message.url);
        } else if (message.type === 'start-failed') {
          done();
          reject(new Error(`HTTP server thread: ${message.message}`));
        }
      };
      worker.on('message', listener);
      worker.once('error', (err) => {
        done();
        reject(err);
      });
      worker.once('exit', (code) => {
        done();
        reject(new Error(`HTTP server thread exited during start-up (${code})`));
      });
    }).catch(async (err: unknown) => {
      await worker.terminate().catch(() => undefined);
      throw err;
    });
    thread = new ServerThread(worker, options, url, exit, () => lastError);
    for (const message of early) thread.onMessage(message);
    return thread;
  }

  private onMessage(message: FromServerThread): void {
    switch (message.type) {
      case 'persisted':
        this.options.onPersisted();
        break;
      case 'rejections':
        if (message.counters.length > 0) this.options.onRejections(message.counters);
        if (message.requestId !== undefined) this.settle(message.requestId, message);
        break;
      case 'timings':
        this.settle(message.requestId, message);
        break;
      case 'command':
        void this.runCommand(message);
        break;
      default:
        break;
    }
  }

  private settle(requestId: number, message: FromServerThread): void {
    const resolve = this.pending.get(requestId);
    this.pending.delete(requestId);
    resolve?.(message);
  }

  private send(message: ToServerThread): void {
    if (!this.exited) this.worker.postMessage(message);
  }

  private request(make: (requestId: number) => ToServerThread, timeoutMs = 2000): Promise<FromServerThread> {
    if (this.exited) return Promise.resolve({ type: 'closed' });
    const requestId = this.nextRequest++;
    return new Promise<FromServerThread>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        resolve({ type: 'closed' });
      }, timeoutMs);
      timer.unref();
      this.pending.set(requestId, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      this.send(make(requestId));
    });
  }

  private async runCommand(message: Extract<FromServerThread, { type: 'command' }>): Promise<void> {
    const { requestId } = message;
    try {
      if (!this.options.commands) throw new Error('this server runs no commands');
      const value = await this.options.commands.run(
        message.name as CommandName,
        message.input as never,
        message.actor,
      );
      this.send({ type: 'command-result', requestId, ok: true, value });
    } catch (err) {
      const failure = failureOf(err);
      if (failure.status === 500)
        this.options.logger.error({ err, command: message.name }, 'API command failed');
      this.send({ type: 'command-result', requestId, ok: false, failure });
    }
  }

  /** The Graph clients' counters, for the thread's /metrics. */
  graphUsage(usage: GraphUsage[]): void {
    this.send({ type: 'graph-usage', usage });
  }

  /** Forwards a subscription change to the thread's cache. */
  subscriptionChanged(change: SubscriptionCacheChange): void {
    this.send({ type: 'subscription', change });
  }

  /** Asks the thread to reload its subscription cache from the database. */
  reloadSubscriptions(): void {
    this.send({ type: 'reload-subscriptions' });
  }

  /** Fetches the thread's rejection counters now (they arrive through `onRejections`). */
  async flushRejections(): Promise<void> {
    await this.request((requestId) => ({ type: 'flush-rejections', requestId }));
  }

  /** What the thread measured since the last call (with `recordTimings`). */
  async takeTimings(): Promise<ServerTimings> {
    const reply = await this.request((requestId) => ({ type: 'take-timings', requestId }));
    if (reply.type !== 'timings') return NO_TIMINGS;
    const { ms, commitMs, loopDelayP99Ms, loopDelayMaxMs } = reply;
    return { ms, commitMs, loopDelayP99Ms, loopDelayMaxMs };
  }

  /** Fault injection (tests, drills): the thread dies of an uncaught error. */
  crash(message = 'crash requested'): void {
    this.send({ type: 'crash', message });
  }

  /** Stops listening, hands over the last counters and ends the thread (terminated after `timeoutMs`). */
  close(timeoutMs = 10_000): Promise<void> {
    this.closing ??= (async () => {
      if (this.exited) return;
      this.send({ type: 'close' });
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      });
      const closed = new Promise<boolean>((resolve) => {
        const listener = (message: FromServerThread) => {
          if (message.type === 'closed') {
            this.worker.off('message', listener);
            resolve(false);
          }
        };
        this.worker.on('message', listener);
        void this.exit.then(() => resolve(false));
      });
      const late = await Promise.race([closed, timedOut]);
      clearTimeout(timer);
      if (late) this.options.logger.warn('HTTP server thread did not close in time; terminating it');
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
