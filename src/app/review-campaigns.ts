import type { AlertMessage } from '../alerts/message.ts';
import type { QueryParams } from '../query/params.ts';
import { SavedQueries } from '../query/saved-queries.ts';
import type { AccessScope, RemovalPlan } from '../remediate/plan.ts';
import { claimNotice, dueEscalations, finishNotice } from '../remediate/review-escalation.ts';
import { claimDueSchedules, type ReviewSchedule, recordLaunch } from '../remediate/review-schedules.ts';
import { type CampaignLink, createCampaign, issueLink, type ReviewDelivery } from '../remediate/reviews.ts';
import { planForRows, planForRule } from '../remediate/targets.ts';
import type { AppContext } from './context.ts';
import type { NoticeOutcome, ReviewSender } from './review-delivery.ts';
import { reviewLinkKey } from './review-key.ts';

/**
 * Review campaigns' messages: the owners' links sent and recorded (review_notices, step
 * `owner`), and escalation rounds (run by the service's schedule): a manager gets a link for
 * exactly the owner's unanswered items, the admins get an alert on the campaign's escalation
 * channel. Every step is claimed in the store before it is sent, so it happens once.
 */

/** Where drivewarden serves /review: given, else alerts.webAppUrl, server.publicUrl, host:port. */
export function reviewBaseUrl(app: AppContext, given?: string | null): URL {
  const { server, alerts } = app.config;
  const base = given ?? alerts.webAppUrl ?? server.publicUrl ?? `http://${server.host}:${server.port}`;
  return new URL('/review', base);
}

/** A saved query's rows as a removal plan (the query's guard and limits; every row up to query.maxRows). */
export async function planForSavedQuery(
  app: AppContext,
  integrationId: string,
  name: string,
  params: QueryParams,
  scope: AccessScope,
): Promise<RemovalPlan> {
  const saved = new SavedQueries(app.store, { limits: app.config.query, pgRole: app.config.query.pgRole });
  const result = await saved.run(name, params, app.config.query.maxRows);
  const plan = await planForRows(app.store.db, integrationId, `query ${name}`, result.rows, scope);
  if (result.truncated)
    plan.notes.push(
      `query ${name} returned more rows than query.maxRows (${result.rows.length}): the rest left out`,
    );
  return plan;
}

export function linkUrl(base: URL, token: string): string {
  const url = new URL(base);
  url.searchParams.set('t', token);
  return url.toString();
}

export interface OwnerLinkSent {
  owner: string;
  ok: boolean;
  via: NoticeOutcome['via'];
  status: number | null;
  error: string | null;
  note: string | null;
}

/** Each owner's link to that owner, the outcome recorded as the owner step. */
export async function sendOwnerLinks(
  app: AppContext,
  sender: ReviewSender,
  c: { campaignId: number; name: string; integrationId: string; delivery: ReviewDelivery },
  links: Array<CampaignLink & { url: string }>,
): Promise<OwnerLinkSent[]> {
  const out: OwnerLinkSent[] = [];
  for (const l of links) {
    const id = await claimNotice(app.store.db, {
      campaignId: c.campaignId,
      owner: l.owner,
      step: 'owner',
      recipient: l.owner,
      items: l.items,
      now: new Date(),
    });
    if (id === null) continue;
    const r = await sender.person(c.delivery, c.integrationId, {
      campaign: c.name,
      to: l.owner,
      owner: l.owner,
      items: l.items,
      url: l.url,
    });
    await finishNotice(app.store.db, id, r);
    out.push({ owner: l.owner, ok: r.ok, via: r.via, status: r.status, error: r.error, note: r.note });
  }
  return out;
}

function adminMessage(
  app: AppContext,
  e: { campaignId: number; campaignName: string; owner: string; items: number; note: string | null },
  now: Date,
): AlertMessage {
  const at = now.toISOString();
  const appUrl = new URL('/remediation', reviewBaseUrl(app)).toString();
  const title = `Access review "${e.campaignName}": ${e.owner} left ${e.items} grant(s) unanswered`;
  return {
    id: `review-escalation-${e.campaignId}-${e.owner}`,
    policy: `access review "${e.campaignName}"`,
    kind: 'alert',
    title,
    severity: 'medium',
    count: 1,
    bySeverity: { medium: 1 },
    items: [
      {
        source: 'finding',
        sourceId: 0,
        event: 'escalated',
        severity: 'medium',
        title,
        ruleId: null,
        detector: 'access review',
        integration: '—',
        resourceType: 'drive_item',
        resourceId: `campaign ${e.campaignId}`,
        resourceName: null,
        resourcePath: null,
        owner: e.owner,
        resourceUrl: null,
        changed: null,
        reason:
          `Nobody answered for ${e.owner}'s ${e.items} grant(s) in campaign ${e.campaignId}${e.note ? ` (${e.note})` : ' (their manager was asked too)'}. ` +
          `Decide with \`drivewarden remediate\` or the API; the campaign report lists the grants.`,
        actor: null,
        at,
        appUrl,
      },
    ],
    digestReason: null,
    appUrl,
    createdAt: at,
  };
}

export interface EscalationRound {
  managers: number;
  admins: number;
  failed: number;
}

/** One escalation round: every due step claimed, sent and recorded. */
export async function escalateDue(
  app: AppContext,
  sender: ReviewSender,
  now: Date,
): Promise<EscalationRound> {
  const db = app.store.db;
  const round: EscalationRound = { managers: 0, admins: 0, failed: 0 };
  const due = await dueEscalations(db, now);
  if (due.length === 0) return round;
  const key = reviewLinkKey(app.config.dataDir, app.config.reviewLinksKey);
  const base = reviewBaseUrl(app);
  for (const e of due) {
    if (e.step === 'manager' && e.manager) {
      const id = await claimNotice(db, {
        campaignId: e.campaignId,
        owner: e.owner,
        step: 'manager',
        recipient: e.manager,
        items: e.items,
        now,
      });
      if (id === null) continue;
      const token = await issueLink(db, key, {
        campaignId: e.campaignId,
        owner: e.owner,
        expiresAt: e.expiresAt,
        reviewer: e.manager,
      });
      const r = e.delivery
        ? await sender.person(e.delivery, e.integrationId, {
            campaign: e.campaignName,
            to: e.manager,
            owner: e.owner,
            items: e.items,
            url: linkUrl(base, token),
          })
        : { ok: false, via: null, error: 'the campaign has no delivery channel', note: null };
      await finishNotice(db, id, r);
      if (r.ok) round.managers++;
      else round.failed++;
      continue;
    }
    const id = await claimNotice(db, {
      campaignId: e.campaignId,
      owner: e.owner,
      step: 'admins',
      recipient: e.escalationChannel,
      items: e.items,
      now,
      note: e.note,
    });
    if (id === null) continue;
    const r = e.escalationChannel
      ? await sender.channel(e.escalationChannel, adminMessage(app, e, now))
      : { ok: false, via: null, error: 'the campaign has no escalation channel for the admins', note: null };
    await finishNotice(db, id, {
      ok: r.ok,
      via: 'channel' in r && r.channel ? `channel:${r.channel}` : null,
      note: null,
      error: r.error,
    });
    if (r.ok) round.admins++;
    else round.failed++;
  }
  return round;
}

/** One scheduled campaign launched: its plan made now, the campaign created, the owners' links sent. */
export async function launchSchedule(
  app: AppContext,
  sender: ReviewSender,
  s: ReviewSchedule,
  now: Date,
): Promise<{ campaignId: number; owners: number; sent: OwnerLinkSent[] }> {
  const plan =
    s.source.kind === 'rule'
      ? await planForRule(app.store.db, s.integrationId, s.source.id, s.scope)
      : await planForSavedQuery(app, s.integrationId, s.source.id, s.source.params, s.scope);
  const name = `${s.name} ${now.toISOString().slice(0, 10)}`;
  const campaign = await createCampaign(
    app.store.db,
    app.store.dialect,
    reviewLinkKey(app.config.dataDir, app.config.reviewLinksKey),
    {
      integrationId: s.integrationId,
      name,
      plan,
      expiresAt: new Date(now.getTime() + s.expiresDays * 86_400_000),
      actor: `schedule:${s.name}`,
      now,
      settings: {
        escalateAfterDays: s.escalateAfterDays,
        delivery: s.delivery,
        escalationChannel: s.escalationChannel,
        scheduleId: s.id,
      },
    },
  );
  const base = reviewBaseUrl(app, s.baseUrl);
  const links = campaign.links.map((l) => ({ ...l, url: linkUrl(base, l.token) }));
  const sent = s.delivery
    ? await sendOwnerLinks(
        app,
        sender,
        { campaignId: campaign.campaignId, name, integrationId: s.integrationId, delivery: s.delivery },
        links,
      )
    : [];
  return { campaignId: campaign.campaignId, owners: links.length, sent };
}

/** Every due schedule this process won, launched; the outcome recorded on the schedule. */
export async function launchDueSchedules(
  app: AppContext,
  sender: ReviewSender,
  now: Date,
  ready?: (integrationId: string) => boolean,
): Promise<Array<{ schedule: string; campaignId: number | null; error: string | null }>> {
  const out: Array<{ schedule: string; campaignId: number | null; error: string | null }> = [];
  for (const s of await claimDueSchedules(app.store.db, now, ready)) {
    try {
      const r = await launchSchedule(app, sender, s, now);
      await recordLaunch(app.store.db, s.id, { campaignId: r.campaignId, error: null });
      out.push({ schedule: s.name, campaignId: r.campaignId, error: null });
    } catch (err) {
      const error = (err as Error).message;
      await recordLaunch(app.store.db, s.id, { campaignId: null, error });
      out.push({ schedule: s.name, campaignId: null, error });
    }
  }
  return out;
}
