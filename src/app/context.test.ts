import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openApp } from './context.ts';

test('a data directory without its key refuses to start when the database holds sealed secrets (no silent new key)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-context-'));
  try {
    const app = await openApp({ dataDir: dir, logLevel: 'silent' });
    await app.integrations.create({
      name: 'acme',
      tenantId: '11111111-2222-4333-8444-555555555555',
      clientId: 'client',
      clientSecret: 'sealed-secret',
    });
    await app.close();
    unlinkSync(join(dir, 'secret.key'));
    await assert.rejects(
      openApp({ dataDir: dir, logLevel: 'silent' }),
      /secret\.key does not exist, but the database holds 1 secret\(s\) sealed with a key: set DW_SECRET_KEY/,
    );
    // A database with nothing sealed still gets a new key on first start.
    const empty = mkdtempSync(join(tmpdir(), 'dw-context-'));
    const fresh = await openApp({ dataDir: empty, logLevel: 'silent' });
    await fresh.close();
    rmSync(empty, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
