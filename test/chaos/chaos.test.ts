import assert from 'node:assert/strict';
import { test } from 'node:test';
import { driveItemSchema } from '../../src/resources/drive-item.ts';
import { hostileMutation } from './hostile-arbitraries.ts';
import { formatSummary, runChaos } from './suite.ts';

test('hostile payload arbitraries: seeded, varied, and each mutation changes the entry', () => {
  const base = { id: 'a', name: 'x.txt', size: 3, parentReference: { id: 'p' } };
  const draw = (i: number) => hostileMutation(base, driveItemSchema as never, i);
  const a = Array.from({ length: 60 }, (_, i) => draw(i).what);
  assert.deepEqual(
    a,
    Array.from({ length: 60 }, (_, i) => draw(i).what),
    'same seed, same mutations',
  );
  const kinds = new Set(a.map((w) => w.split(' ')[0]));
  assert.deepEqual([...kinds].sort(), [
    'huge-string',
    'missing',
    'nasty-string',
    'nested-object',
    'proto-key',
    'wrong-type',
  ]);
  // Fields the entry lacks but the schema declares are hit too.
  assert.ok(
    a.some((w) => / (webUrl|eTag|cTag|file|folder|shared|deleted|createdBy)/.test(w)),
    a.join(', '),
  );
  for (let i = 0; i < 60; i++) assert.notDeepEqual(draw(i).value, base, draw(i).what);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('chaos (fast): kill runs of the collector and alert delivery, every Graph fault kind, hostile payloads: nothing lost, no crash', async () => {
  const s = await runChaos({
    killRuns: 3,
    engineKills: false,
    hostileRounds: 1,
    secrets: false,
    storeFaults: false,
  });
  assert.deepEqual(s.problems, [], formatSummary(s));
  assert.equal(s.lost, 0);
  assert.equal(s.crashes, 0);
  assert.equal(s.accepted_forgeries, 0);
  assert.ok(s.bad_inputs > 10, 'hostile entries were fed');
  assert.ok(s.faults > 10, 'faults were served');
});
