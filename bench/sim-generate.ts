/**
 * Generator benchmark: `node --import tsx bench/sim-generate.ts [items] [users]` prints
 * {"items","liveItems","drives","users","seconds","rss_mb","heap_mb"} as one JSON line.
 */
import { generateFromOptions } from '../sim/index.ts';

const items = Number(process.argv[2] ?? 1_000_000);
const users = Number(process.argv[3] ?? Math.max(50, Math.round(items / 400)));
const t0 = performance.now();
const tenant = generateFromOptions({ seed: 1, users, items, referenceTime: '2026-01-01T00:00:00Z' });
const seconds = (performance.now() - t0) / 1000;
globalThis.gc?.();
const mem = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    items,
    liveItems: tenant.items.length,
    drives: tenant.drives.length,
    users: tenant.users.length,
    sharingRoots: tenant.perms.size,
    seconds: Math.round(seconds * 100) / 100,
    rss_mb: Math.round(mem.rss / 1048576),
    heap_mb: Math.round(mem.heapUsed / 1048576),
  })}\n`,
);
