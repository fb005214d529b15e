/**
 * The HTTP layer under the Graph client and under msal: one undici Agent per client
 * (keep-alive, the extra CA appended to Node's default roots), one request with a hard
 * per-attempt timeout, the body read in full, and network failures sorted into a few
 * kinds the retry logic understands.
 */
import { Agent } from 'undici';
import { connectTrusting } from '../util/extra-ca.ts';

export interface TransportOptions {
  /** Extra CA certificates (PEM), trusted in addition to Node's default roots. */
  caPem?: string;
  /** Per-attempt timeout covering connect, headers and the whole body. */
  timeoutMs: number;
  /** Max connections per origin. */
  connections?: number;
  /**
   * Largest response body read (bytes, default 128 MiB). Graph's pages and $batch answers
   * are a few MB and audit content blobs tens of MB; anything larger is refused (not
   * retried) instead of filling memory.
   */
  maxBodyBytes?: number;
}

export const DEFAULT_MAX_BODY_BYTES = 128 * 1024 * 1024;

export interface RawResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
}

export type TransportFailureKind =
  | 'timeout'
  | 'connectionReset'
  | 'connectionRefused'
  | 'tlsError'
  | 'responseTooLarge'
  | 'networkError';

/** A request that got no complete HTTP response. Not retryable: TLS trust failures and oversized bodies. */
export class TransportError extends Error {
  readonly kind: TransportFailureKind;
  readonly retryable: boolean;
  readonly causeCode?: string;
  constructor(kind: TransportFailureKind, message: string, causeCode?: string) {
    super(message);
    this.name = 'TransportError';
    this.kind = kind;
    this.retryable = kind !== 'tlsError' && kind !== 'responseTooLarge';
    this.causeCode = causeCode;
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** Walks `cause` chains (undici and fetch nest the real error). */
function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    cur = (cur as { cause?: unknown }).cause;
  }
  return codes;
}

export function classifyNetworkError(err: unknown, timedOut: boolean): TransportError {
  const codes = errorCodes(err);
  const message = err instanceof Error ? err.message : String(err);
  const code = codes.find((c) => c !== 'UND_ERR_ABORTED') ?? codes[0];
  if (timedOut || codes.some((c) => c.includes('TIMEOUT') || c === 'ETIMEDOUT')) {
    return new TransportError('timeout', 'request timed out', code);
  }
  const tls = codes.find((c) => TLS_CODES.has(c) || c.startsWith('ERR_SSL') || c.startsWith('ERR_TLS'));
  if (tls) return new TransportError('tlsError', `TLS failure (${tls}): ${message}`, tls);
  if (codes.includes('ECONNREFUSED')) return new TransportError('connectionRefused', message, 'ECONNREFUSED');
  if (
    codes.some((c) =>
      [
        'ECONNRESET',
        'EPIPE',
        'UND_ERR_SOCKET',
        'UND_ERR_CLOSED',
        'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
        'ECONNABORTED',
      ].includes(c),
    )
  ) {
    return new TransportError('connectionReset', `connection reset: ${message}`, code);
  }
  return new TransportError('networkError', message, code);
}

export interface SendInit {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  timeoutMs?: number;
}

export interface Transport {
  send(init: SendInit): Promise<RawResponse>;
  close(): Promise<void>;
}

export function createTransport(options: TransportOptions): Transport {
  const agent = new Agent({
    connect: connectTrusting(options.caPem),
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    connections: options.connections ?? 32,
    // Our own timer (below) bounds the whole exchange; these are backstops.
    headersTimeout: options.timeoutMs + 1_000,
    bodyTimeout: options.timeoutMs + 1_000,
  });
  let closed = false;

  return {
    async send(init) {
      if (closed) throw new TransportError('networkError', 'the Graph client is closed');
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, init.timeoutMs ?? options.timeoutMs);
      try {
        const res = await agent.request({
          origin: new URL(init.url).origin,
          path: pathOf(init.url),
          method: init.method as 'GET',
          headers: init.headers,
          body: init.body,
          signal: controller.signal,
        });
        const chunks: Buffer[] = [];
        const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
        let size = 0;
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > limit) {
            controller.abort();
            throw new TransportError(
              'responseTooLarge',
              `${init.method} ${pathOf(init.url).split('?')[0]}: response body over ${limit} bytes; not read`,
            );
          }
          chunks.push(chunk as Buffer);
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
        }
        return { status: res.statusCode, headers, body: Buffer.concat(chunks) };
      } catch (err) {
        if (err instanceof TransportError) throw err;
        throw classifyNetworkError(err, timedOut);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await agent.destroy();
    },
  };
}

/**
 * The path and query exactly as given (nextLinks are opaque: re-encoding them with the URL
 * parser would turn `'` into `%27`); only characters HTTP cannot carry are escaped.
 */
export function pathOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^#]*)/i.exec(url);
  const raw = m?.[1] ?? '';
  const path = raw.startsWith('/') ? raw : `/${raw}`;
  return path.replace(/[^\x21-\x7e]+/gu, (s) => encodeURI(s));
}
