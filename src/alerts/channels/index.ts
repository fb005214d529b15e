import type { AlertMessage } from '../message.ts';
import type { ChannelConfig } from './config.ts';
import { sendEmail } from './email.ts';
import { sendSlack } from './slack.ts';
import { sendTeams } from './teams.ts';
import type { SendContext, SendResult } from './types.ts';
import { sendWebhook } from './webhook.ts';

/** Sends a message to a channel of any kind. */
export function sendToChannel(
  channel: ChannelConfig,
  message: AlertMessage,
  ctx: SendContext,
): Promise<SendResult> {
  switch (channel.kind) {
    case 'slack':
      return sendSlack(message, channel.config, ctx);
    case 'teams':
      return sendTeams(message, channel.config, ctx);
    case 'email':
      return sendEmail(message, channel.config, ctx);
    case 'webhook':
      return sendWebhook(message, channel.config, ctx);
  }
}
