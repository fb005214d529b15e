import { ChannelRepository } from '../alerts/channel-repo.ts';
import { sendToChannel } from '../alerts/channels/index.ts';
import { SlackUserNotFound, sendSlackDirect } from '../alerts/channels/slack-dm.ts';
import { toDeliveryError } from '../alerts/delivery-error.ts';
import type { AlertMessage } from '../alerts/message.ts';
import { OutboundGuard } from '../alerts/outbound-guard.ts';
import type { GraphClient } from '../graph/types.ts';
import type { ReviewDelivery } from '../remediate/reviews.ts';
import { sendTeamsActivity, TeamsUnreachable } from '../remediate/teams-activity.ts';
import type { AppContext } from './context.ts';

/**
 * How review messages reach people: each person gets their own message with their own link
 * (a link decides its owner's items, so it never goes to anyone else), by e-mail (an e-mail
 * channel's server and sender, the person as the only recipient), a Slack direct message (a
 * Slack channel's bot token) or a Teams activity notification (the integration's Graph app).
 * A person the chat cannot find gets the e-mail fallback, and the outcome says so. The admins'
 * escalation goes to an alert channel of any kind. Sent now, through the outbound guard; not
 * retried (the outcome is recorded in review_notices and shown in the campaign report).
 */

export interface PersonNotice {
  campaign: string;
  /** Who is asked: the owner, or the owner's manager. */
  to: string;
  /** Whose items. */
  owner: string;
  items: number;
  url: string;
}

export interface NoticeOutcome {
  ok: boolean;
  via: 'email' | 'slack' | 'teams' | null;
  /** SMTP reply code or HTTP status when the receiver answered. */
  status: number | null;
  error: string | null;
  /** E.g. no Slack account for the address, so it went by e-mail. */
  note: string | null;
}

export interface ReviewSender {
  person(delivery: ReviewDelivery, integrationId: string, notice: PersonNotice): Promise<NoticeOutcome>;
  /** A message to an alert channel (the admins). */
  channel(channelRef: string, message: AlertMessage): Promise<NoticeOutcome & { channel: string | null }>;
  close(): Promise<void>;
}

function ask(n: PersonNotice): { title: string; text: string } {
  const forOther = n.to !== n.owner;
  const title = forOther ? `Review the sharing of ${n.owner}'s files` : 'Review the sharing of your files';
  const text = forOther
    ? `${n.owner} has not answered the access review "${n.campaign}" about ${n.items} grant(s) on their files shared outside the organisation or with anyone who has the link. ` +
      `As their manager, open ${n.url} to keep what is still needed and revoke the rest. The link works once and only for you.`
    : `Some of your files are shared outside the organisation or with anyone who has the link (access review "${n.campaign}", ${n.items} grant(s)). ` +
      `Open ${n.url} to keep what is still needed and revoke the rest. The link works once and only for you.`;
  return { title, text };
}

/** A review request as an alert message (the e-mail channel renders it). */
export function reviewMessage(n: PersonNotice, now: Date): AlertMessage {
  const at = now.toISOString();
  const { title, text } = ask(n);
  return {
    id: `review-${now.getTime()}-${n.to}`,
    policy: `access review "${n.campaign}"`,
    kind: 'alert',
    title,
    severity: 'info',
    count: 1,
    bySeverity: { info: 1 },
    items: [
      {
        source: 'finding',
        sourceId: 0,
        event: 'review',
        severity: 'info',
        title: `${title}: ${n.items} grant(s) to keep or revoke`,
        ruleId: null,
        detector: 'access review',
        integration: '—',
        resourceType: 'drive_item',
        resourceId: 'review',
        resourceName: null,
        resourcePath: null,
        owner: n.owner,
        resourceUrl: null,
        changed: null,
        reason: text,
        actor: null,
        at,
        appUrl: n.url,
      },
    ],
    digestReason: null,
    appUrl: n.url,
    createdAt: at,
  };
}

export function openReviewSender(
  app: AppContext,
  graphFor: (integrationId: string) => Promise<GraphClient>,
): ReviewSender {
  const guard = new OutboundGuard(app.config.alerts.allowPrivateTargets);
  const channels = new ChannelRepository(app.store, app.secrets);
  const timeoutMs = app.config.alerts.timeoutMs;

  const failed = (via: NoticeOutcome['via'], err: unknown, note: string | null = null): NoticeOutcome => {
    const e = toDeliveryError(err, timeoutMs);
    return { ok: false, via, status: e.status, error: e.message, note };
  };

  const byEmail = async (
    ref: string | undefined,
    n: PersonNotice,
    note: string | null,
  ): Promise<NoticeOutcome> => {
    if (!ref) return { ok: false, via: null, status: null, error: 'no e-mail channel to fall back on', note };
    const info = await channels.get(ref);
    const channel = info ? await channels.config(info.id) : undefined;
    if (channel?.kind !== 'email')
      return { ok: false, via: null, status: null, error: `channel "${ref}" is not an e-mail channel`, note };
    const now = new Date();
    const message = reviewMessage(n, now);
    try {
      const res = await sendToChannel({ kind: 'email', config: { ...channel.config, to: [n.to] } }, message, {
        guard,
        timeoutMs,
        idempotencyKey: message.id.replace(/[^A-Za-z0-9.-]/g, '_'),
        now,
      });
      return { ok: true, via: 'email', status: res.status, error: null, note };
    } catch (err) {
      return failed('email', err, note);
    }
  };

  return {
    async person(delivery, integrationId, n) {
      if (delivery.teams) {
        const { title, text } = ask(n);
        try {
          const res = await sendTeamsActivity(await graphFor(integrationId), {
            user: n.to,
            topic: title,
            webUrl: n.url,
            previewText: text,
            items: n.items,
          });
          return { ok: true, via: 'teams', status: res.status, error: null, note: null };
        } catch (err) {
          if (!(err instanceof TeamsUnreachable)) return failed('teams', err);
          return byEmail(delivery.fallbackChannel, n, `Teams: ${err.message}; sent by e-mail`);
        }
      }
      const ref = delivery.channel;
      if (!ref)
        return {
          ok: false,
          via: null,
          status: null,
          error: 'the campaign has no delivery channel',
          note: null,
        };
      const info = await channels.get(ref);
      if (!info) return { ok: false, via: null, status: null, error: `no channel "${ref}"`, note: null };
      const channel = await channels.config(info.id);
      if (channel?.kind === 'email') return byEmail(info.id, n, null);
      if (channel?.kind === 'slack' && channel.config.botToken) {
        const { title, text } = ask(n);
        try {
          await sendSlackDirect(
            { botToken: channel.config.botToken, apiUrl: channel.config.apiUrl },
            { email: n.to, text: `*${title}*\n${text}`, url: n.url, buttonText: 'Review' },
            { guard, timeoutMs },
          );
          return { ok: true, via: 'slack', status: 200, error: null, note: null };
        } catch (err) {
          if (!(err instanceof SlackUserNotFound)) return failed('slack', err);
          return byEmail(delivery.fallbackChannel, n, `Slack: ${err.message}; sent by e-mail`);
        }
      }
      return {
        ok: false,
        via: null,
        status: null,
        error: `channel "${info.name}" is a ${info.kind} channel${info.kind === 'slack' ? ' without a bot token' : ''}: review messages go to each person, by e-mail or a Slack bot`,
        note: null,
      };
    },

    async channel(ref, message) {
      const info = await channels.get(ref);
      const channel = info ? await channels.config(info.id) : undefined;
      if (!info || !channel)
        return {
          ok: false,
          via: null,
          status: null,
          error: `no channel "${ref}"`,
          note: null,
          channel: null,
        };
      try {
        const now = new Date();
        const res = await sendToChannel(channel, message, {
          guard,
          timeoutMs,
          idempotencyKey: message.id.replace(/[^A-Za-z0-9.-]/g, '_'),
          now,
        });
        return { ok: true, via: null, status: res.status, error: null, note: null, channel: info.name };
      } catch (err) {
        return { ...failed(null, err), channel: info.name };
      }
    },

    close: () => guard.close(),
  };
}
