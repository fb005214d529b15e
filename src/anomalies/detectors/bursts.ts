import { type ActivityEvent, EVIDENCE_IDS } from '../types.ts';

/** Events grouped by actor (events without an actor are skipped), each group sorted by time. */
export function byActor(events: readonly ActivityEvent[]): Map<string, ActivityEvent[]> {
  const groups = new Map<string, ActivityEvent[]>();
  for (const e of events) {
    if (!e.actor) continue;
    const list = groups.get(e.actor) ?? [];
    list.push(e);
    groups.set(e.actor, list);
  }
  for (const list of groups.values()) list.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
  return groups;
}

/**
 * Maximal bursts in time-sorted events: runs where every `threshold` consecutive events fit
 * in `windowMs`. A burst starts where the first `threshold` events fit and grows while the
 * window ending at the next event still holds `threshold` events; one burst = one detection.
 */
export function bursts<T extends { time: number }>(
  sorted: readonly T[],
  threshold: number,
  windowMs: number,
): T[][] {
  const out: T[][] = [];
  let i = 0;
  while (i + threshold - 1 < sorted.length) {
    if (sorted[i + threshold - 1].time - sorted[i].time <= windowMs) {
      let j = i + threshold - 1;
      while (j + 1 < sorted.length && sorted[j + 1].time - sorted[j + 2 - threshold].time <= windowMs) j++;
      out.push(sorted.slice(i, j + 1));
      i = j + 1;
    } else i++;
  }
  return out;
}

/** The evidence of a set of events: count, the first ids, and a few distinct values worth showing. */
export function evidenceOf(events: readonly ActivityEvent[], details: Record<string, unknown> = {}) {
  const distinct = (pick: (e: ActivityEvent) => string | null) =>
    [...new Set(events.map(pick).filter((v): v is string => v !== null))].slice(0, 10);
  return {
    count: events.length,
    eventIds: events.slice(0, EVIDENCE_IDS).map((e) => e.id),
    details: { ips: distinct((e) => e.ip), files: distinct((e) => e.fileName), ...details },
  };
}

/** evidenceOf, one event at a time: the same result without holding the events (streamed evidence). */
export class EvidenceBuilder {
  count = 0;
  private readonly ids: string[] = [];
  private readonly ips = new Set<string>();
  private readonly files = new Set<string>();
  first: ActivityEvent | undefined;
  last: ActivityEvent | undefined;

  add(e: ActivityEvent): void {
    this.count++;
    this.first ??= e;
    this.last = e;
    if (this.ids.length < EVIDENCE_IDS) this.ids.push(e.id);
    if (e.ip !== null && this.ips.size < 10) this.ips.add(e.ip);
    if (e.fileName !== null && this.files.size < 10) this.files.add(e.fileName);
  }

  evidence(details: Record<string, unknown> = {}) {
    return {
      count: this.count,
      eventIds: [...this.ids],
      details: { ips: [...this.ips], files: [...this.files], ...details },
    };
  }
}
