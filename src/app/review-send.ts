import { sendToChannel } from '../alerts/channels/index.ts';
import { toDeliveryError } from '../alerts/delivery-error.ts';
import type { AlertMessage } from '../alerts/message.ts';
import { withAlerts } from './alerts.ts';
import { CommandError } from './commands/types.ts';
import type { AppContext } from './context.ts';

/**
 * Review links sent to the owners through an e-mail channel: its SMTP server and sender, but
 * each message to one owner only, with that owner's link (a link decides its owner's items,
 * so it never goes to anyone else). Sent now, through the outbound guard; not retried.
 */

export interface ReviewLinkSent {
  owner: string;
  ok: boolean;
  /** SMTP reply code when the server answered. */
  status: number | null;
  error: string | null;
}

function reviewMessage(campaign: string, owner: string, items: number, url: string, now: Date): AlertMessage {
  const at = now.toISOString();
  return {
    id: `review-${now.getTime()}-${owner}`,
    policy: `access review "${campaign}"`,
    kind: 'alert',
    title: 'Review the sharing of your files',
    severity: 'info',
    count: 1,
    bySeverity: { info: 1 },
    items: [
      {
        source: 'finding',
        sourceId: 0,
        event: 'review',
        severity: 'info',
        title: `Review the sharing of your files: ${items} grant(s) to keep or revoke`,
        ruleId: null,
        detector: 'access review',
        integration: '—',
        resourceType: 'drive_item',
        resourceId: 'review',
        resourceName: null,
        resourcePath: null,
        owner,
        resourceUrl: null,
        changed: null,
        reason:
          'Some of your files are shared outside the organisation or with anyone who has the link. ' +
          `Open ${url} to keep what is still needed and revoke the rest. The link works once and only for you.`,
        actor: null,
        at,
        appUrl: url,
      },
    ],
    digestReason: null,
    appUrl: url,
    createdAt: at,
  };
}

export async function sendReviewLinks(
  app: AppContext,
  channelRef: string,
  campaign: string,
  links: Array<{ owner: string; items: number; url: string }>,
): Promise<ReviewLinkSent[]> {
  return withAlerts(app, async (alerts) => {
    const info = await alerts.channels.get(channelRef);
    if (!info) throw new CommandError('not_found', `no channel "${channelRef}"`, 404);
    const channel = await alerts.channels.config(info.id);
    if (channel?.kind !== 'email')
      throw new CommandError(
        'invalid_request',
        `channel: "${info.name}" is a ${info.kind} channel; review links go to each owner's own address, so an e-mail channel`,
        400,
      );
    const timeoutMs = app.config.alerts.timeoutMs;
    const sent: ReviewLinkSent[] = [];
    for (const link of links) {
      const now = new Date();
      const message = reviewMessage(campaign, link.owner, link.items, link.url, now);
      try {
        const res = await sendToChannel(
          { kind: 'email', config: { ...channel.config, to: [link.owner] } },
          message,
          { guard: alerts.guard, timeoutMs, idempotencyKey: message.id.replace(/[^A-Za-z0-9.-]/g, '_'), now },
        );
        sent.push({ owner: link.owner, ok: true, status: res.status, error: null });
      } catch (err) {
        const e = toDeliveryError(err, timeoutMs);
        sent.push({ owner: link.owner, ok: false, status: e.status, error: e.message });
      }
    }
    return sent;
  });
}
