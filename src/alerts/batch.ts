import type { AlertItem } from './message.ts';
import { type AlertSeverity, severityRank } from './severity.ts';

/** An item with what enriching it later needs (not part of the message). */
export interface Candidate {
  item: AlertItem;
  ref: { integrationId: string; driveId: string | null; itemId: string | null };
}

/** A batch as it is kept between routing passes (alert_held.digest). */
export interface HeldBatch {
  count: number;
  bySeverity: Partial<Record<AlertSeverity, number>>;
  top: Candidate[];
}

/** Higher severity first, then older first. */
function before(a: Candidate, b: Candidate): boolean {
  const s = severityRank(a.item.severity) - severityRank(b.item.severity);
  return s !== 0 ? s > 0 : a.item.sourceId < b.item.sourceId;
}

/**
 * The events one policy matched in a routing pass, in bounded memory: every candidate while
 * there are fewer than `keepAll` (each may become its own message), and always the count,
 * the count per severity and the top `topN` (what a digest lists).
 */
export class AlertBatch {
  count = 0;
  bySeverity: Partial<Record<AlertSeverity, number>> = {};
  private top: Candidate[] = [];
  private all: Candidate[] | null = [];

  constructor(
    private readonly topN: number,
    private readonly keepAll: number,
  ) {}

  add(c: Candidate): void {
    this.count++;
    const sev = c.item.severity as AlertSeverity;
    this.bySeverity[sev] = (this.bySeverity[sev] ?? 0) + 1;
    if (this.all) {
      this.all.push(c);
      if (this.all.length >= this.keepAll) this.all = null;
    }
    this.insertTop(c);
  }

  /** Adds what an earlier pass held back (its items beyond the top are only counted). */
  merge(held: HeldBatch): void {
    this.count += held.count;
    for (const [sev, n] of Object.entries(held.bySeverity))
      this.bySeverity[sev as AlertSeverity] = (this.bySeverity[sev as AlertSeverity] ?? 0) + (n ?? 0);
    this.all = null;
    for (const c of held.top) this.insertTop(c);
  }

  private insertTop(c: Candidate): void {
    let i = this.top.length;
    while (i > 0 && before(c, this.top[i - 1])) i--;
    if (i >= this.topN) return;
    this.top.splice(i, 0, c);
    if (this.top.length > this.topN) this.top.pop();
  }

  /** Every candidate in event order, or null once there were too many to keep. */
  everything(): Candidate[] | null {
    return this.all;
  }

  topItems(): Candidate[] {
    return [...this.top];
  }

  /** The highest severity seen. */
  severity(): string {
    return this.top[0]?.item.severity ?? 'info';
  }

  held(): HeldBatch {
    return { count: this.count, bySeverity: { ...this.bySeverity }, top: this.topItems() };
  }
}
