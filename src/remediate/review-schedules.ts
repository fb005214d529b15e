import type { Kysely, Selectable } from 'kysely';
import { decodeValue, encodeValue } from '../store/codec.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';
import type { AccessScope } from './plan.ts';
import type { ReviewDelivery } from './reviews.ts';

/**
 * Scheduled review campaigns: a definition (a rule or a saved query with its parameters, a
 * scope, a period, how people are reached) launched once per period. The next run is stored;
 * a launch first moves it on with a conditional update (`where next_run_at = <the due one>`),
 * so one process launches a period once, across restarts, and periods missed while the
 * service was down are launched once, not once each.
 */

type Db = Kysely<Database>;

export class ReviewScheduleError extends Error {}

export const SCHEDULE_NAME = /^[a-z0-9][a-z0-9 _.-]{0,99}$/i;

/** weekly, monthly, quarterly, yearly, or <n>d (1 to 3660 days). */
export function checkEvery(every: string): string {
  const e = every.trim().toLowerCase();
  if (['weekly', 'monthly', 'quarterly', 'yearly'].includes(e)) return e;
  const m = /^(\d{1,4})d$/.exec(e);
  if (m && Number(m[1]) >= 1 && Number(m[1]) <= 3660) return e;
  throw new ReviewScheduleError(
    `every: weekly, monthly, quarterly, yearly or a number of days like 30d, not "${every}"`,
  );
}

/** The run after `from`: calendar months for monthly/quarterly/yearly (UTC), days otherwise. */
export function nextRun(every: string, from: Date): Date {
  const d = new Date(from);
  switch (checkEvery(every)) {
    case 'weekly':
      return new Date(d.getTime() + 7 * 86_400_000);
    case 'monthly':
      d.setUTCMonth(d.getUTCMonth() + 1);
      return d;
    case 'quarterly':
      d.setUTCMonth(d.getUTCMonth() + 3);
      return d;
    case 'yearly':
      d.setUTCFullYear(d.getUTCFullYear() + 1);
      return d;
    default:
      return new Date(d.getTime() + Number.parseInt(every, 10) * 86_400_000);
  }
}

export interface ReviewSchedule {
  id: number;
  integrationId: string;
  name: string;
  source: { kind: 'rule' | 'query'; id: string; params: Record<string, string | number | boolean> };
  scope: AccessScope;
  every: string;
  expiresDays: number;
  escalateAfterDays: number | null;
  delivery: ReviewDelivery | null;
  escalationChannel: string | null;
  baseUrl: string | null;
  nextRunAt: string;
  lastRunAt: string | null;
  lastCampaignId: number | null;
  lastError: string | null;
  createdAt: string;
  createdBy: string;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const isoOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : iso(v));

function view(r: Selectable<Database['review_schedules']>): ReviewSchedule {
  return {
    id: Number(r.id),
    integrationId: r.integration_id,
    name: r.name,
    source: {
      kind: r.source_kind,
      id: r.source,
      params: (decodeValue('json', r.params) as Record<string, string | number | boolean> | null) ?? {},
    },
    scope: r.scope,
    every: r.every,
    expiresDays: Number(r.expires_days),
    escalateAfterDays: r.escalate_after_days === null ? null : Number(r.escalate_after_days),
    delivery: (decodeValue('json', r.delivery) as ReviewDelivery | null) ?? null,
    escalationChannel: r.escalation_channel,
    baseUrl: r.base_url,
    nextRunAt: iso(r.next_run_at),
    lastRunAt: isoOrNull(r.last_run_at),
    lastCampaignId: r.last_campaign_id === null ? null : Number(r.last_campaign_id),
    lastError: r.last_error,
    createdAt: iso(r.created_at),
    createdBy: r.created_by,
  };
}

export type NewSchedule = Omit<
  ReviewSchedule,
  'id' | 'lastRunAt' | 'lastCampaignId' | 'lastError' | 'createdAt'
>;

export async function addSchedule(
  db: Db,
  dialect: Dialect,
  s: NewSchedule,
  now: Date,
): Promise<ReviewSchedule> {
  if (!SCHEDULE_NAME.test(s.name))
    throw new ReviewScheduleError(`name: 1-100 letters, digits, spaces and . _ -, not "${s.name}"`);
  const every = checkEvery(s.every);
  if (Number.isNaN(Date.parse(s.nextRunAt)))
    throw new ReviewScheduleError(`start: not a time: "${s.nextRunAt}"`);
  const taken = await db
    .selectFrom('review_schedules')
    .select('id')
    .where('name', '=', s.name)
    .executeTakeFirst();
  if (taken) throw new ReviewScheduleError(`a scheduled campaign named "${s.name}" exists already`);
  const row = await db
    .insertInto('review_schedules')
    .values({
      integration_id: s.integrationId,
      name: s.name,
      source_kind: s.source.kind,
      source: s.source.id,
      params: encodeValue('json', s.source.params, dialect),
      scope: s.scope,
      every,
      expires_days: s.expiresDays,
      escalate_after_days: s.escalateAfterDays,
      delivery: s.delivery ? encodeValue('json', s.delivery, dialect) : null,
      escalation_channel: s.escalationChannel,
      base_url: s.baseUrl,
      next_run_at: new Date(s.nextRunAt).toISOString(),
      last_run_at: null,
      last_campaign_id: null,
      last_error: null,
      created_at: now.toISOString(),
      created_by: s.createdBy,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return (await getSchedule(db, String(row.id))) as ReviewSchedule;
}

export async function listSchedules(db: Db, integrationId?: string): Promise<ReviewSchedule[]> {
  let q = db.selectFrom('review_schedules').selectAll();
  if (integrationId) q = q.where('integration_id', '=', integrationId);
  return (await q.orderBy('id').execute()).map(view);
}

/** By id or name. */
export async function getSchedule(db: Db, idOrName: string): Promise<ReviewSchedule | undefined> {
  const row = await db
    .selectFrom('review_schedules')
    .selectAll()
    .where((eb) =>
      /^\d+$/.test(idOrName)
        ? eb.or([eb('id', '=', Number(idOrName)), eb('name', '=', idOrName)])
        : eb('name', '=', idOrName),
    )
    .executeTakeFirst();
  return row ? view(row) : undefined;
}

export async function removeSchedule(db: Db, idOrName: string): Promise<ReviewSchedule | undefined> {
  const found = await getSchedule(db, idOrName);
  if (found) await db.deleteFrom('review_schedules').where('id', '=', found.id).execute();
  return found;
}

/**
 * The schedules due at `now` that this caller won: each one's next run moved past `now` first
 * (conditionally, so a concurrent or restarted launcher skips it). The launch comes after.
 */
export async function claimDueSchedules(db: Db, now: Date, ready?: (integrationId: string) => boolean) {
  const due = await db
    .selectFrom('review_schedules')
    .selectAll()
    .where('next_run_at', '<=', now.toISOString())
    .orderBy('next_run_at')
    .execute();
  const won: ReviewSchedule[] = [];
  for (const row of due) {
    const s = view(row);
    if (ready && !ready(s.integrationId)) continue;
    let next = nextRun(s.every, new Date(s.nextRunAt));
    while (next.getTime() <= now.getTime()) next = nextRun(s.every, next);
    const res = await db
      .updateTable('review_schedules')
      .set({ next_run_at: next.toISOString(), last_run_at: now.toISOString() })
      .where('id', '=', s.id)
      .where('next_run_at', '=', row.next_run_at)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) won.push({ ...s, nextRunAt: next.toISOString() });
  }
  return won;
}

export async function recordLaunch(
  db: Db,
  id: number,
  r: { campaignId: number | null; error: string | null },
): Promise<void> {
  await db
    .updateTable('review_schedules')
    .set({ last_campaign_id: r.campaignId, last_error: r.error })
    .where('id', '=', id)
    .execute();
}
