import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Encrypts secrets at rest with AES-256-GCM. The key comes from `DW_SECRET_KEY` or from
 * `<dataDir>/secret.key`, created on first run with mode 0600. Ciphertext format:
 * `v1:<base64 iv>:<base64 tag>:<base64 data>`.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static fromKey(keyBase64: string): SecretBox {
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length !== 32) throw new Error('secret key must be 32 bytes, base64-encoded');
    return new SecretBox(key);
  }

  /**
   * Uses the configured key, else reads (or creates, 0600) the key file in dataDir.
   * `sealedSecrets`: how many secrets the database already holds. A new key is never made for
   * them (another host or a lost data directory created them): that is an error naming the fix,
   * now, rather than "wrong key" at the first decryption.
   */
  static open(dataDir: string, keyBase64?: string, sealedSecrets = 0): SecretBox {
    if (keyBase64) return SecretBox.fromKey(keyBase64);
    const file = join(dataDir, 'secret.key');
    if (!existsSync(file)) {
      if (sealedSecrets > 0)
        throw new Error(
          `${file} does not exist, but the database holds ${sealedSecrets} secret(s) sealed with a key: ` +
            'set DW_SECRET_KEY to that key, or copy secret.key from the data directory that sealed them ' +
            '(a new key would not open them)',
        );
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
    }
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) chmodSync(file, 0o600);
    return SecretBox.fromKey(readFileSync(file, 'utf8').trim());
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [
      'v1',
      iv.toString('base64'),
      cipher.getAuthTag().toString('base64'),
      data.toString('base64'),
    ].join(':');
  }

  decrypt(sealed: string): string {
    const [version, iv, tag, data] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || data === undefined) throw new Error('not a sealed secret');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    try {
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new Error('cannot decrypt secret: wrong key (DW_SECRET_KEY or secret.key changed?)');
    }
  }
}
