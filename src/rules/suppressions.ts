import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import type { FindingsTable, SuppressionsTable } from '../store/tables/rules.ts';
import { type EventSubject, eventOf, type FindingEventInput, insertEvents } from './finding-events.ts';
import { globMatchesAny, globToRegExp } from './glob.ts';

/**
 * Suppressions: of one finding, or of a rule (optionally one integration, optionally the
 * resources matching a glob over path, name or id), with a reason, an actor and an optional
 * expiry. A suppressed finding stays `suppressed` while its rule still alarms; when the
 * suppression expires or is lifted the finding is unsuppressed (event `unsuppressed`) and
 * takes the status the evaluation gave it (open: it is only suppressed while alarmed).
 */

export type Suppression = Omit<SuppressionsTable, 'id'> & { id: number };

/** What a suppression is matched against. */
export interface SuppressibleFinding {
  id: number;
  integration_id: string;
  rule_id: string;
  resource_id: string;
  resource_name: string | null;
  resource_path: string | null;
}

export class SuppressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SuppressionError';
  }
}

export function isActive(s: Suppression, now: string): boolean {
  return s.lifted_at === null && (s.expires_at === null || s.expires_at > now);
}

export function suppressionMatches(s: Suppression, f: SuppressibleFinding): boolean {
  if (s.finding_id !== null) return s.finding_id === f.id;
  if (s.integration_id !== null && s.integration_id !== f.integration_id) return false;
  if (s.rule_id !== f.rule_id) return false;
  return (
    s.resource_pattern === null ||
    globMatchesAny(s.resource_pattern, [f.resource_path, f.resource_name, f.resource_id])
  );
}

/** The first active suppression that holds the finding (a per-finding one before a rule's). */
export function matchSuppression(
  suppressions: readonly Suppression[],
  f: SuppressibleFinding,
  now: string,
): Suppression | undefined {
  let ruleWide: Suppression | undefined;
  for (const s of suppressions) {
    if (!isActive(s, now) || !suppressionMatches(s, f)) continue;
    if (s.finding_id !== null) return s;
    ruleWide ??= s;
  }
  return ruleWide;
}

const toSuppression = (r: Selectable<SuppressionsTable>): Suppression => ({
  ...r,
  id: Number(r.id),
  finding_id: r.finding_id === null ? null : Number(r.finding_id),
});

/** Active suppressions that can hold findings of the integration (its own and those of every integration). */
export async function activeSuppressions(
  db: Kysely<Database>,
  integrationId: string,
  now: string,
): Promise<Suppression[]> {
  const rows = await db
    .selectFrom('suppressions')
    .selectAll()
    .where('lifted_at', 'is', null)
    .where((eb) => eb.or([eb('integration_id', 'is', null), eb('integration_id', '=', integrationId)]))
    .orderBy('id')
    .execute();
  return rows.map((r) => toSuppression(r)).filter((s) => isActive(s, now));
}

export async function listSuppressions(
  db: Kysely<Database>,
  opts: { all?: boolean } = {},
): Promise<Suppression[]> {
  let q = db.selectFrom('suppressions').selectAll().orderBy('id');
  if (!opts.all) q = q.where('lifted_at', 'is', null);
  const now = new Date().toISOString();
  const rows = (await q.execute()).map((r) => toSuppression(r));
  return opts.all ? rows : rows.filter((s) => isActive(s, now));
}

type FindingRow = Omit<FindingsTable, 'id'> & { id: number };

/** Findings as stored, with numeric ids (PostgreSQL returns bigint ids as numbers through the store's parsers). */
function asFinding(r: Selectable<FindingsTable>): FindingRow {
  return {
    ...r,
    id: Number(r.id),
    suppression_id: r.suppression_id === null ? null : Number(r.suppression_id),
  };
}

async function suppress(
  db: Kysely<Database>,
  f: FindingRow,
  s: Suppression,
  now: string,
): Promise<FindingEventInput> {
  await db
    .updateTable('findings')
    .set({ status: 'suppressed', suppression_id: s.id })
    .where('id', '=', f.id)
    .execute();
  return eventOf(f as EventSubject, 'suppressed', now, s.actor);
}

export interface SuppressInput {
  reason: string;
  actor: string;
  /** ISO time the suppression stops holding; null/undefined = never. */
  until?: string | null;
}

function checkInput(input: SuppressInput, now: string): string | null {
  if (!input.reason?.trim()) throw new SuppressionError('a suppression needs a reason (--reason)');
  if (!input.actor?.trim()) throw new SuppressionError('a suppression needs an actor');
  if (input.until === undefined || input.until === null) return null;
  const t = Date.parse(input.until);
  if (Number.isNaN(t)) throw new SuppressionError(`--until ${input.until} is not an ISO-8601 time`);
  const iso = new Date(t).toISOString();
  if (iso <= now) throw new SuppressionError(`--until ${input.until} is in the past`);
  return iso;
}

/** Suppresses one finding (by id); it is suppressed now when open, and whenever it reopens while the suppression holds. */
export async function suppressFinding(
  store: Store,
  findingId: number,
  input: SuppressInput,
): Promise<Suppression> {
  const now = new Date().toISOString();
  const until = checkInput(input, now);
  return store.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('findings').selectAll().where('id', '=', findingId).executeTakeFirst();
    if (!row)
      throw new SuppressionError(`no finding ${findingId} (\`drivewarden findings list\` shows their ids)`);
    const f = asFinding(row);
    const s = await insertSuppression(trx, {
      integration_id: f.integration_id,
      rule_id: f.rule_id,
      finding_id: f.id,
      resource_pattern: null,
      reason: input.reason.trim(),
      actor: input.actor,
      created_at: now,
      expires_at: until,
      lifted_at: null,
      lifted_by: null,
    });
    if (f.status === 'open') await insertEvents(trx, [await suppress(trx, f, s, now)]);
    return s;
  });
}

/** Suppresses a rule's findings (of one integration or all, of resources matching the pattern or all). */
export async function suppressRule(
  store: Store,
  target: { ruleId: string; integrationId?: string | null; pattern?: string | null },
  input: SuppressInput,
): Promise<{ suppression: Suppression; suppressed: number }> {
  const now = new Date().toISOString();
  const until = checkInput(input, now);
  if (target.pattern !== undefined && target.pattern !== null) {
    if (!target.pattern.trim()) throw new SuppressionError('--pattern is empty');
    globToRegExp(target.pattern);
  }
  return store.db.transaction().execute(async (trx) => {
    const s = await insertSuppression(trx, {
      integration_id: target.integrationId ?? null,
      rule_id: target.ruleId,
      finding_id: null,
      resource_pattern: target.pattern ?? null,
      reason: input.reason.trim(),
      actor: input.actor,
      created_at: now,
      expires_at: until,
      lifted_at: null,
      lifted_by: null,
    });
    let q = trx
      .selectFrom('findings')
      .selectAll()
      .where('rule_id', '=', target.ruleId)
      .where('status', '=', 'open');
    if (target.integrationId) q = q.where('integration_id', '=', target.integrationId);
    const events: FindingEventInput[] = [];
    for (const row of await q.execute()) {
      const f = asFinding(row);
      if (suppressionMatches(s, f)) events.push(await suppress(trx, f, s, now));
    }
    await insertEvents(trx, events);
    return { suppression: s, suppressed: events.length };
  });
}

async function insertSuppression(
  db: Kysely<Database>,
  values: Omit<SuppressionsTable, 'id'>,
): Promise<Suppression> {
  const { id } = await db.insertInto('suppressions').values(values).returning('id').executeTakeFirstOrThrow();
  return { ...values, id: Number(id) };
}

/** Lifts a suppression: the findings it held are unsuppressed (or held by another suppression that matches). */
export async function liftSuppression(
  store: Store,
  suppressionId: number,
  actor: string,
): Promise<{ unsuppressed: number }> {
  const now = new Date().toISOString();
  return store.db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('suppressions')
      .selectAll()
      .where('id', '=', suppressionId)
      .executeTakeFirst();
    if (!row) throw new SuppressionError(`no suppression ${suppressionId}`);
    if (row.lifted_at !== null)
      throw new SuppressionError(`suppression ${suppressionId} was already lifted at ${row.lifted_at}`);
    await trx
      .updateTable('suppressions')
      .set({ lifted_at: now, lifted_by: actor })
      .where('id', '=', suppressionId)
      .execute();
    const held = await trx
      .selectFrom('findings')
      .selectAll()
      .where('suppression_id', '=', suppressionId)
      .where('status', '=', 'suppressed')
      .execute();
    return {
      unsuppressed: await releaseFindings(
        trx,
        held.map((r) => asFinding(r)),
        now,
        actor,
      ),
    };
  });
}

/**
 * Findings of the integration held by a suppression that expired or was lifted (in another
 * process) are unsuppressed. Run by every evaluation, in its write transaction.
 */
export async function expireSuppressions(
  db: Kysely<Database>,
  integrationId: string,
  now: string,
): Promise<number> {
  const rows = await db
    .selectFrom('findings as f')
    .innerJoin('suppressions as s', 's.id', 'f.suppression_id')
    .selectAll('f')
    .where('f.integration_id', '=', integrationId)
    .where('f.status', '=', 'suppressed')
    .where((eb) =>
      eb.or([
        eb('s.lifted_at', 'is not', null),
        eb.and([eb('s.expires_at', 'is not', null), eb('s.expires_at', '<=', now)]),
      ]),
    )
    .execute();
  return releaseFindings(
    db,
    rows.map((r) => asFinding(r)),
    now,
    null,
  );
}

/** Each finding goes to the next matching suppression, or back to open with an `unsuppressed` event. */
async function releaseFindings(
  db: Kysely<Database>,
  findings: FindingRow[],
  now: string,
  actor: string | null,
): Promise<number> {
  if (findings.length === 0) return 0;
  const byIntegration = new Map<string, Suppression[]>();
  const events: FindingEventInput[] = [];
  for (const f of findings) {
    let active = byIntegration.get(f.integration_id);
    if (!active) {
      active = await activeSuppressions(db, f.integration_id, now);
      byIntegration.set(f.integration_id, active);
    }
    const next = matchSuppression(active, f, now);
    if (next) {
      await db.updateTable('findings').set({ suppression_id: next.id }).where('id', '=', f.id).execute();
      continue;
    }
    await db
      .updateTable('findings')
      .set({ status: 'open', suppression_id: null })
      .where('id', '=', f.id)
      .execute();
    events.push(eventOf(f as EventSubject, 'unsuppressed', now, actor));
  }
  await insertEvents(db, events);
  return events.length;
}
