import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from '../util/logger.ts';
import {
  type AvailabilityFacts,
  blockedReason,
  failingDriveReason,
  failingDrivesFor,
  readAvailability,
} from './availability.ts';
import { claimWrite, committedChangeBound, readCursor, writeCursor } from './cursor.ts';
import type { RuleDefinition, RuleParams } from './definition.ts';
import {
  addCounts,
  applyOutcome,
  ENGINE_KEY_PREFIXES,
  type FindingInput,
  noCounts,
  type OutcomeCounts,
  type RuleOutcome,
} from './findings.ts';
import type { RuleExecutor } from './parallel.ts';
import { openReadSession, type ReadSession } from './read-session.ts';
import { runRuleOnSession } from './rule-runner.ts';
import {
  buildScope,
  countChanges,
  type Scope,
  type ScopeCounts,
  scopable,
  scopedFindings,
  scopeTablesSql,
  WHOLE_RUN_CHANGES,
} from './scope.ts';
import { effectiveSetting, readSettings } from './settings.ts';
import { activeSuppressions, expireSuppressions } from './suppressions.ts';

/**
 * Evaluation of the rules for one integration, full or incremental.
 * - Rules run on one read-only snapshot (read-session.ts); only their alarm and error rows
 *   are kept.
 * - Full: every enabled rule over everything; each rule's findings are written in their own
 *   transaction as it finishes; the cursor moves to the snapshot's last change at the end.
 * - Incremental: only the resources changed since the cursor (scope.ts); a rule whose
 *   settings changed since the last evaluation, that was blocked and no longer is, or that
 *   judges tenant settings, runs whole. Every finding and the cursor are written in one
 *   transaction.
 * - Data availability (availability.ts) is checked every time: a blocked rule yields one
 *   error for the integration instead of running; failing drives add one error each.
 * Time-dependent results (expiry, staleness) move with the scheduled full evaluation.
 */

export interface EvaluateOptions {
  integrationId: string;
  mode: 'full' | 'incremental';
  /** Every rule of the catalog (catalog.ts); disabled ones are skipped. */
  rules: readonly RuleDefinition[];
  /** Only these rules (a full run of them; the cursor does not move). */
  onlyRules?: readonly string[];
  /** Evaluation time (bound as :now); default the wall clock. */
  now?: string;
  logger?: Logger;
  /** Full evaluations run several rules at once through it (parallel.ts). */
  executor?: RuleExecutor;
}

export interface EvaluationResult {
  evaluationId: number;
  integrationId: string;
  mode: 'full' | 'incremental';
  cursorFrom: number | null;
  cursorTo: number;
  rulesRun: number;
  rulesBlocked: number;
  ok: number;
  alarm: number;
  error: number;
  findings: OutcomeCounts;
  scope: ScopeCounts | null;
  /** Rules whose SQL failed (an error finding each, see ruleFailure). */
  failedRules: Array<{ ruleId: string; message: string }>;
  /** Milliseconds each rule's SQL took (rules that ran). */
  ruleMs: Record<string, number>;
  durationMs: number;
}

type Plan = { rule: RuleDefinition; params: Record<string, unknown> } & (
  | { kind: 'blocked'; reason: string }
  | { kind: 'broken'; reason: string }
  | { kind: 'run'; whole: boolean }
);

export async function evaluateIntegration(store: Store, opts: EvaluateOptions): Promise<EvaluationResult> {
  const t0 = performance.now();
  // Wall-clock start: what settings, saved rules and policies changed since is measured against.
  const startedAt = new Date().toISOString();
  const now = opts.now ?? startedAt;
  const { integrationId } = opts;
  const cursor = await readCursor(store.db, integrationId);
  let mode: 'full' | 'incremental' =
    opts.mode === 'incremental' && cursor && !opts.onlyRules ? 'incremental' : 'full';
  const facts = await readAvailability(store.db, integrationId);
  const engineFindings = await openEngineFindings(
    store.db,
    integrationId,
    opts.rules.map((r) => r.id),
  );
  let plans = await planRules(
    store,
    opts,
    facts,
    engineFindings,
    mode === 'incremental' ? cursor : undefined,
  );
  const suppressions = await activeSuppressions(store.db, integrationId, now);

  const bound = store.dialect === 'postgres' ? await committedChangeBound(store, integrationId) : null;
  const session = await openReadSession(store, scopeTablesSql(store.dialect));
  const result: EvaluationResult = {
    evaluationId: 0,
    integrationId,
    mode,
    cursorFrom: cursor?.changeId ?? null,
    cursorTo: 0,
    rulesRun: 0,
    rulesBlocked: 0,
    ok: 0,
    alarm: 0,
    error: 0,
    findings: noCounts(),
    scope: null,
    failedRules: [],
    ruleMs: {},
    durationMs: 0,
  };
  const outcomes: RuleOutcome[] = [];
  let firstWrite = true;
  const write = async (outcome: RuleOutcome) =>
    store.db.transaction().execute(async (trx) => {
      await claimWrite(trx, store.dialect, integrationId, result.cursorTo);
      if (firstWrite) await expireSuppressions(trx, integrationId, now);
      firstWrite = false;
      result.findings = addCounts(
        result.findings,
        await applyOutcome({ db: trx, dialect: store.dialect, integrationId, now, suppressions }, outcome),
      );
    });
  try {
    result.cursorTo = bound ?? (await highestChangeIdIn(session, integrationId));
    const from = cursor?.changeId ?? 0;
    let scope: Scope | null = null;
    let inScope = new Map<string, Set<string>>();
    if (mode === 'incremental' && result.cursorTo > from) {
      if ((await countChanges(session, integrationId, from, result.cursorTo)) > WHOLE_RUN_CHANGES) {
        // A round this big (a first sync, a resync) is cheaper evaluated whole.
        mode = 'full';
        result.mode = 'full';
        plans = plans.map((p) => (p.kind === 'run' ? { ...p, whole: true } : p));
      } else {
        scope = await buildScope(session, integrationId, from, result.cursorTo);
        result.scope = scope.counts;
        const types = new Set(
          plans.filter((p) => p.kind === 'run' && !p.whole).map((p) => p.rule.resource_type),
        );
        inScope = await scopedFindings(session, integrationId, scope, types);
      }
    }
    const context = (plan: Plan): PlanContext => ({
      integrationId,
      facts,
      now,
      scoped: mode === 'incremental',
      scope,
      inScope: inScope.get(plan.rule.id) ?? new Set(),
      engineKeys: engineFindings.get(plan.rule.id) ?? new Set(),
      result,
      logger: opts.logger,
      executor: mode === 'full' ? opts.executor : undefined,
    });
    if (mode === 'full' && opts.executor) {
      // Several rules at once; their findings written one rule at a time, as each finishes.
      let writes = Promise.resolve();
      const queue = [...plans];
      const lane = async () => {
        for (let plan = queue.shift(); plan; plan = queue.shift()) {
          const outcome = await evaluatePlan(session, plan, context(plan));
          writes = writes.then(() => write(outcome));
          await writes;
        }
      };
      await Promise.all(Array.from({ length: opts.executor.slots }, lane));
    } else
      for (const plan of plans) {
        const outcome = await evaluatePlan(session, plan, context(plan));
        if (mode === 'full') await write(outcome);
        else outcomes.push(outcome);
      }
  } finally {
    await session.close();
  }

  await store.db.transaction().execute(async (trx) => {
    await claimWrite(trx, store.dialect, integrationId, result.cursorTo);
    if (firstWrite) await expireSuppressions(trx, integrationId, now);
    for (const outcome of outcomes)
      result.findings = addCounts(
        result.findings,
        await applyOutcome({ db: trx, dialect: store.dialect, integrationId, now, suppressions }, outcome),
      );
    if (!opts.onlyRules)
      await writeCursor(trx, integrationId, {
        changeId: result.cursorTo,
        evaluatedAt: startedAt,
        full: mode === 'full',
      });
    result.durationMs = Math.round(performance.now() - t0);
    result.evaluationId = await recordEvaluation(trx, result, opts, startedAt);
  });
  return result;
}

async function highestChangeIdIn(session: ReadSession, integrationId: string): Promise<number> {
  const rows = await session.all(
    // SQLite: `+integration_id` keeps it a backwards walk of the rowid that stops at the first
    // row (by changes_resource it sorted the integration's whole history: 100+ ms at 1M).
    session.dialect === 'sqlite'
      ? 'select id from changes where +integration_id = ? order by id desc limit 1'
      : 'select id from changes where integration_id = $1 order by id desc limit 1',
    [integrationId],
  );
  return rows.length ? Number(rows[0].id) : 0;
}

/**
 * Tables whose changes leave no trace in the change log: a rule that reads them runs whole in
 * every incremental evaluation with changes (storage policies: a drive rule, cheap).
 */
const OUTSIDE_CHANGE_LOG = /\bstorage_policies\b/i;
const readsOutsideChangeLog = (rule: RuleDefinition) => OUTSIDE_CHANGE_LOG.test(rule.sql);

/** Which rules run, and how: blocked (data missing), broken (bad settings), whole or scoped. */
async function planRules(
  store: Store,
  opts: EvaluateOptions,
  facts: AvailabilityFacts,
  engineFindings: Map<string, Set<string>>,
  cursor: Awaited<ReturnType<typeof readCursor>>,
): Promise<Plan[]> {
  const settings = await readSettings(store.db, opts.integrationId);
  const savedAt = new Map(
    (await store.db.selectFrom('custom_rules').select(['id', 'updated_at']).execute()).map((r) => [
      r.id,
      r.updated_at,
    ]),
  );
  // A storage policy added since the last evaluation (a removed one waits for the next change or full run).
  const newestPolicy = await store.db
    .selectFrom('storage_policies')
    .select('created_at')
    .where('integration_id', '=', opts.integrationId)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  const policiesAt = newestPolicy?.created_at;
  const plans: Plan[] = [];
  for (const rule of opts.rules) {
    if (opts.onlyRules && !opts.onlyRules.includes(rule.id)) continue;
    const stored = settings.get(rule.id);
    let setting: ReturnType<typeof effectiveSetting>;
    try {
      setting = effectiveSetting(rule, stored);
    } catch (err) {
      if (stored?.enabled === false) continue;
      plans.push({
        rule,
        params: {},
        kind: 'broken',
        reason: `the rule's settings are invalid: ${(err as Error).message}`,
      });
      continue;
    }
    if (!setting.enabled) continue;
    const reason = blockedReason(facts, rule);
    if (reason) {
      plans.push({ rule, params: setting.params, kind: 'blocked', reason });
      continue;
    }
    const changedSince = (at: string | undefined) =>
      at !== undefined && cursor !== undefined && at > cursor.evaluatedAt;
    const wasBlocked = [...(engineFindings.get(rule.id) ?? [])].some((k) => k.startsWith('integration:'));
    const whole =
      !cursor ||
      changedSince(stored?.updatedAt) ||
      changedSince(savedAt.get(rule.id)) ||
      (readsOutsideChangeLog(rule) && changedSince(policiesAt)) ||
      wasBlocked;
    plans.push({ rule, params: setting.params, kind: 'run', whole });
  }
  return plans;
}

interface PlanContext {
  integrationId: string;
  facts: AvailabilityFacts;
  now: string;
  scoped: boolean;
  /** Null when nothing changed since the cursor. */
  scope: Scope | null;
  /** Keys of the rule's unresolved findings in scope. */
  inScope: Set<string>;
  engineKeys: Set<string>;
  result: EvaluationResult;
  logger?: Logger;
  /** Runs whole rules elsewhere (parallel.ts); the session otherwise. */
  executor?: RuleExecutor;
}

async function evaluatePlan(session: ReadSession, plan: Plan, c: PlanContext): Promise<RuleOutcome> {
  const { rule } = plan;
  if (plan.kind !== 'run') {
    if (plan.kind === 'blocked') c.result.rulesBlocked++;
    c.result.error++;
    const err = integrationError(c, rule, plan.reason);
    return { rule, results: new Map([[err.key, err]]), covers: new Set() };
  }
  const results = new Map<string, FindingInput>();
  for (const d of failingDrivesFor(c.facts, rule)) {
    const input: FindingInput = {
      key: `drive:${d.driveId}`,
      resource_type: 'drive',
      resource_id: d.driveId,
      drive_id: d.driveId,
      item_id: null,
      result: 'error',
      severity: rule.severity,
      reason: failingDriveReason(d),
      details: { code: d.code },
      resource_name: d.name,
      resource_path: null,
      resource_owner: d.owner,
    };
    results.set(input.key, input);
    c.result.error++;
  }
  // Nothing changed and nothing forces a whole run: only the data errors above are news.
  if (c.scoped && !plan.whole && !c.scope) return { rule, results, covers: new Set(c.engineKeys) };
  // Rules over tenant settings (one row per tenant) and over tables outside the change log
  // (storage policies) run whole whenever anything changed.
  const whole = plan.whole || !c.scoped || !scopable(rule.resource_type) || readsOutsideChangeLog(rule);
  let covers: 'all' | Set<string> = whole ? 'all' : new Set([...c.engineKeys, ...c.inScope]);
  const t0 = performance.now();
  try {
    const runOpts = { integrationId: c.integrationId, params: plan.params as RuleParams, now: c.now };
    const run =
      whole && c.executor
        ? await c.executor.run(rule, runOpts)
        : await runRuleOnSession(session, rule, {
            ...runOpts,
            scope: whole ? undefined : (c.scope ?? undefined),
          });
    c.result.rulesRun++;
    c.result.ruleMs[rule.id] = Math.round(performance.now() - t0);
    c.result.ok += run.ok;
    c.result.alarm += run.alarm;
    c.result.error += run.error;
    for (const [key, input] of run.results) if (!results.has(key)) results.set(key, input);
  } catch (err) {
    // A rule that cannot run says so as an error for the integration; its other findings stay as they are.
    const message = (err as Error).message;
    c.result.failedRules.push({ ruleId: rule.id, message });
    c.logger?.warn({ integration: c.integrationId, rule: rule.id, err: message }, `rule ${rule.id} failed`);
    c.result.error++;
    const e = integrationError(c, rule, `the rule could not run: ${message}`);
    results.set(e.key, e);
    covers = new Set();
  }
  return { rule, results, covers };
}

function integrationError(c: PlanContext, rule: RuleDefinition, reason: string): FindingInput {
  return {
    key: `integration:${c.integrationId}`,
    resource_type: 'integration',
    resource_id: c.integrationId,
    drive_id: null,
    item_id: null,
    result: 'error',
    severity: rule.severity,
    reason,
    details: {},
    resource_name: c.facts.integrationName,
    resource_path: null,
    resource_owner: null,
  };
}

/** Unresolved engine-made findings (integration: and drive: keys) per rule. */
async function openEngineFindings(
  db: Kysely<Database>,
  integrationId: string,
  ruleIds: readonly string[],
): Promise<Map<string, Set<string>>> {
  // Key ranges on the unique (integration_id, rule_id, resource_key) index, per rule: a filter
  // on resource_type walked every unresolved finding of the integration (200+ ms at 1M).
  const out = new Map<string, Set<string>>();
  for (const ruleId of ruleIds) {
    const rows = await db
      .selectFrom('findings')
      .select('resource_key')
      .where('integration_id', '=', integrationId)
      .where('rule_id', '=', ruleId)
      .where((eb) =>
        eb.or(
          ENGINE_KEY_PREFIXES.map((prefix) =>
            eb.and([eb('resource_key', '>=', prefix), eb('resource_key', '<', nextPrefix(prefix))]),
          ),
        ),
      )
      .where('status', '<>', 'resolved')
      .execute();
    if (rows.length) out.set(ruleId, new Set(rows.map((r) => r.resource_key)));
  }
  return out;
}

/** The smallest string above every string that starts with `prefix` ('drive:' → 'drive;'). */
const nextPrefix = (prefix: string) =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);

async function recordEvaluation(
  trx: Kysely<Database>,
  r: EvaluationResult,
  opts: EvaluateOptions,
  startedAt: string,
): Promise<number> {
  const row = await trx
    .insertInto('rule_evaluations')
    .values({
      integration_id: r.integrationId,
      mode: r.mode,
      rule_id: opts.onlyRules?.length === 1 ? opts.onlyRules[0] : null,
      started_at: startedAt,
      finished_at: new Date().toISOString(),
      change_cursor_from: r.cursorFrom,
      change_cursor_to: r.cursorTo,
      rules_run: r.rulesRun,
      ok_count: r.ok,
      alarm_count: r.alarm,
      error_count: r.error,
      opened: r.findings.opened + r.findings.reopened,
      resolved: r.findings.resolved,
      duration_ms: r.durationMs,
      error_message: r.failedRules.length
        ? r.failedRules.map((f) => `${f.ruleId}: ${f.message}`).join('; ')
        : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}
