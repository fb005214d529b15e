/** Fault rules (SimFaultRule): which request gets which fault. */
import type { SimFaultKind, SimFaultRule } from '../contracts.ts';
import { MutationError } from '../model/mutate.ts';
import { Prng } from '../model/prng.ts';

const KINDS: SimFaultKind[] = [
  'throttle429',
  'unavailable503',
  'gatewayTimeout504',
  'hang',
  'reset',
  'lostAnswer',
  'truncated',
  'malformedItem',
  'malformedFolder',
  'gone410',
  'expiredToken401',
  'forbidden403',
];

interface ActiveRule {
  rule: SimFaultRule;
  pattern: RegExp | null;
  matched: number;
  fired: boolean;
  drivesServed: Set<string>;
}

export interface FaultContext {
  path: string;
  /** Delta request carrying a token (not token=latest): the only place gone410 applies. */
  deltaWithToken: boolean;
  driveId?: string;
}

export function validateFaultRules(rules: unknown): SimFaultRule[] {
  if (!Array.isArray(rules)) throw new MutationError('faults must be an array of fault rules');
  return rules.map((r, k) => {
    if (!r || typeof r !== 'object') throw new MutationError(`faults[${k}] is not an object`);
    const rule = r as SimFaultRule;
    if (!KINDS.includes(rule.kind))
      throw new MutationError(`faults[${k}].kind must be one of ${KINDS.join(', ')}`);
    if (rule.rate !== undefined && (typeof rule.rate !== 'number' || rule.rate < 0 || rule.rate > 1))
      throw new MutationError(`faults[${k}].rate must be a number in 0..1`);
    if (rule.atRequest !== undefined && (!Number.isInteger(rule.atRequest) || rule.atRequest < 1))
      throw new MutationError(`faults[${k}].atRequest must be an integer ≥ 1`);
    if (rule.pathPattern !== undefined) {
      try {
        new RegExp(rule.pathPattern);
      } catch {
        throw new MutationError(`faults[${k}].pathPattern is not a valid regular expression`);
      }
    }
    if (rule.kind === 'forbidden403' && !rule.resourceType)
      throw new MutationError(`faults[${k}]: forbidden403 needs a resourceType`);
    return rule;
  });
}

export class FaultEngine {
  rules: ActiveRule[] = [];
  private rng: Prng;

  constructor(seed: number, rules: SimFaultRule[]) {
    this.rng = new Prng(seed, 31);
    this.set(rules);
  }

  set(rules: SimFaultRule[]): void {
    this.rules = validateFaultRules(rules).map((rule) => ({
      rule,
      pattern: rule.pathPattern ? new RegExp(rule.pathPattern) : null,
      matched: 0,
      fired: false,
      drivesServed: new Set(),
    }));
  }

  /**
   * forbidden403 rules are a standing condition (the app lacks a permission): true for every request of
   * that resource type, unless the rule has a rate (then per request) or atRequest (then once).
   */
  isForbidden(resourceType: string, path?: string): boolean {
    for (const r of this.rules) {
      if (r.rule.kind !== 'forbidden403' || r.rule.resourceType !== resourceType) continue;
      if (path !== undefined && r.pattern && !r.pattern.test(path)) continue;
      if (this.fires(r)) return true;
    }
    return false;
  }

  private fires(r: ActiveRule): boolean {
    if (r.rule.atRequest !== undefined) {
      r.matched++;
      if (!r.fired && r.matched === r.rule.atRequest) {
        r.fired = true;
        return true;
      }
      return false;
    }
    if (r.rule.rate !== undefined) return this.rng.next() < r.rule.rate;
    return true;
  }

  /** The fault (other than forbidden403) to serve for this request, if any. */
  pick(ctx: FaultContext): SimFaultKind | null {
    // every matching rule counts the request (atRequest is "the Nth matching request"), the first firing wins
    let chosen: ActiveRule | null = null;
    for (const r of this.rules) {
      if (r.rule.kind === 'forbidden403') continue;
      if (r.pattern && !r.pattern.test(ctx.path)) continue;
      if (r.rule.kind === 'gone410') {
        if (!ctx.deltaWithToken) continue;
        if (r.rule.oncePerDrive && ctx.driveId && r.drivesServed.has(ctx.driveId)) continue;
      }
      if (this.fires(r) && !chosen) chosen = r;
    }
    if (!chosen) return null;
    if (chosen.rule.kind === 'gone410' && ctx.driveId) chosen.drivesServed.add(ctx.driveId);
    return chosen.rule.kind;
  }

  /** Retry-After for a throttle fault: sometimes an integer, sometimes a decimal like "2.128". */
  retryAfter(timeScale: number): string {
    const secs = (0.5 + this.rng.next() * 2.5) / Math.max(1, timeScale);
    if (this.rng.chance(0.5) && secs >= 1) return String(Math.round(secs));
    return secs.toFixed(3);
  }
}
