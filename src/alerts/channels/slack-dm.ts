import { type FetchFunction, WebAPIPlatformError, WebClient } from '@slack/web-api';
import { fetch } from 'undici';
import { DeliveryError, toDeliveryError } from '../delivery-error.ts';
import type { OutboundGuard } from '../outbound-guard.ts';
import { escapeMrkdwn } from './slack.ts';

/**
 * A direct message from a Slack app's bot to one person, found by e-mail address
 * (@slack/web-api: `users.lookupByEmail`, then `chat.postMessage` with the user id as the
 * channel, which opens the app's DM with them). Scopes: users:read.email and chat:write.
 * Every connection goes through the outbound guard; rate-limited calls are not retried here.
 */

export interface SlackDirectMessage {
  email: string;
  /** Plain text (notifications, clients without blocks). */
  text: string;
  /** The button's target. */
  url: string;
  buttonText: string;
}

/** The person has no Slack account under that address (or the bot cannot see it). */
export class SlackUserNotFound extends Error {}

export async function sendSlackDirect(
  config: { botToken: string; apiUrl?: string },
  dm: SlackDirectMessage,
  ctx: { guard: OutboundGuard; timeoutMs: number },
): Promise<{ userId: string; ts: string | null }> {
  const apiUrl = ctx.guard.checkUrl(config.apiUrl ?? 'https://slack.com/api/').toString();
  const guardedFetch = (async (target: string, init: RequestInit) => {
    ctx.guard.checkUrl(String(target));
    return fetch(target, {
      method: init.method,
      headers: init.headers as Record<string, string>,
      body: init.body as string,
      signal: init.signal ?? undefined,
      redirect: 'error',
      dispatcher: ctx.guard.dispatcher(),
    });
  }) as unknown as FetchFunction;
  const client = new WebClient(config.botToken, {
    slackApiUrl: apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`,
    fetch: guardedFetch,
    timeout: ctx.timeoutMs,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    allowAbsoluteUrls: false,
  });
  let userId: string;
  try {
    const found = await client.users.lookupByEmail({ email: dm.email });
    if (!found.user?.id) throw new SlackUserNotFound(`no Slack user with the address ${dm.email}`);
    userId = found.user.id;
  } catch (err) {
    if (err instanceof SlackUserNotFound) throw err;
    if (err instanceof WebAPIPlatformError && err.data.error === 'users_not_found')
      throw new SlackUserNotFound(`no Slack user with the address ${dm.email}`);
    throw slackFailure(err, ctx.timeoutMs);
  }
  try {
    const posted = await client.chat.postMessage({
      channel: userId,
      text: dm.text,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(dm.text) } },
        {
          type: 'actions',
          elements: [
            {
              type: 'button',
              text: { type: 'plain_text', text: dm.buttonText },
              url: dm.url,
              style: 'primary',
            },
          ],
        },
      ],
      unfurl_links: false,
    });
    return { userId, ts: posted.ts ?? null };
  } catch (err) {
    throw slackFailure(err, ctx.timeoutMs);
  }
}

function slackFailure(err: unknown, timeoutMs: number): DeliveryError {
  if (err instanceof WebAPIPlatformError)
    return new DeliveryError(`Slack refused: ${err.data.error}`, false, 200);
  const e = err as { code?: string; statusCode?: number; retryAfter?: number; original?: unknown };
  if (e?.code === 'slack_webapi_http_error' && typeof e.statusCode === 'number')
    return new DeliveryError(`Slack answered HTTP ${e.statusCode}`, e.statusCode >= 500, e.statusCode);
  if (e?.code === 'slack_webapi_rate_limited_error')
    return new DeliveryError('Slack rate-limited the call', true, 429, (e.retryAfter ?? 1) * 1000);
  if (e?.code === 'slack_webapi_request_error') return toDeliveryError(e.original, timeoutMs);
  return toDeliveryError(err, timeoutMs);
}
