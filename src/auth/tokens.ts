import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Random bearer secrets (session cookies, API tokens, CSRF tokens). They carry 256 bits of
 * entropy, so a plain SHA-256 is enough to store them: there is nothing to guess offline.
 */

/** A new secret: `<prefix>_` + 43 base64url characters. */
export function newToken(prefix: 'dw' | 'dws' | 'csrf'): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`;
}

/** What the tables keep of a token: its SHA-256, hex. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two strings (CSRF tokens, hashes). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
