import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from '../../sim/model/prng.ts';
import { mutate } from './hostile-payloads.ts';
import { formatSummary, runChaos } from './suite.ts';

test('hostile payload generator: seeded, and each mutation changes the object', () => {
  const base = { id: 'a', name: 'x.txt', size: 3, parentReference: { id: 'p' } };
  const a = Array.from({ length: 40 }, (_, i) => mutate(base, new Prng(i)).what);
  const b = Array.from({ length: 40 }, (_, i) => mutate(base, new Prng(i)).what);
  assert.deepEqual(a, b, 'same seed, same mutations');
  assert.ok(new Set(a.map((w) => w.split(' ')[0])).size >= 5, `varied: ${[...new Set(a)]}`);
  for (let i = 0; i < 40; i++) assert.notDeepEqual(mutate(base, new Prng(i)).value, base);
});

test('chaos (fast): 3 kill runs, every Graph fault kind, hostile payloads: nothing lost, no crash', async () => {
  const s = await runChaos({ killRuns: 3, hostileRounds: 1, secrets: false, storeFaults: false });
  assert.deepEqual(s.problems, [], formatSummary(s));
  assert.equal(s.lost, 0);
  assert.equal(s.crashes, 0);
  assert.equal(s.accepted_forgeries, 0);
  assert.ok(s.bad_inputs > 10, 'hostile entries were fed');
  assert.ok(s.faults > 10, 'faults were served');
});
