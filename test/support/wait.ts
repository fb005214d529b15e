/** Waiting in tests: for a condition that other code makes true, or for a fixed time. */

export interface WaitOptions {
  /** Give up after this long; generous, because a loaded CI machine can be slow. */
  timeoutMs?: number;
  /** How often to check. */
  intervalMs?: number;
}

/**
 * Checks `probe` until it answers something other than undefined, null or false, and returns
 * that answer; throws `timed out waiting for <what>` when the time is up.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 10_000, intervalMs = 10 }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
