import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { type AccessScope, makePlan, type RemovalPlan, type RemovalStep, stepKey } from './plan.ts';
import { planForFinding } from './targets.ts';

/**
 * Auto-remediation: off unless a rule is allowed for an integration. An allowed rule's open
 * alarms are remediated once they have been open for its grace period (the owner's time to
 * object: a suppressed finding is no longer open, so it is left alone), at most `daily_cap`
 * removals per integration per UTC day, so a bad rule cannot strip a tenant.
 */

export const DEFAULT_DAILY_CAP = 25;
export const AUTO_ACTOR_PREFIX = 'auto:';

export class AutoRemediationError extends Error {}

type Db = Kysely<Database>;

/** "24h", "30m", "2d", "90s", "0" → seconds. */
export function parseGrace(text: string, what = 'grace period'): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/i.exec(text);
  if (!m) throw new AutoRemediationError(`${what} "${text}": expected a duration like 24h, 30m, 2d or 0`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2].toLowerCase() as '' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

export interface AllowedRule {
  ruleId: string;
  graceSeconds: number;
  scope: AccessScope;
  createdAt: string;
  createdBy: string;
}

export async function allowRule(
  db: Db,
  o: {
    integrationId: string;
    ruleId: string;
    graceSeconds: number;
    scope: AccessScope;
    actor: string;
    now: Date;
  },
): Promise<void> {
  if (!/^[a-z0-9_]+$/.test(o.ruleId)) throw new AutoRemediationError(`"${o.ruleId}" is not a rule id`);
  const values = {
    grace_seconds: o.graceSeconds,
    scope: o.scope,
    created_at: o.now.toISOString(),
    created_by: o.actor,
  };
  await db
    .insertInto('auto_remediation_rules')
    .values({ integration_id: o.integrationId, rule_id: o.ruleId, ...values })
    .onConflict((oc) => oc.columns(['integration_id', 'rule_id']).doUpdateSet(values))
    .execute();
}

/** True when the rule was allowed. */
export async function disallowRule(db: Db, integrationId: string, ruleId: string): Promise<boolean> {
  const r = await db
    .deleteFrom('auto_remediation_rules')
    .where('integration_id', '=', integrationId)
    .where('rule_id', '=', ruleId)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

export async function allowedRules(db: Db, integrationId: string): Promise<AllowedRule[]> {
  const rows = await db
    .selectFrom('auto_remediation_rules')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .orderBy('rule_id')
    .execute();
  return rows.map((r) => ({
    ruleId: r.rule_id,
    graceSeconds: Number(r.grace_seconds),
    scope: r.scope,
    createdAt: iso(r.created_at),
    createdBy: r.created_by,
  }));
}

export async function setDailyCap(
  db: Db,
  integrationId: string,
  cap: number,
  actor: string,
  now: Date,
): Promise<void> {
  if (!Number.isInteger(cap) || cap < 0)
    throw new AutoRemediationError(`daily cap must be a whole number ≥ 0, not ${cap}`);
  const values = { daily_cap: cap, updated_at: now.toISOString(), updated_by: actor };
  await db
    .insertInto('auto_remediation_limits')
    .values({ integration_id: integrationId, ...values })
    .onConflict((oc) => oc.column('integration_id').doUpdateSet(values))
    .execute();
}

export async function dailyCap(db: Db, integrationId: string): Promise<number> {
  const row = await db
    .selectFrom('auto_remediation_limits')
    .select('daily_cap')
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
  return row ? Number(row.daily_cap) : DEFAULT_DAILY_CAP;
}

/** Automatic removals Graph carried out since 00:00 UTC of `now`'s day. */
export async function usedToday(db: Db, integrationId: string, now: Date): Promise<number> {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const rows = await db
    .selectFrom('remediation_actions')
    .select(['requested_at'])
    .where('integration_id', '=', integrationId)
    .where('action', '=', 'remove_permission')
    .where('result', '=', 'done')
    .where('actor', 'like', `${AUTO_ACTOR_PREFIX}%`)
    .execute();
  return rows.filter((r) => Date.parse(iso(r.requested_at)) >= start.getTime()).length;
}

export interface AutoPlan {
  /** One plan per allowed rule with something due, trimmed to the cap. */
  plans: Array<{ ruleId: string; plan: RemovalPlan }>;
  cap: number;
  used: number;
  /** Removals due but left for another day by the cap. */
  deferred: number;
  notes: string[];
}

/** What an automatic round would remove now (nothing is called). */
export async function planAuto(db: Db, integrationId: string, now: Date): Promise<AutoPlan> {
  const cap = await dailyCap(db, integrationId);
  const used = await usedToday(db, integrationId, now);
  let room = Math.max(0, cap - used);
  let deferred = 0;
  const plans: AutoPlan['plans'] = [];
  const notes: string[] = [];
  for (const rule of await allowedRules(db, integrationId)) {
    const cutoff = now.getTime() - rule.graceSeconds * 1000;
    const findings = await db
      .selectFrom('findings')
      .select(['id', 'first_seen'])
      .where('integration_id', '=', integrationId)
      .where('rule_id', '=', rule.ruleId)
      .where('status', '=', 'open')
      .where('result', '=', 'alarm')
      .orderBy('first_seen')
      .orderBy('id')
      .execute();
    const due = findings.filter((f) => Date.parse(iso(f.first_seen)) <= cutoff);
    const steps: RemovalStep[] = [];
    for (const f of due) {
      const p = await planForFinding(db, integrationId, Number(f.id), rule.scope);
      steps.push(...p.steps);
      notes.push(...p.notes);
    }
    // Oldest alarms first when the cap cuts: dedupe in finding order, then trim.
    const unique = [...new Map(steps.map((s) => [stepKey(s), s])).values()];
    const taken = unique.slice(0, room);
    deferred += unique.length - taken.length;
    room -= taken.length;
    if (taken.length > 0)
      plans.push({ ruleId: rule.ruleId, plan: makePlan(integrationId, `auto ${rule.ruleId}`, taken) });
  }
  return { plans, cap, used, deferred, notes };
}

/** Decoded for tests and the CLI: the plan's permission ids. */
export const planPermissionIds = (p: AutoPlan): string[] =>
  p.plans.flatMap((x) => x.plan.steps.map((s) => s.permissionId));
