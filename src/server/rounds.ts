/**
 * Rounds of background work on the service's schedule: run on a timer and when kicked, never
 * two at once; a kick during a round runs exactly one more after it. A round that throws is
 * reported through `onError` and the schedule goes on.
 */
export interface Rounds {
  /** Runs a round now (or one more after the current one). */
  kick(): void;
  /** Resolves once no round is running or asked for. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export function startRounds(o: {
  intervalMs: number;
  /** One round; `stopped()` turns true when the schedule is stopping (a long round may end early). */
  round: (stopped: () => boolean) => Promise<void>;
  onError: (err: Error) => void;
}): Rounds {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const run = async () => {
    do {
      again = false;
      try {
        await o.round(() => stopped);
      } catch (err) {
        o.onError(err as Error);
      }
    } while (again && !stopped);
  };
  const kick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = run().finally(() => {
      running = null;
    });
  };
  const timer = setInterval(kick, o.intervalMs);
  timer.unref();
  return {
    kick,
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
