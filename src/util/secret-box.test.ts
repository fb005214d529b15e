import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SecretBox } from './secret-box.ts';

test('round-trips and never stores the plain text', () => {
  const box = SecretBox.fromKey(randomBytes(32).toString('base64'));
  const sealed = box.encrypt('s3cr3t-value');
  assert.ok(!sealed.includes('s3cr3t'));
  assert.notEqual(box.encrypt('s3cr3t-value'), sealed, 'fresh IV each time');
  assert.equal(box.decrypt(sealed), 's3cr3t-value');
});

test('a key file is created with mode 0600 and reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-key-'));
  const sealed = SecretBox.open(dir).encrypt('x');
  assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);
  assert.equal(SecretBox.open(dir).decrypt(sealed), 'x');
});

test('a wrong key or tampered data fails with a clear error', () => {
  const sealed = SecretBox.fromKey(randomBytes(32).toString('base64')).encrypt('x');
  const other = SecretBox.fromKey(randomBytes(32).toString('base64'));
  assert.throws(() => other.decrypt(sealed), /wrong key/);
  assert.throws(() => other.decrypt('garbage'), /not a sealed secret/);
});
