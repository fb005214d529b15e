import type { CommandBus, CommandFailure } from '../../app/commands/local-bus.ts';
import type { CommandActor } from '../../app/commands/types.ts';
import { ApiError } from './errors.ts';

/**
 * The command bus of the HTTP server thread: each command is posted to the main thread (the
 * owner of the writable store and the Graph clients) and its answer awaited. Only API
 * changes wait for the main thread; webhook acknowledgements never do.
 */
export class ThreadCommandBus implements CommandBus {
  private next = 1;
  private readonly pending = new Map<
    number,
    { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }
  >();

  constructor(
    private readonly post: (message: {
      type: 'command';
      requestId: number;
      name: string;
      input: unknown;
      actor: CommandActor;
    }) => void,
    private readonly timeoutMs = 120_000,
  ) {}

  run: CommandBus['run'] = (name, input, actor) =>
    new Promise((resolve, reject) => {
      const requestId = this.next++;
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(
          new ApiError(
            503,
            'unavailable',
            `${String(name)}: no answer from the service in ${this.timeoutMs / 1000} s`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(requestId, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.post({ type: 'command', requestId, name: String(name), input, actor });
    });

  /** The main thread's answer. */
  settle(
    requestId: number,
    result: { ok: true; value: unknown } | { ok: false; failure: CommandFailure },
  ): void {
    const entry = this.pending.get(requestId);
    if (!entry) return;
    this.pending.delete(requestId);
    clearTimeout(entry.timer);
    if (result.ok) entry.resolve(result.value);
    else entry.reject(new ApiError(result.failure.status, result.failure.code, result.failure.message));
  }

  /** Fails whatever is still waiting (the thread is closing). */
  close(): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new ApiError(503, 'unavailable', 'the server is stopping'));
      this.pending.delete(id);
    }
  }
}
