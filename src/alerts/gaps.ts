/**
 * On PostgreSQL, ids of concurrent transactions become visible out of order: id 102 may be
 * committed while 101 is still in flight. A cursor that passed 101 would lose it. So the
 * router routes only up to the first missing id, and passes a gap only once it has stayed
 * for the grace period (a rolled-back transaction, deleted rows). SQLite commits one writer
 * at a time, in id order: no waiting there.
 */
export class GapTracker {
  private readonly firstSeen = new Map<string, number>();

  constructor(
    private readonly enabled: boolean,
    private readonly graceMs: number,
  ) {}

  /** How many of `ids` (ascending, all > lastId) may be routed now. */
  routable(scope: string, lastId: number, ids: number[], nowMs: number): number {
    if (!this.enabled) return ids.length;
    let expected = lastId + 1;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== expected) {
        const key = `${scope}:${expected}`;
        const since = this.firstSeen.get(key) ?? nowMs;
        this.firstSeen.set(key, since);
        if (nowMs - since < this.graceMs) return i;
        this.firstSeen.delete(key);
      }
      expected = ids[i] + 1;
    }
    return ids.length;
  }
}
