/**
 * Deep redaction for logs: a second line of defence behind "never pass a secret to a log
 * call". Values under secret-looking keys (any depth, any casing: Authorization,
 * client_secret, clientState, x-api-key, password, cookie, …) become '[redacted]', and
 * tokens carried in URLs inside any string (delta and skip tokens, access tokens, SAS
 * signatures, client secrets in form bodies) are cut out.
 */
const SECRET_KEY =
  /^(authorization|proxy-authorization|cookie|set-cookie|password|passphrase|secret|client_?secret|client_?state|access_?token|refresh_?token|id_?token|private_?key|api_?key|x-api-key|token|sig|signature|config_enc|secret_enc|certificate_enc|smtp_?pass(word)?|webhook_?url)$/i;

const URL_TOKEN =
  /((?:^|[?&\s])(?:\$?deltatoken|\$?skiptoken|token|access_token|client_secret|code|sig|signature|key)=)[^&\s"'#]+/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/g;

export const REDACTED = '[redacted]';

/** A string with URL tokens and bearer credentials cut out. */
export function scrubString(s: string): string {
  return s.replace(URL_TOKEN, `$1${REDACTED}`).replace(BEARER, `$1 ${REDACTED}`);
}

/** A copy of `value` with secret keys redacted and strings scrubbed (depth-limited, cycle-safe). */
export function redactDeep(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[depth]';
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1, seen));
  if (value instanceof Error) {
    const out: Record<string, unknown> = {
      type: value.name,
      message: scrubString(value.message),
      stack: value.stack ? scrubString(value.stack) : undefined,
    };
    for (const [k, v] of Object.entries(value))
      out[k] = SECRET_KEY.test(k) ? REDACTED : redactDeep(v, depth + 1, seen);
    if (value.cause !== undefined) out.cause = redactDeep(value.cause, depth + 1, seen);
    return out;
  }
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SECRET_KEY.test(k) ? REDACTED : redactDeep(v, depth + 1, seen);
  return out;
}
