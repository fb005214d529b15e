import type { Logger } from '../util/logger.ts';

/** A start-up step failed: which one, and why (the step's own error is the cause). */
export class StartError extends Error {
  constructor(
    /** The part that could not start, as the message names it. */
    readonly part: string,
    cause: unknown,
  ) {
    super(`could not start ${part}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StartError';
  }
}

/**
 * What a start-up has started so far, closed in reverse order: by `close()` once running, and
 * at once when a later step fails, so a start that fails part-way leaves no schedule, timer,
 * queue, client or thread running (a test or bench that catches the error does not leak, and
 * `drivewarden serve` is not kept alive by them).
 */
export class StartedParts {
  private readonly parts: Array<{ name: string; close: () => unknown }> = [];
  private readonly first: Array<() => void> = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /** Runs at once when closing begins, before any part closes (e.g. a flag nothing starts after). */
  whenClosing(hook: () => void): void {
    this.first.push(hook);
  }

  /** Registers something already running (or started later, whose closer copes with "not started"). */
  add(name: string, close: () => unknown): void {
    this.parts.push({ name, close });
  }

  /**
   * Starts one part and registers its closer (without one, the caller registers it). A failure
   * is a StartError naming the part (the parts started before it are the caller's to close).
   */
  async start<T>(name: string, start: () => T | Promise<T>, close?: (part: T) => unknown): Promise<T> {
    let part: T;
    try {
      part = await start();
    } catch (err) {
      throw err instanceof StartError ? err : new StartError(name, err);
    }
    if (close) this.add(name, () => close(part));
    return part;
  }

  /** Closes every part, last started first; a part that fails to close is logged, the others still close. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const hook of this.first) hook();
      for (let part = this.parts.pop(); part; part = this.parts.pop()) {
        try {
          await part.close();
        } catch (err) {
          this.logger.warn({ err, part: part.name }, 'could not close a part of the service');
        }
      }
    })();
    return this.closing;
  }
}
