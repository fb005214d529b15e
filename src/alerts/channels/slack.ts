import type { KnownBlock } from '@slack/types';
import { type FetchFunction, IncomingWebhook, IncomingWebhookHTTPError } from '@slack/webhook';
import { fetch } from 'undici';
import { DeliveryError, httpFailure, toDeliveryError } from '../delivery-error.ts';
import {
  type AlertItem,
  type AlertMessage,
  digestCounts,
  itemFacts,
  itemHeadline,
  itemWhere,
  messageSubject,
  severityLabel,
} from '../message.ts';
import type { SlackConfig } from './config.ts';
import type { ChannelSend } from './types.ts';

/**
 * Slack incoming webhooks (@slack/webhook) with Block Kit messages. Slack has no
 * idempotency key: a delivery repeated after a crash between Slack's 200 and our commit is
 * posted twice (at-least-once; the window is one request).
 */

const EMOJI: Record<string, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  info: ':white_circle:',
};

/** Block Kit limits (https://api.slack.com/reference/block-kit/blocks). */
const HEADER_MAX = 150;
const TEXT_MAX = 3000;
const FIELD_MAX = 2000;

const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** Text for mrkdwn: &, < and > are control characters there. */
export function escapeMrkdwn(s: string): string {
  return s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function link(url: string | null, text: string): string {
  return url ? `<${url}|${escapeMrkdwn(text)}>` : escapeMrkdwn(text);
}

function itemBlocks(item: AlertItem): KnownBlock[] {
  const fields = itemFacts(item)
    .filter(([label]) => label !== 'Resource' && label !== 'Reason')
    .map(([label, value]) => ({
      type: 'mrkdwn' as const,
      text: cut(`*${label}*\n${escapeMrkdwn(value)}`, FIELD_MAX),
    }));
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: cut(`*Resource:* ${link(item.resourceUrl, itemWhere(item))}`, TEXT_MAX) },
    },
    { type: 'section', fields: fields.slice(0, 10) },
  ];
  if (item.reason)
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: cut(escapeMrkdwn(item.reason), TEXT_MAX) },
    });
  return blocks;
}

function digestList(message: AlertMessage): string {
  const lines = message.items.map(
    (item) =>
      `• *${severityLabel(item.severity)}* ${link(item.appUrl, itemHeadline(item))} — ${escapeMrkdwn(itemWhere(item))}${item.owner ? ` (${escapeMrkdwn(item.owner)})` : ''}`,
  );
  const more = message.count - message.items.length;
  if (more > 0) lines.push(`… and ${more} more`);
  return cut(lines.join('\n'), TEXT_MAX);
}

/** The Block Kit message (and its notification text) for an alert or a digest. */
export function slackMessage(message: AlertMessage): { text: string; blocks: KnownBlock[] } {
  const emoji = EMOJI[message.severity] ?? '';
  const headline = message.kind === 'digest' ? message.title : itemHeadline(message.items[0]);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${emoji} ${headline}`.trim(), HEADER_MAX), emoji: true },
    },
  ];
  if (message.kind === 'digest') {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*${message.count} events:* ${digestCounts(message)}` },
    });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: digestList(message) } });
  } else {
    blocks.push(...itemBlocks(message.items[0]));
  }
  if (message.appUrl)
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', text: { type: 'plain_text', text: 'Open in drivewarden' }, url: message.appUrl },
      ],
    });
  blocks.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: cut(`Policy *${escapeMrkdwn(message.policy)}* · drivewarden`, TEXT_MAX) },
    ],
  });
  return { text: messageSubject(message), blocks };
}

export const sendSlack: ChannelSend<SlackConfig> = async (message, config, ctx) => {
  if (!config.url)
    throw new DeliveryError(
      'this Slack channel has a bot token only (review messages to people): add a webhook url for alerts',
      false,
    );
  const url = ctx.guard.checkUrl(config.url).toString();
  let last: { status: number; headers: Headers } | undefined;
  // @slack/webhook takes a fetch: ours connects through the guard and keeps the response
  // (the library's error carries no headers, and a 429's Retry-After is needed).
  const guardedFetch: FetchFunction = async (target, init) => {
    ctx.guard.checkUrl(String(target));
    // The library only ever sends a JSON string body.
    const res = await fetch(target, {
      method: init?.method,
      headers: init?.headers,
      body: init?.body as string,
      signal: init?.signal,
      redirect: 'error',
      dispatcher: ctx.guard.dispatcher(),
    });
    last = { status: res.status, headers: res.headers as unknown as Headers };
    return res;
  };
  const hook = new IncomingWebhook(url, { fetch: guardedFetch, timeout: ctx.timeoutMs });
  try {
    await hook.send(slackMessage(message));
    return { status: last?.status ?? 200 };
  } catch (err) {
    if (err instanceof IncomingWebhookHTTPError)
      throw httpFailure(err.statusCode, last?.headers ?? new Headers(), err.body);
    const cause = (err as { original?: unknown }).original ?? err;
    if (cause instanceof DeliveryError) throw cause;
    throw toDeliveryError(cause, ctx.timeoutMs);
  }
};
