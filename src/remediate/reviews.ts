import type { Kysely } from 'kysely';
import { decodeValue, encodeValue } from '../store/codec.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';
import { type AccessScope, describeStep, makePlan, type RemovalPlan, type RemovalStep } from './plan.ts';
import { ReviewLinkError, signReviewLink, verifyReviewLink } from './review-links.ts';
import { planForRule } from './targets.ts';

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

export async function createCampaign(
  db: Db,
  dialect: Dialect,
  key: Buffer,
  o: {
    integrationId: string;
    name: string;
    ruleId: string;
    scope: AccessScope;
    expiresAt: Date;
    actor: string;
    now: Date;
  },
): Promise<NewCampaign> {
  if (o.expiresAt.getTime() <= o.now.getTime())
    throw new ReviewLinkError('a campaign must expire in the future');
  const plan = await planForRule(db, o.integrationId, o.ruleId, o.scope);
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
  const campaign = await db
    .insertInto('review_campaigns')
    .values({
      integration_id: o.integrationId,
      name: o.name,
      origin: `rule ${o.ruleId}`,
      created_at: o.now.toISOString(),
      created_by: o.actor,
      expires_at: o.expiresAt.toISOString(),
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
    const { token, nonce } = signReviewLink(key, { campaignId, owner, expiresAt: o.expiresAt.toISOString() });
    await db
      .insertInto('review_links')
      .values({
        nonce,
        campaign_id: campaignId,
        owner_email: owner,
        expires_at: o.expiresAt.toISOString(),
        used_at: null,
      })
      .execute();
    links.push({ owner, token, items: steps.length });
  }
  return { campaignId, links, notes };
}

export interface ReviewItemView {
  id: number;
  itemPath: string | null;
  description: string;
  decision: 'keep' | 'revoke' | null;
}

/** A link's claims once checked against the store: issued by us, for this owner, not used yet. */
async function checkedClaims(db: Db, key: Buffer, token: string, now: Date) {
  const claims = verifyReviewLink(key, token, now);
  const link = await db
    .selectFrom('review_links')
    .selectAll()
    .where('nonce', '=', claims.nonce)
    .executeTakeFirst();
  if (!link || Number(link.campaign_id) !== claims.campaignId || link.owner_email !== claims.owner)
    throw new ReviewLinkError('review link was not issued by this campaign');
  if (link.used_at !== null) throw new ReviewLinkError('review link was already used');
  return claims;
}

/** What the link's owner is asked about (the review page). */
export async function itemsForLink(
  db: Db,
  key: Buffer,
  token: string,
  now: Date,
): Promise<{ owner: string; campaignId: number; items: ReviewItemView[] }> {
  const claims = await checkedClaims(db, key, token, now);
  const rows = await db
    .selectFrom('review_items')
    .select(['id', 'item_path', 'description', 'decision'])
    .where('campaign_id', '=', claims.campaignId)
    .where('owner_email', '=', claims.owner)
    .orderBy('id')
    .execute();
  return {
    owner: claims.owner,
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
 * Records an owner's decisions and spends the link (once: a replay is refused). Returns the
 * removal plan of the revoked grants for the caller to execute.
 */
export async function decide(
  db: Db,
  key: Buffer,
  token: string,
  decisions: Decision[],
  now: Date,
): Promise<{ owner: string; kept: number; revoke: RemovalPlan }> {
  const claims = await checkedClaims(db, key, token, now);
  const mine = await db
    .selectFrom('review_items')
    .select(['id', 'step'])
    .where('campaign_id', '=', claims.campaignId)
    .where('owner_email', '=', claims.owner)
    .execute();
  const stepOf = new Map(mine.map((r) => [Number(r.id), decodeValue('json', r.step) as RemovalStep]));
  for (const d of decisions) {
    if (!stepOf.has(d.itemId))
      throw new ReviewLinkError(`item ${d.itemId} is not yours to decide in this campaign`);
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
        decided_by: claims.owner,
        justification: d.justification ?? null,
      })
      .where('id', '=', d.itemId)
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
    kept: decisions.length - revoked.length,
    revoke: makePlan(campaign.integration_id, `review ${claims.campaignId} by ${claims.owner}`, revoked),
  };
}

export interface CampaignReport {
  total: number;
  answered: number;
  kept: number;
  revoked: number;
  unanswered: number;
  rows: Array<{
    owner: string;
    itemPath: string | null;
    permissionId: string;
    decision: string | null;
    decidedAt: string | null;
    justification: string | null;
  }>;
}

export async function campaignReport(db: Db, campaignId: number): Promise<CampaignReport> {
  const rows = await db
    .selectFrom('review_items')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('id')
    .execute();
  const count = (d: string | null) => rows.filter((r) => r.decision === d).length;
  return {
    total: rows.length,
    answered: rows.length - count(null),
    kept: count('keep'),
    revoked: count('revoke'),
    unanswered: count(null),
    rows: rows.map((r) => ({
      owner: r.owner_email,
      itemPath: r.item_path,
      permissionId: r.permission_id,
      decision: r.decision,
      decidedAt: iso(r.decided_at),
      justification: r.justification,
    })),
  };
}

/** The report as CSV (RFC 4180 quoting). */
export function reportCsv(report: CampaignReport): string {
  const q = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = ['owner,item_path,permission_id,decision,decided_at,justification'];
  for (const r of report.rows)
    lines.push(
      [r.owner, r.itemPath, r.permissionId, r.decision, r.decidedAt, r.justification].map(q).join(','),
    );
  return `${lines.join('\n')}\n`;
}
