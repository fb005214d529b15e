import { type Kysely, sql } from 'kysely';
import { decodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import type { ReviewDelivery } from './reviews.ts';

/**
 * Escalation of unanswered review items (what is due; src/app/review-escalation.ts sends).
 * `escalate_after_days` after a campaign started, an owner's unanswered items go to the owner's
 * manager (users.manager_id, from the directory) with a link for exactly those items; as many
 * days later, to the admins. An owner without a manager (or whose links have expired, so a
 * manager's link could not be used) goes straight to the admins. Each step is claimed by
 * inserting its `review_notices` row (unique per campaign, owner and step) before anything is
 * sent, so a step is taken once even when two processes or a restart race for it.
 */

type Db = Kysely<Database>;
const DAY_MS = 86_400_000;

export interface DueEscalation {
  campaignId: number;
  campaignName: string;
  integrationId: string;
  owner: string;
  step: 'manager' | 'admins';
  /** The manager's address (step manager). */
  manager: string | null;
  /** Unanswered items of the owner now. */
  items: number;
  expiresAt: string;
  delivery: ReviewDelivery | null;
  escalationChannel: string | null;
  /** Why the admins and not the manager, when so. */
  note: string | null;
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : String(v));

/** The owner's manager's address from the directory; null when the directory names none. */
export async function managerOf(db: Db, integrationId: string, owner: string): Promise<string | null> {
  const row = await db
    .selectFrom('users as u')
    .innerJoin('users as m', (j) =>
      j.onRef('m.integration_id', '=', 'u.integration_id').onRef('m.id', '=', 'u.manager_id'),
    )
    .select(['m.mail', 'm.user_principal_name'])
    .where('u.integration_id', '=', integrationId)
    .where('u.deleted_at', 'is', null)
    .where('m.deleted_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb(sql`lower(u.mail)`, '=', owner.toLowerCase()),
        eb(sql`lower(u.user_principal_name)`, '=', owner.toLowerCase()),
      ]),
    )
    .executeTakeFirst();
  const address = row?.mail ?? row?.user_principal_name ?? null;
  return address ? address.toLowerCase() : null;
}

/** Every escalation step due at `now` and not taken yet. */
export async function dueEscalations(db: Db, now: Date): Promise<DueEscalation[]> {
  const campaigns = await db
    .selectFrom('review_campaigns')
    .select([
      'id',
      'name',
      'integration_id',
      'created_at',
      'expires_at',
      'escalate_after_days',
      'delivery',
      'escalation_channel',
    ])
    .where('escalate_after_days', 'is not', null)
    .orderBy('id')
    .execute();
  const due: DueEscalation[] = [];
  for (const c of campaigns) {
    const days = Number(c.escalate_after_days);
    const started = Date.parse(iso(c.created_at));
    if (now.getTime() < started + days * DAY_MS) continue;
    const secondPeriod = now.getTime() >= started + 2 * days * DAY_MS;
    const expired = Date.parse(iso(c.expires_at)) <= now.getTime();
    const campaignId = Number(c.id);
    const open = await db
      .selectFrom('review_items')
      .select(['owner_email', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', campaignId)
      .where('decision', 'is', null)
      .groupBy('owner_email')
      .orderBy('owner_email')
      .execute();
    if (open.length === 0) continue;
    const taken = await db
      .selectFrom('review_notices')
      .select(['owner_email', 'step'])
      .where('campaign_id', '=', campaignId)
      .where('step', 'in', ['manager', 'admins'])
      .execute();
    const stepsOf = (owner: string) =>
      new Set(taken.filter((t) => t.owner_email === owner).map((t) => t.step));
    const base = {
      campaignId,
      campaignName: c.name,
      integrationId: c.integration_id,
      expiresAt: iso(c.expires_at),
      delivery: (decodeValue('json', c.delivery) as ReviewDelivery | null) ?? null,
      escalationChannel: c.escalation_channel,
    };
    for (const o of open) {
      const steps = stepsOf(o.owner_email);
      if (steps.has('admins')) continue;
      const items = Number(o.n);
      if (steps.has('manager')) {
        if (secondPeriod)
          due.push({ ...base, owner: o.owner_email, step: 'admins', manager: null, items, note: null });
        continue;
      }
      const manager = await managerOf(db, c.integration_id, o.owner_email);
      if (manager && !expired && manager !== o.owner_email)
        due.push({ ...base, owner: o.owner_email, step: 'manager', manager, items, note: null });
      else
        due.push({
          ...base,
          owner: o.owner_email,
          step: 'admins',
          manager: null,
          items,
          note: manager
            ? 'the campaign has expired: a manager could no longer answer'
            : 'no manager in the directory',
        });
    }
  }
  return due;
}

/**
 * Claims a step (the notice row, status `sending`); false when it was taken already. Only the
 * claimant sends, so a step is recorded, and sent, at most once.
 */
export async function claimNotice(
  db: Db,
  n: {
    campaignId: number;
    owner: string;
    step: 'owner' | 'manager' | 'admins';
    recipient: string | null;
    items: number;
    now: Date;
    note?: string | null;
  },
): Promise<number | null> {
  const row = await db
    .insertInto('review_notices')
    .values({
      campaign_id: n.campaignId,
      owner_email: n.owner,
      step: n.step,
      recipient: n.recipient,
      via: null,
      note: n.note ?? null,
      items: n.items,
      asked_at: n.now.toISOString(),
      status: 'sending',
      error: null,
    })
    .onConflict((oc) => oc.columns(['campaign_id', 'owner_email', 'step']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row ? Number(row.id) : null;
}

/** What the send did: sent (how, and anything of note) or failed (why). */
export async function finishNotice(
  db: Db,
  id: number,
  r: { ok: boolean; via: string | null; note: string | null; error: string | null },
): Promise<void> {
  const prior = await db.selectFrom('review_notices').select('note').where('id', '=', id).executeTakeFirst();
  const note = [prior?.note, r.note].filter(Boolean).join('; ') || null;
  await db
    .updateTable('review_notices')
    .set({ status: r.ok ? 'sent' : 'failed', via: r.via, note, error: r.error })
    .where('id', '=', id)
    .execute();
}
