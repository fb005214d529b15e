/**
 * Where a burst can be, from counts per time bucket instead of events. With buckets as long as
 * the window (bucket = floor(t / windowMs)), any `threshold` events within a window fall into two
 * adjacent buckets, so one of them holds at least half. A burst (a chain of such windows) thus
 * lies within the buckets holding ≥ ⌈threshold / 2⌉ events and their neighbours: only those
 * ranges are read as events, and the bursts found there are the bursts over all events (a
 * window never straddles two merged ranges).
 */
export interface BucketCount {
  key: string;
  bucket: number;
  count: number;
}

export interface Region {
  key: string;
  /** [from, to) in ms. */
  from: number;
  to: number;
}

export function burstRegions(counts: Iterable<BucketCount>, threshold: number, windowMs: number): Region[] {
  const need = Math.ceil(threshold / 2);
  const byKey = new Map<string, number[]>();
  for (const c of counts) {
    if (c.count < need) continue;
    const list = byKey.get(c.key) ?? [];
    list.push(c.bucket);
    byKey.set(c.key, list);
  }
  const out: Region[] = [];
  for (const [key, buckets] of byKey) {
    buckets.sort((a, b) => a - b);
    let current: Region | undefined;
    for (const b of buckets) {
      const from = (b - 1) * windowMs;
      const to = (b + 2) * windowMs;
      if (current && from <= current.to) current.to = Math.max(current.to, to);
      else {
        if (current) out.push(current);
        current = { key, from, to };
      }
    }
    if (current) out.push(current);
  }
  return out;
}

/** Sorted, merged [from, to) spans covering the given hour buckets (bucket = floor(t / 1 h)). */
export function hourSpans(hours: Iterable<number>): Array<{ from: number; to: number }> {
  const HOUR = 3_600_000;
  const sorted = [...new Set(hours)].sort((a, b) => a - b);
  const out: Array<{ from: number; to: number }> = [];
  for (const h of sorted) {
    const last = out[out.length - 1];
    if (last && last.to >= h * HOUR) last.to = (h + 1) * HOUR;
    else out.push({ from: h * HOUR, to: (h + 1) * HOUR });
  }
  return out;
}
