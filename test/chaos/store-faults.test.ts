import assert from 'node:assert/strict';
import { test } from 'node:test';
import { storeFaultRuns } from './store-faults.ts';

test('store faults: disk full, read-only file, PostgreSQL restarted mid-sync: a clear error, a sound store, recovery to ground truth', async () => {
  const r = await storeFaultRuns();
  assert.deepEqual(r.problems, []);
  assert.deepEqual(
    r.errors.map((e) => [e.scenario, e.kind]),
    [
      ['disk full', 'full'],
      ['read-only file', 'readOnly'],
      ['PostgreSQL restart', 'unavailable'],
    ],
  );
  assert.match(r.errors[0].message, /^store full.*SQLITE_FULL/);
  assert.match(r.errors[1].message, /^store read-only.*readonly\.db/);
  assert.match(r.errors[2].message, /^store unavailable: .*\(PostgreSQL\)/);
  assert.equal(r.lost, 0);
  assert.equal(r.crashes, 0);
});
