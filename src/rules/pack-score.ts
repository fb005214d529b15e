import type { Kysely } from 'kysely';
import { canonical, decodeValue, encodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { Pack } from './packs.ts';

/**
 * The score of a compliance pack for an integration. A control is
 * - `not_evaluated` when it has no rules, or one of its rules has not run for the integration;
 * - `fail` when one of its rules has an open finding with result alarm or error (a suppressed
 *   finding is an accepted risk and does not count);
 * - `pass` otherwise.
 * score = passing / evaluated (null while nothing is evaluated). Scores are recorded in
 * pack_scores whenever they change, so their history shows how compliance moved.
 */

export type ControlStatus = 'pass' | 'fail' | 'not_evaluated';

export interface ControlScore {
  id: string;
  title: string;
  status: ControlStatus;
  rules: string[];
  /** Rules that have not run for the integration (or are disabled for it). */
  notRun: string[];
  /** Rules with open alarm or error findings, and how many. */
  failing: Array<{ ruleId: string; open: number }>;
}

export interface PackScore {
  packId: string;
  integrationId: string;
  at: string;
  passing: number;
  evaluated: number;
  /** Controls in the pack, evaluated or not. */
  total: number;
  /** passing / evaluated, or null when no control is evaluated. */
  score: number | null;
  controls: ControlScore[];
}

/** What the rules engine knows of an integration: which rules ran, and their open problems. */
export interface RuleStanding {
  ran: ReadonlySet<string>;
  /** rule id → open findings with result alarm or error. */
  open: ReadonlyMap<string, number>;
}

/**
 * Rules that have run for the integration: named by a finished single-rule evaluation, or
 * covered by a finished full evaluation (rule_id null = every enabled rule), and not disabled
 * for the integration now. An evaluation that ended with an error message counts for nothing.
 */
export async function ruleStanding(
  db: Kysely<Database>,
  integrationId: string,
  ruleIds: readonly string[],
): Promise<RuleStanding> {
  const evaluations = await db
    .selectFrom('rule_evaluations')
    .select('rule_id')
    .distinct()
    .where('integration_id', '=', integrationId)
    .where('mode', '=', 'full')
    .where('finished_at', 'is not', null)
    .where('error_message', 'is', null)
    .execute();
  const fullRun = evaluations.some((e) => e.rule_id === null);
  const singly = new Set(evaluations.map((e) => e.rule_id).filter((id): id is string => id !== null));
  const settings = await db
    .selectFrom('rule_settings')
    .select(['rule_id', 'enabled'])
    .where('integration_id', '=', integrationId)
    .execute();
  const disabled = new Set(
    settings.filter((s) => decodeValue('boolean', s.enabled) === false).map((s) => s.rule_id),
  );
  const ran = new Set(ruleIds.filter((id) => (fullRun || singly.has(id)) && !disabled.has(id)));

  const open = await db
    .selectFrom('findings')
    .select(['rule_id', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('integration_id', '=', integrationId)
    .where('status', '=', 'open')
    .where('result', 'in', ['alarm', 'error'])
    .groupBy('rule_id')
    .execute();
  return { ran, open: new Map(open.map((o) => [o.rule_id, Number(o.n)])) };
}

/** Scores one pack from what the engine knows (no database access). */
export function scorePack(pack: Pack, standing: RuleStanding, integrationId: string, at: string): PackScore {
  const controls = pack.controls.map((c): ControlScore => {
    const notRun = c.rules.filter((r) => !standing.ran.has(r));
    const failing = c.rules
      .filter((r) => (standing.open.get(r) ?? 0) > 0)
      .map((r) => ({ ruleId: r, open: standing.open.get(r) ?? 0 }));
    const status: ControlStatus =
      c.rules.length === 0 || notRun.length > 0 ? 'not_evaluated' : failing.length > 0 ? 'fail' : 'pass';
    return { id: c.id, title: c.title, status, rules: c.rules, notRun, failing };
  });
  const passing = controls.filter((c) => c.status === 'pass').length;
  const evaluated = controls.filter((c) => c.status !== 'not_evaluated').length;
  return {
    packId: pack.id,
    integrationId,
    at,
    passing,
    evaluated,
    total: controls.length,
    score: evaluated === 0 ? null : passing / evaluated,
    controls,
  };
}

/** The current score of every pack for the integration. */
export async function computePackScores(
  db: Kysely<Database>,
  integrationId: string,
  packs: readonly Pack[],
  at = new Date().toISOString(),
): Promise<PackScore[]> {
  const ruleIds = [...new Set(packs.flatMap((p) => p.controls.flatMap((c) => c.rules)))];
  const standing = await ruleStanding(db, integrationId, ruleIds);
  return packs.map((p) => scorePack(p, standing, integrationId, at));
}

/** What pack_scores.details holds. */
interface ScoreDetails {
  total: number;
  controls: ControlScore[];
}

/**
 * Computes every pack's score and records each one that differs from the pack's last recorded
 * score (so repeated runs with nothing changed add no rows). Returns the current scores.
 */
export async function recordPackScores(
  store: Pick<Store, 'db' | 'dialect'>,
  integrationId: string,
  packs: readonly Pack[],
  at = new Date().toISOString(),
): Promise<PackScore[]> {
  const { db } = store;
  const scores = await computePackScores(db, integrationId, packs, at);
  for (const s of scores) {
    const details: ScoreDetails = { total: s.total, controls: s.controls };
    const last = await db
      .selectFrom('pack_scores')
      .select(['passing', 'evaluated', 'details'])
      .where('integration_id', '=', integrationId)
      .where('pack_id', '=', s.packId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    const same =
      last &&
      last.passing === s.passing &&
      last.evaluated === s.evaluated &&
      canonical(decodeValue('json', last.details)) === canonical(details);
    if (same) continue;
    await db
      .insertInto('pack_scores')
      .values({
        integration_id: integrationId,
        pack_id: s.packId,
        at,
        passing: s.passing,
        evaluated: s.evaluated,
        details: encodeValue('json', details, store.dialect),
      })
      .execute();
  }
  return scores;
}

export interface RecordedScore {
  integrationId: string;
  packId: string;
  at: string;
  passing: number;
  evaluated: number;
  total: number;
  score: number | null;
}

/** Recorded scores, newest first (of one integration and/or pack when given). */
export async function packScoreHistory(
  db: Kysely<Database>,
  filter: { integrationId?: string; packId?: string; limit?: number } = {},
): Promise<RecordedScore[]> {
  let q = db
    .selectFrom('pack_scores')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(filter.limit ?? 50);
  if (filter.integrationId !== undefined) q = q.where('integration_id', '=', filter.integrationId);
  if (filter.packId !== undefined) q = q.where('pack_id', '=', filter.packId);
  const rows = await q.execute();
  return rows.map((r) => {
    const details = decodeValue('json', r.details) as ScoreDetails;
    return {
      integrationId: r.integration_id,
      packId: r.pack_id,
      at: r.at,
      passing: r.passing,
      evaluated: r.evaluated,
      total: details.total,
      score: r.evaluated === 0 ? null : r.passing / r.evaluated,
    };
  });
}
