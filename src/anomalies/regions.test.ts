import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Prng } from '../../sim/model/prng.ts';
import { bursts } from './detectors/bursts.ts';
import { burstRegions, hourSpans } from './regions.ts';

test('bursts read only inside the regions of bucket counts equal the bursts over every event', () => {
  const rng = new Prng(5);
  for (let round = 0; round < 200; round++) {
    const threshold = rng.int(2, 12);
    const windowMs = rng.int(1, 50) * 1000;
    const times: number[] = [];
    // Sparse noise and a few dense clusters, some straddling bucket edges.
    for (let i = 0; i < rng.int(0, 80); i++) times.push(rng.int(0, 2_000_000));
    for (let c = 0; c < rng.int(0, 4); c++) {
      const at = rng.int(0, 2_000_000);
      for (let i = 0; i < rng.int(1, 3 * threshold); i++) times.push(at + rng.int(0, 2 * windowMs));
    }
    const events = times.sort((a, b) => a - b).map((time, i) => ({ time, i }));
    const counts = new Map<number, number>();
    for (const e of events)
      counts.set(Math.floor(e.time / windowMs), (counts.get(Math.floor(e.time / windowMs)) ?? 0) + 1);
    const regions = burstRegions(
      [...counts].map(([bucket, count]) => ({ key: 'a', bucket, count })),
      threshold,
      windowMs,
    );
    const inRegions = regions.flatMap((r) =>
      bursts(
        events.filter((e) => e.time >= r.from && e.time < r.to),
        threshold,
        windowMs,
      ),
    );
    const everywhere = bursts(events, threshold, windowMs);
    assert.deepEqual(
      inRegions.map((b) => b.map((e) => e.i)),
      everywhere.map((b) => b.map((e) => e.i)),
      `round ${round}: threshold ${threshold}, window ${windowMs} ms`,
    );
    const read = regions.reduce(
      (n, r) => n + events.filter((e) => e.time >= r.from && e.time < r.to).length,
      0,
    );
    if (everywhere.length === 0 && regions.length === 0) assert.equal(read, 0);
  }
});

test('hour spans merge adjacent hours', () => {
  const H = 3_600_000;
  assert.deepEqual(hourSpans([5, 3, 4, 9, 4]), [
    { from: 3 * H, to: 6 * H },
    { from: 9 * H, to: 10 * H },
  ]);
});
