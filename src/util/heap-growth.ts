import { setFlagsFromString } from 'node:v8';

const FLAG = '--heap-growing-percent';

/**
 * What the collecting processes (sync, serve, worker, demo) use: 200k-item full sync peak RSS
 * 379 → 196 MB for +5 % CPU; 40 % was no cheaper at that size (docs/performance.md).
 */
export const COLLECTOR_HEAP_GROWTH_PERCENT = 20;

/**
 * Makes V8 collect the old generation once it has grown `percent` % past what the last full
 * collection left alive. With a large heap limit (the default on a machine with gigabytes of
 * RAM) V8 lets it grow up to 4× the live set first: a full sync keeps ~60 MB alive but
 * leaves parsed pages and response buffers behind at megabytes a second, and its heap (and
 * the buffers' native memory) swelled to 3× the live set before each collection.
 *
 * V8 reads this flag at every collection, so setting it while running takes effect. A
 * value given on the command line (node --heap-growing-percent=N, or NODE_OPTIONS) wins.
 */
export function limitHeapGrowth(percent: number): void {
  if (!Number.isInteger(percent) || percent < 1)
    throw new Error(`heap growth must be a whole percentage above 0, not ${percent}`);
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) =>
    a.replace(/_/g, '-').startsWith(FLAG),
  );
  if (!given) setFlagsFromString(`${FLAG}=${percent}`);
}
