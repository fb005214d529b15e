import { Webhook } from 'standardwebhooks';
import { VERSION } from '../../version.ts';
import { guardedPost } from '../http-post.ts';
import type { AlertMessage } from '../message.ts';
import type { WebhookConfig } from './config.ts';
import type { ChannelSend } from './types.ts';

/**
 * A generic webhook: the alert as JSON, signed the Standard Webhooks way
 * (https://www.standardwebhooks.com, the standardwebhooks package): `webhook-id` (the
 * idempotency key: the same on every retry, so a receiver can drop repeats),
 * `webhook-timestamp` (seconds; receivers reject old ones, so a captured request cannot be
 * replayed later) and `webhook-signature`: `v1,` + base64 HMAC-SHA256, keyed with the
 * base64-decoded secret after `whsec_`, over `<id>.<timestamp>.<body>`.
 */

/** The JSON body: {type, timestamp, data}. */
export function webhookBody(message: AlertMessage, now: Date): string {
  return JSON.stringify({
    type: message.kind === 'digest' ? 'drivewarden.alert.digest' : 'drivewarden.alert',
    timestamp: now.toISOString(),
    data: message,
  });
}

/** The signature headers for a body, as sent. */
export function signatureHeaders(
  secret: string,
  id: string,
  now: Date,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, now, body),
  };
}

export const sendWebhook: ChannelSend<WebhookConfig> = async (message, config, ctx) => {
  const body = webhookBody(message, ctx.now);
  const res = await guardedPost(config.url, body, {
    guard: ctx.guard,
    timeoutMs: ctx.timeoutMs,
    headers: {
      ...config.headers,
      'content-type': 'application/json',
      'user-agent': `drivewarden/${VERSION}`,
      ...signatureHeaders(config.secret, ctx.idempotencyKey, ctx.now, body),
    },
  });
  return { status: res.status };
};
