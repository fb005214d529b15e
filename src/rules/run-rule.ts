import { CompiledQuery } from 'kysely';
import { dialectOf } from '../store/dialect.ts';
import type { Store } from '../store/store.ts';
import {
  RULE_STATUSES,
  type RuleDefinition,
  type RuleParams,
  type RuleStatus,
  SEVERITIES,
} from './definition.ts';
import { compileParams, type ParamValue } from './sql-params.ts';

/**
 * Runs one rule's SQL for one integration and checks what it returns. The engine
 * (evaluate.ts) turns these rows into findings; tests of a single rule call this directly.
 */

/** One evaluated resource, as the rule's SQL returned it. */
export interface RuleRow {
  resource_id: string;
  status: RuleStatus;
  reason: string;
  drive_id: string | null;
  item_id: string | null;
  resource_name: string | null;
  resource_path: string | null;
  resource_owner: string | null;
  /** A per-row severity override, when the SQL returned one. */
  severity: string | null;
  /** Every other column the SQL returned. */
  details: Record<string, unknown>;
}

export interface RunRuleOptions {
  integrationId: string;
  params: RuleParams;
  /** Evaluation time, ISO-8601 (bound as :now). */
  now: string;
}

export class RuleRunError extends Error {
  constructor(
    readonly ruleId: string,
    message: string,
  ) {
    super(`rule ${ruleId}: ${message}`);
    this.name = 'RuleRunError';
  }
}

const KNOWN = new Set([
  'resource_id',
  'status',
  'reason',
  'drive_id',
  'item_id',
  'resource_name',
  'resource_path',
  'resource_owner',
  'severity',
]);

/** The rule's SQL with its parameters bound for the store's dialect. */
export function compileRule(rule: RuleDefinition, store: Pick<Store, 'dialect'>, opts: RunRuleOptions) {
  const params: Record<string, ParamValue> = {
    ...opts.params,
    integration_id: opts.integrationId,
    now: opts.now,
  };
  return compileParams(rule.sql, params, dialectOf(store.dialect));
}

/** Runs the rule and returns its checked rows. */
export async function runRule(store: Store, rule: RuleDefinition, opts: RunRuleOptions): Promise<RuleRow[]> {
  const { text, values } = compileRule(rule, store, opts);
  let rows: Array<Record<string, unknown>>;
  try {
    rows = (await store.db.executeQuery(CompiledQuery.raw(text, values))).rows as Array<
      Record<string, unknown>
    >;
  } catch (err) {
    throw new RuleRunError(rule.id, `SQL error: ${(err as Error).message}`);
  }
  return rows.map((row) => checkRuleRow(rule.id, row));
}

/** Validates one returned row; throws RuleRunError naming the missing or bad column. */
export function checkRuleRow(ruleId: string, row: Record<string, unknown>): RuleRow {
  for (const column of ['resource_id', 'status', 'reason']) {
    if (!(column in row)) throw new RuleRunError(ruleId, `the SQL must return a ${column} column`);
  }
  const status = row.status as RuleStatus;
  if (!RULE_STATUSES.includes(status)) {
    throw new RuleRunError(ruleId, `status must be ok, alarm or error, got ${JSON.stringify(row.status)}`);
  }
  if (row.resource_id === null || row.resource_id === undefined || row.resource_id === '') {
    throw new RuleRunError(ruleId, 'resource_id is empty in a returned row');
  }
  const severity = row.severity === undefined || row.severity === null ? null : String(row.severity);
  if (severity !== null && !(SEVERITIES as readonly string[]).includes(severity)) {
    throw new RuleRunError(ruleId, `severity must be one of ${SEVERITIES.join(', ')}, got ${severity}`);
  }
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  const details: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (!KNOWN.has(key)) details[key] = value;
  return {
    resource_id: String(row.resource_id),
    status,
    reason: String(row.reason ?? ''),
    drive_id: text(row.drive_id),
    item_id: text(row.item_id),
    resource_name: text(row.resource_name),
    resource_path: text(row.resource_path),
    resource_owner: text(row.resource_owner),
    severity,
    details,
  };
}
