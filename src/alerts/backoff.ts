/**
 * Delay before retry number `attempt` (1 = after the first failure): exponential from
 * `baseMs`, capped at `maxMs`, with equal jitter (half fixed, half random) so that
 * deliveries failing together do not retry together, yet never retry at once.
 */
export function backoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}
