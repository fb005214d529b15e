import type { Kysely } from 'kysely';
import { decodeValue, encodeValue } from '../store/codec.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';
import { describeStep, makePlan, type RemovalPlan, type RemovalStep } from './plan.ts';
import { ReviewLinkError, signReviewLink, verifyReviewLink } from './review-links.ts';

/**
 * Access reviews by owners: a campaign over a rule's open alarms asks each drive owner, through
 * one signed, expiring, single-use link, to keep or revoke each risky grant on their files.
 * A link decides only its owner's items in its campaign. Revocations come back as a removal
 * plan, executed with the same guard rails as any other (src/app/remediate.ts).
 */

type Db = Kysely<Database>;

export interface CampaignLink {
  owner: string;
  /** Goes into the e-mail / chat message; never stored. */
  token: string;
  items: number;
}

export interface NewCampaign {
  campaignId: number;
  links: CampaignLink[];
  notes: string[];
}

const iso = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

/** How a campaign reaches people (ids of alert channels; src/app/review-delivery.ts sends). */
export interface ReviewDelivery {
  /** An e-mail channel (its server and sender, the person as the only recipient) or a Slack channel with a bot token (a direct message). */
  channel?: string;
  /** A Teams activity notification through the integration's Graph app instead. */
  teams?: boolean;
  /** An e-mail channel for people the chat could not reach. */
  fallbackChannel?: string;
}

export interface CampaignSettings {
  /** Unanswered items go to the owner's manager after this many days, then to the admins; null: never. */
  escalateAfterDays: number | null;
  delivery: ReviewDelivery | null;
  /** The alert channel (id) the admins are told on through. */
  escalationChannel: string | null;
  scheduleId?: number | null;
}

export const DEFAULT_ESCALATE_AFTER_DAYS = 7;

/**
 * A campaign over a removal plan (a rule's open alarms, a saved query's rows): the steps grouped
 * by drive owner, one link per owner.
 */
export async function createCampaign(
  db: Db,
  dialect: Dialect,
  key: Buffer,
  o: {
    integrationId: string;
    name: string;
    plan: RemovalPlan;
    expiresAt: Date;
    actor: string;
    now: Date;
    settings?: CampaignSettings;
  },
): Promise<NewCampaign> {
  if (o.expiresAt.getTime() <= o.now.getTime())
    throw new ReviewLinkError('a campaign must expire in the future');
  const plan = o.plan;
  const notes = [...plan.notes];
  const drives = await db
    .selectFrom('drives')
    .select(['id', 'owner_email'])
    .where('integration_id', '=', o.integrationId)
    .where('deleted_at', 'is', null)
    .execute();
  const ownerOf = new Map(drives.map((d) => [d.id, d.owner_email?.toLowerCase() ?? null]));
  const byOwner = new Map<string, RemovalStep[]>();
  for (const s of plan.steps) {
    const owner = ownerOf.get(s.driveId);
    if (!owner) {
      notes.push(`drive ${s.driveId} has no owner e-mail: ${s.itemPath ?? s.itemId} left out`);
      continue;
    }
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), s]);
  }
  const settings = o.settings;
  const campaign = await db
    .insertInto('review_campaigns')
    .values({
      integration_id: o.integrationId,
      name: o.name,
      origin: plan.origin,
      created_at: o.now.toISOString(),
      created_by: o.actor,
      expires_at: o.expiresAt.toISOString(),
      escalate_after_days: settings ? settings.escalateAfterDays : DEFAULT_ESCALATE_AFTER_DAYS,
      delivery: settings?.delivery ? encodeValue('json', settings.delivery, dialect) : null,
      escalation_channel: settings?.escalationChannel ?? null,
      schedule_id: settings?.scheduleId ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const campaignId = Number(campaign.id);
  const links: CampaignLink[] = [];
  for (const [owner, steps] of byOwner) {
    await db
      .insertInto('review_items')
      .values(
        steps.map((s) => ({
          campaign_id: campaignId,
          owner_email: owner,
          drive_id: s.driveId,
          item_id: s.itemId,
          permission_id: s.permissionId,
          item_path: s.itemPath,
          description: describeStep(s),
          step: encodeValue('json', s, dialect),
        })),
      )
      .execute();
    const token = await issueLink(db, key, { campaignId, owner, expiresAt: o.expiresAt.toISOString() });
    links.push({ owner, token, items: steps.length });
  }
  return { campaignId, links, notes };
}

/** Signs a link and records its nonce (only the nonce is kept: the link goes to its holder only). */
export async function issueLink(
  db: Db,
  key: Buffer,
  claims: { campaignId: number; owner: string; expiresAt: string; reviewer?: string },
): Promise<string> {
  const { token, nonce } = signReviewLink(key, claims);
  await db
    .insertInto('review_links')
    .values({
      nonce,
      campaign_id: claims.campaignId,
      owner_email: claims.owner,
      expires_at: claims.expiresAt,
      used_at: null,
      reviewer: claims.reviewer ?? null,
    })
    .execute();
  return token;
}

export interface ReviewItemView {
  id: number;
  itemPath: string | null;
  description: string;
  decision: 'keep' | 'revoke' | null;
}

/** A link's claims once checked against the store: issued by us, for this owner and holder, not used yet. */
async function checkedClaims(db: Db, key: Buffer, token: string, now: Date) {
  const claims = verifyReviewLink(key, token, now);
  const link = await db
    .selectFrom('review_links')
    .selectAll()
    .where('nonce', '=', claims.nonce)
    .executeTakeFirst();
  if (
    !link ||
    Number(link.campaign_id) !== claims.campaignId ||
    link.owner_email !== claims.owner ||
    (link.reviewer ?? undefined) !== claims.reviewer
  )
    throw new ReviewLinkError('review link was not issued by this campaign');
  if (link.used_at !== null) throw new ReviewLinkError('review link was already used');
  return claims;
}

/**
 * What the link's holder is asked about (the review page): the owner's items in the campaign
 * that nobody has decided yet (a manager's link may come after the owner answered some).
 */
export async function itemsForLink(
  db: Db,
  key: Buffer,
  token: string,
  now: Date,
): Promise<{ owner: string; reviewer: string | null; campaignId: number; items: ReviewItemView[] }> {
  const claims = await checkedClaims(db, key, token, now);
  const rows = await db
    .selectFrom('review_items')
    .select(['id', 'item_path', 'description', 'decision'])
    .where('campaign_id', '=', claims.campaignId)
    .where('owner_email', '=', claims.owner)
    .where('decision', 'is', null)
    .orderBy('id')
    .execute();
  return {
    owner: claims.owner,
    reviewer: claims.reviewer ?? null,
    campaignId: claims.campaignId,
    items: rows.map((r) => ({
      id: Number(r.id),
      itemPath: r.item_path,
      description: r.description,
      decision: r.decision,
    })),
  };
}

export interface Decision {
  itemId: number;
  decision: 'keep' | 'revoke';
  justification?: string;
}

/**
 * Records the decisions of a link's holder (the owner, or the manager it was escalated to) and
 * spends the link (once: a replay is refused). An item decided meanwhile is refused, never
 * decided twice. Returns the removal plan of the revoked grants for the caller to execute.
 */
export async function decide(
  db: Db,
  key: Buffer,
  token: string,
  decisions: Decision[],
  now: Date,
): Promise<{ owner: string; decidedBy: string; kept: number; revoke: RemovalPlan }> {
  const claims = await checkedClaims(db, key, token, now);
  const decidedBy = claims.reviewer ?? claims.owner;
  const mine = await db
    .selectFrom('review_items')
    .select(['id', 'step', 'decision', 'decided_by'])
    .where('campaign_id', '=', claims.campaignId)
    .where('owner_email', '=', claims.owner)
    .execute();
  const byId = new Map(mine.map((r) => [Number(r.id), r]));
  const stepOf = new Map(mine.map((r) => [Number(r.id), decodeValue('json', r.step) as RemovalStep]));
  for (const d of decisions) {
    const row = byId.get(d.itemId);
    if (!row) throw new ReviewLinkError(`item ${d.itemId} is not yours to decide in this campaign`);
    if (row.decision !== null)
      throw new ReviewLinkError(
        `item ${d.itemId} was already decided (${row.decision}) by ${row.decided_by}`,
      );
    if (d.decision !== 'keep' && d.decision !== 'revoke')
      throw new ReviewLinkError(`item ${d.itemId}: decision must be keep or revoke`);
  }
  const spent = await db
    .updateTable('review_links')
    .set({ used_at: now.toISOString() })
    .where('nonce', '=', claims.nonce)
    .where('used_at', 'is', null)
    .executeTakeFirst();
  if (Number(spent.numUpdatedRows) !== 1) throw new ReviewLinkError('review link was already used');
  for (const d of decisions)
    await db
      .updateTable('review_items')
      .set({
        decision: d.decision,
        decided_at: now.toISOString(),
        decided_by: decidedBy,
        justification: d.justification ?? null,
      })
      .where('id', '=', d.itemId)
      .where('decision', 'is', null)
      .execute();
  const campaign = await db
    .selectFrom('review_campaigns')
    .select('integration_id')
    .where('id', '=', claims.campaignId)
    .executeTakeFirstOrThrow();
  const revoked = decisions
    .filter((d) => d.decision === 'revoke')
    .map((d) => stepOf.get(d.itemId) as RemovalStep);
  return {
    owner: claims.owner,
    decidedBy,
    kept: decisions.length - revoked.length,
    revoke: makePlan(campaign.integration_id, `review ${claims.campaignId} by ${decidedBy}`, revoked),
  };
}

export interface ReviewNotice {
  owner: string;
  step: 'owner' | 'manager' | 'admins';
  recipient: string | null;
  via: string | null;
  note: string | null;
  items: number;
  askedAt: string;
  status: 'sending' | 'sent' | 'failed';
  error: string | null;
}

export interface CampaignReport {
  total: number;
  answered: number;
  kept: number;
  revoked: number;
  unanswered: number;
  /** Items whose owner's unanswered items went to the manager or the admins. */
  escalated: number;
  rows: Array<{
    owner: string;
    itemPath: string | null;
    permissionId: string;
    decision: string | null;
    decidedAt: string | null;
    decidedBy: string | null;
    justification: string | null;
    /** The last escalation step of the owner: manager or admins; null when none. */
    escalatedTo: 'manager' | 'admins' | null;
  }>;
  /** Who was asked, when and how (owners, managers, admins). */
  notices: ReviewNotice[];
}

export async function campaignNotices(db: Db, campaignId: number): Promise<ReviewNotice[]> {
  const rows = await db
    .selectFrom('review_notices')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    owner: r.owner_email,
    step: r.step,
    recipient: r.recipient,
    via: r.via,
    note: r.note,
    items: Number(r.items),
    askedAt: iso(r.asked_at) as string,
    status: r.status,
    error: r.error,
  }));
}

export async function campaignReport(db: Db, campaignId: number): Promise<CampaignReport> {
  const rows = await db
    .selectFrom('review_items')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('id')
    .execute();
  const notices = await campaignNotices(db, campaignId);
  const escalation = new Map<string, 'manager' | 'admins'>();
  for (const n of notices)
    if (n.step === 'admins' || (n.step === 'manager' && !escalation.has(n.owner)))
      escalation.set(n.owner, n.step);
  const count = (d: string | null) => rows.filter((r) => r.decision === d).length;
  return {
    total: rows.length,
    answered: rows.length - count(null),
    kept: count('keep'),
    revoked: count('revoke'),
    unanswered: count(null),
    escalated: rows.filter((r) => escalation.has(r.owner_email)).length,
    rows: rows.map((r) => ({
      owner: r.owner_email,
      itemPath: r.item_path,
      permissionId: r.permission_id,
      decision: r.decision,
      decidedAt: iso(r.decided_at),
      decidedBy: r.decided_by,
      justification: r.justification,
      escalatedTo: escalation.get(r.owner_email) ?? null,
    })),
    notices,
  };
}

/** The report as CSV (RFC 4180 quoting). */
export function reportCsv(report: CampaignReport): string {
  const q = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = ['owner,item_path,permission_id,decision,decided_at,decided_by,justification,escalated_to'];
  for (const r of report.rows)
    lines.push(
      [
        r.owner,
        r.itemPath,
        r.permissionId,
        r.decision,
        r.decidedAt,
        r.decidedBy,
        r.justification,
        r.escalatedTo,
      ]
        .map(q)
        .join(','),
    );
  return `${lines.join('\n')}\n`;
}
