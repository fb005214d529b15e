import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reviewLinkKey } from './review-key.ts';

test('review links: the configured key wins and no key file is made; without it one file, made once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-review-key-'));
  try {
    const configured = Buffer.alloc(32, 9);
    assert.deepEqual(reviewLinkKey(dir, configured.toString('base64')), configured);
    assert.equal(existsSync(join(dir, 'review-links.key')), false, 'replicas need no shared file');
    assert.throws(() => reviewLinkKey(dir, 'c2hvcnQ='), /DW_REVIEW_LINKS_KEY must be 32 bytes/);
    const made = reviewLinkKey(dir);
    assert.equal(made.length, 32);
    assert.deepEqual(reviewLinkKey(dir), made, 'the file is read again, not replaced');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
