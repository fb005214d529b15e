import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { limitHeapGrowth } from './heap-growth.ts';

/**
 * A child that keeps ~35 MB alive while replacing it piece by piece (as a sync replaces
 * pages), printing the largest heap it used; with `limit`, it calls limitHeapGrowth first.
 */
function peakHeapMb(limit: number | null): number {
  const script = `
    import { limitHeapGrowth } from ${JSON.stringify(new URL('./heap-growth.ts', import.meta.url).href)};
    ${limit === null ? '' : `limitHeapGrowth(${limit});`}
    const block = () => Array.from({ length: 20000 }, (_, j) => ({ j, s: 'x' + j }));
    const live = Array.from({ length: 25 }, block);
    let peak = 0;
    for (let r = 0; r < 400; r++) {
      live[r % live.length] = block();
      peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    console.log(Math.round(peak / 1048576));`;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(out.status, 0, out.stderr);
  return Number(out.stdout.trim());
}

test('limitHeapGrowth keeps the heap near its live set while garbage comes and goes', () => {
  const unlimited = peakHeapMb(null);
  const limited = peakHeapMb(20);
  assert.ok(limited < unlimited * 0.75, `peak heap ${limited} MB limited vs ${unlimited} MB unlimited`);
});

test('limitHeapGrowth refuses a percentage that is not a whole number above 0', () => {
  assert.throws(() => limitHeapGrowth(0), /whole percentage above 0, not 0/);
  assert.throws(() => limitHeapGrowth(12.5), /not 12.5/);
});
