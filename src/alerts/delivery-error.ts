import { refusalIn } from './outbound-guard.ts';

/**
 * A failed delivery attempt, classified: retryable (network, timeout, 408, 425, 429, 5xx,
 * SMTP 4xx) or not (other 4xx, SMTP 5xx, a refused target, a bad configuration), with the
 * receiver's Retry-After when it sent one.
 */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    /** HTTP status or SMTP reply code, when the receiver answered. */
    readonly status: number | null = null,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A non-2xx HTTP answer. */
export function httpFailure(
  status: number,
  headers: { get(name: string): string | null },
  body: string,
): DeliveryError {
  const snippet = body.replace(/\s+/g, ' ').trim().slice(0, 200);
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  return new DeliveryError(
    `HTTP ${status}${snippet ? `: ${snippet}` : ''}`,
    retryable,
    status,
    parseRetryAfter(headers.get('retry-after')),
  );
}

/** Any error of an attempt, as a DeliveryError. */
export function toDeliveryError(err: unknown, timeoutMs: number): DeliveryError {
  if (err instanceof DeliveryError) return err;
  const refused = refusalIn(err);
  if (refused) return new DeliveryError(refused.message, false);
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.cause?.name === 'TimeoutError')
    return new DeliveryError(`timed out after ${timeoutMs} ms`, true);
  const code = e?.cause?.code ?? e?.code;
  const message = e?.cause?.message ?? e?.message ?? String(err);
  return new DeliveryError(code && !message.includes(code) ? `${code}: ${message}` : message, true);
}
