import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed review links: `<payload>.<signature>`, both base64url; the payload names the
 * campaign, the owner, the expiry and a random nonce; the signature is HMAC-SHA256 with a
 * key only the server holds; a link issued to someone else for the owner's items (the owner's
 * manager, on escalation) names them too. A link authorises one owner's items in one campaign until it
 * expires or is used; what makes it single-use is the nonce, recorded in review_links.
 */

export interface ReviewLinkClaims {
  campaignId: number;
  owner: string;
  expiresAt: string;
  nonce: string;
  /** Who the link was issued to when not the owner (the owner's manager, on escalation). */
  reviewer?: string;
}

export class ReviewLinkError extends Error {}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64url');

function signature(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

export function signReviewLink(
  key: Buffer,
  claims: Omit<ReviewLinkClaims, 'nonce'>,
): { token: string; nonce: string } {
  if (key.length < 32) throw new ReviewLinkError('the review link key must be at least 32 bytes');
  const nonce = randomBytes(16).toString('base64url');
  const payload = b64(
    JSON.stringify({
      c: claims.campaignId,
      o: claims.owner,
      e: claims.expiresAt,
      n: nonce,
      ...(claims.reviewer ? { r: claims.reviewer } : {}),
    }),
  );
  return { token: `${payload}.${b64(signature(key, payload))}`, nonce };
}

/** The claims of a genuine, unexpired link; ReviewLinkError naming what is wrong otherwise. */
export function verifyReviewLink(key: Buffer, token: string, now: Date): ReviewLinkClaims {
  const [payload, sig, extra] = token.split('.');
  if (!payload || !sig || extra !== undefined) throw new ReviewLinkError('malformed review link');
  const expected = signature(key, payload);
  const given = Buffer.from(sig, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new ReviewLinkError('review link signature is not valid');
  let c: { c?: unknown; o?: unknown; e?: unknown; n?: unknown; r?: unknown };
  try {
    c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new ReviewLinkError('malformed review link');
  }
  if (
    typeof c.c !== 'number' ||
    typeof c.o !== 'string' ||
    typeof c.e !== 'string' ||
    typeof c.n !== 'string' ||
    (c.r !== undefined && typeof c.r !== 'string')
  )
    throw new ReviewLinkError('malformed review link');
  if (!(Date.parse(c.e) > now.getTime())) throw new ReviewLinkError('review link has expired');
  return {
    campaignId: c.c,
    owner: c.o,
    expiresAt: c.e,
    nonce: c.n,
    ...(typeof c.r === 'string' ? { reviewer: c.r } : {}),
  };
}
