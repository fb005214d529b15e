import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The HMAC key review links are signed with: `<dataDir>/review-links.key` (32 random bytes,
 * base64, mode 0600), created on first use like the secret key, unless the key is configured
 * (`DW_REVIEW_LINKS_KEY`: serve replicas on hosts that share no data directory). Every process
 * that creates or checks links must use the same key.
 */
export function reviewLinkKey(dataDir: string, configuredBase64?: string): Buffer {
  if (configuredBase64) {
    const key = Buffer.from(configuredBase64, 'base64');
    if (key.length !== 32) throw new Error('DW_REVIEW_LINKS_KEY must be 32 bytes, base64-encoded');
    return key;
  }
  const file = join(dataDir, 'review-links.key');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    try {
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  if (statSync(file).mode & 0o077) chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} must hold 32 bytes, base64-encoded`);
  return key;
}
