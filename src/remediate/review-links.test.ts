import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { ReviewLinkError, signReviewLink, verifyReviewLink } from './review-links.ts';

const key = randomBytes(32);
const now = new Date('2026-03-01T00:00:00Z');
const claims = { campaignId: 7, owner: 'ada@contoso.test', expiresAt: '2026-03-08T00:00:00Z' };

test('a signed link verifies to its claims until it expires', () => {
  const { token, nonce } = signReviewLink(key, claims);
  assert.deepEqual(verifyReviewLink(key, token, now), { ...claims, nonce });
  assert.throws(() => verifyReviewLink(key, token, new Date('2026-03-08T00:00:00Z')), /expired/);
});

test('forged, tampered or malformed links are refused', () => {
  const { token } = signReviewLink(key, claims);
  const other = signReviewLink(randomBytes(32), claims).token;
  assert.throws(() => verifyReviewLink(key, other, now), /signature is not valid/);
  const [payload, sig] = token.split('.');
  const forged = Buffer.from(payload, 'base64url').toString().replace('ada@', 'eve@');
  assert.throws(
    () => verifyReviewLink(key, `${Buffer.from(forged).toString('base64url')}.${sig}`, now),
    /signature/,
  );
  for (const bad of ['', 'abc', 'a.b.c', `${payload}.`])
    assert.throws(() => verifyReviewLink(key, bad, now), ReviewLinkError, bad);
  assert.throws(() => signReviewLink(Buffer.alloc(8), claims), /at least 32 bytes/);
});
