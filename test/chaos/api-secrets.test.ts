import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiSecretsScan } from './api-secrets.ts';

test('no GET answer of the server holds the client secret, a channel URL or secret, or a client state', async () => {
  const r = await apiSecretsScan();
  assert.deepEqual(r.leaks, []);
  assert.ok(r.routes >= 40, `${r.routes} GET routes`);
  assert.ok(r.needles >= 7, `client secret, 5 channel secrets and at least one client state (${r.needles})`);
  // The scan read real answers as an admin: many succeeded, and some name the tenant.
  assert.ok(r.ok >= 30, `${r.ok} answers 200 of ${r.requests}`);
  assert.ok(r.namingTenant > 0, 'some answer names the tenant id');
});
