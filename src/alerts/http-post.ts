import { fetch } from 'undici';
import { DeliveryError, httpFailure, toDeliveryError } from './delivery-error.ts';
import type { OutboundGuard } from './outbound-guard.ts';

export interface PostOptions {
  guard: OutboundGuard;
  /** The whole attempt (connect, redirects, body) at most this long. */
  timeoutMs: number;
  headers: Record<string, string>;
}

export interface PostResponse {
  status: number;
  body: string;
}

/** Redirects kept to: the method-preserving ones, a few hops, each checked by the guard. */
const FOLLOWED = new Set([307, 308]);
const MAX_REDIRECTS = 3;

/**
 * POSTs a body through the guard; resolves on 2xx, throws a DeliveryError otherwise.
 * 307/308 redirects are followed (up to 3) only through the guard: each hop's URL is
 * checked and its connection resolved by the guard, so a redirect to a private address is
 * refused like the address itself. Other redirects are not followed (a POST must not turn
 * into a GET elsewhere).
 */
export async function guardedPost(rawUrl: string, body: string, options: PostOptions): Promise<PostResponse> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let url = options.guard.checkUrl(rawUrl);
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: options.headers,
        body,
        redirect: 'manual',
        dispatcher: options.guard.dispatcher(),
        signal,
      });
      const text = await res.text();
      const location = res.headers.get('location');
      if (FOLLOWED.has(res.status) && location && hop < MAX_REDIRECTS) {
        url = options.guard.checkUrl(new URL(location, url).toString());
        continue;
      }
      if (res.status >= 300 && res.status < 400)
        throw new DeliveryError(`HTTP ${res.status}: redirect not followed`, false, res.status);
      if (res.status >= 300) throw httpFailure(res.status, res.headers, text);
      return { status: res.status, body: text };
    }
  } catch (err) {
    throw toDeliveryError(err, options.timeoutMs);
  }
}
