/**
 * What a policy does with the events of one routing pass (plus what it held back before):
 * nothing, hold them (quiet hours, rate limit exhausted), one message each, or one digest.
 */
export type Decision =
  | { action: 'none' }
  | { action: 'hold'; reason: 'quiet_hours' | 'rate_limit' }
  | { action: 'singles' }
  | { action: 'digest'; reason: 'burst' | 'quiet_hours' | 'rate_limit' };

export interface DecisionInput {
  /** Inside the policy's quiet hours now. */
  quiet: boolean;
  /** Events matched in this pass. */
  fresh: number;
  /** Why earlier events are held, if any are. */
  heldReason: 'quiet_hours' | 'rate_limit' | null;
  /** fresh + held. */
  total: number;
  /** From this many events on, one digest. */
  threshold: number;
  /** Messages the rate limit still allows in its window (Infinity without one). */
  allowance: number;
}

export function decide(d: DecisionInput): Decision {
  if (d.quiet) return d.fresh > 0 ? { action: 'hold', reason: 'quiet_hours' } : { action: 'none' };
  if (d.total === 0) return { action: 'none' };
  if (d.allowance <= 0) return d.fresh > 0 ? { action: 'hold', reason: 'rate_limit' } : { action: 'none' };
  // A single event is a plain alert, however it got here.
  if (d.total === 1) return { action: 'singles' };
  if (d.heldReason) return { action: 'digest', reason: d.heldReason };
  if (d.total >= d.threshold) return { action: 'digest', reason: 'burst' };
  if (d.total > d.allowance) return { action: 'digest', reason: 'rate_limit' };
  return { action: 'singles' };
}
