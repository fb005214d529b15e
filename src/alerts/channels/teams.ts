import { DeliveryError } from '../delivery-error.ts';
import { guardedPost } from '../http-post.ts';
import {
  type AlertItem,
  type AlertMessage,
  digestCounts,
  itemFacts,
  itemHeadline,
  itemWhere,
  severityLabel,
} from '../message.ts';
import { adaptiveCardProblems } from './adaptive-card.ts';
import type { TeamsConfig } from './config.ts';
import type { ChannelSend } from './types.ts';

/**
 * Microsoft Teams through a Workflows webhook URL (the replacement of Office 365
 * connectors): a message with one Adaptive Card attachment, validated with the Adaptive
 * Cards SDK before it leaves. Teams has no idempotency key either (at-least-once, see
 * slack.ts).
 */

/** Version 1.4: what Teams renders everywhere (desktop, web, mobile). */
const CARD_VERSION = '1.4';

const COLOR: Record<string, string> = {
  critical: 'Attention',
  high: 'Attention',
  medium: 'Warning',
  low: 'Accent',
  info: 'Default',
};

function factSet(facts: Array<[string, string]>) {
  return { type: 'FactSet', facts: facts.map(([title, value]) => ({ title, value })) };
}

function itemBody(item: AlertItem): unknown[] {
  return [factSet(itemFacts(item))];
}

function digestBody(message: AlertMessage): unknown[] {
  const rows = message.items.map((item) => ({
    type: 'TextBlock',
    wrap: true,
    spacing: 'Small',
    text: `**${severityLabel(item.severity)}** ${itemHeadline(item)} — ${itemWhere(item)}${item.owner ? ` (${item.owner})` : ''}`,
  }));
  const more = message.count - message.items.length;
  if (more > 0) rows.push({ type: 'TextBlock', wrap: true, spacing: 'Small', text: `… and ${more} more` });
  return [
    { type: 'TextBlock', wrap: true, text: `${message.count} events: ${digestCounts(message)}` },
    { type: 'Container', separator: true, items: rows },
  ];
}

/** The Adaptive Card of an alert or a digest. */
export function adaptiveCard(message: AlertMessage): Record<string, unknown> {
  const headline = message.kind === 'digest' ? message.title : itemHeadline(message.items[0]);
  const actions: unknown[] = [];
  if (message.appUrl)
    actions.push({ type: 'Action.OpenUrl', title: 'Open in drivewarden', url: message.appUrl });
  const resourceUrl = message.kind === 'alert' ? message.items[0].resourceUrl : null;
  if (resourceUrl) actions.push({ type: 'Action.OpenUrl', title: 'Open in OneDrive', url: resourceUrl });
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: CARD_VERSION,
    body: [
      {
        type: 'TextBlock',
        text: headline,
        wrap: true,
        weight: 'Bolder',
        size: 'Medium',
        color: COLOR[message.severity] ?? 'Default',
      },
      ...(message.kind === 'digest' ? digestBody(message) : itemBody(message.items[0])),
      { type: 'TextBlock', text: `Policy: ${message.policy}`, isSubtle: true, size: 'Small', wrap: true },
    ],
    ...(actions.length ? { actions } : {}),
  };
}

/** The body a Workflows webhook takes: a message with the card as its attachment. */
export function teamsPayload(card: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      { contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card },
    ],
  };
}

export const sendTeams: ChannelSend<TeamsConfig> = async (message, config, ctx) => {
  const card = adaptiveCard(message);
  const problems = adaptiveCardProblems(card);
  if (problems.length) throw new DeliveryError(`invalid Adaptive Card: ${problems.join('; ')}`, false);
  const res = await guardedPost(config.url, JSON.stringify(teamsPayload(card)), {
    guard: ctx.guard,
    timeoutMs: ctx.timeoutMs,
    headers: { 'content-type': 'application/json' },
  });
  return { status: res.status };
};
