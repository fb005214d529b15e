import { type Kysely, sql } from 'kysely';
import { BACKGROUND_RESERVE, type RuBudget, type RuPriority, type RuTicket } from '../graph/ru.ts';
import type { Database } from '../store/schema.ts';

/**
 * A tenant's RU budget shared by every process that calls Graph for it, kept in PostgreSQL
 * (`ru_spend`). It is RuPacer's sliding-window log moved into a table, so the promise is the
 * same: a request's RU come back one window after its response arrived, and over any window
 * the tenant's processes together spend at most the budget. A token bucket row would be one
 * UPDATE per request, but a bucket of capacity B refilled at B per minute lets 2·B through
 * in a minute; Graph counts a sliding window, so the simulator (and Graph) would throttle.
 *
 * Each acquire is one short transaction serialised per tenant by a transaction-level
 * advisory lock: sum the window (in flight included), insert the request's row if it fits,
 * else compute when enough RU come back. Times are the database's clock, so processes on
 * several machines agree. A request whose process died in flight never settles: its row
 * counts as done `inFlightMaxMs` after it was taken (longer than any request's timeout).
 */
export interface PgRuBudgetOptions {
  /** `graph:<tenant id>`. */
  key: string;
  budgetPerMinute: number;
  /** Divides the minute (the simulator's timeScale). */
  timeScale?: number;
  marginMs?: number;
  /** An unsettled row counts as done this long after it was taken (default 2 min). */
  inFlightMaxMs?: number;
  /** Re-check interval while only in-flight requests hold the window (default 25 ms). */
  pollMs?: number;
}

const NOOP: RuTicket = { settle() {}, refund() {} };

export class PgRuBudget implements RuBudget {
  readonly windowMs: number;
  private readonly budget: number;
  private readonly inFlightMaxMs: number;
  private readonly pollMs: number;
  private closed = false;
  private readonly sleepers = new Set<() => void>();
  private readonly lockName: string;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: PgRuBudgetOptions,
  ) {
    if (!(options.budgetPerMinute > 0))
      throw new Error(`ruBudgetPerMinute must be > 0, got ${options.budgetPerMinute}`);
    this.budget = options.budgetPerMinute;
    const minute = 60_000 / (options.timeScale && options.timeScale > 0 ? options.timeScale : 1);
    this.windowMs = minute + (options.marginMs ?? Math.max(10, Math.round(minute * 0.01)));
    this.inFlightMaxMs = options.inFlightMaxMs ?? 120_000;
    this.pollMs = options.pollMs ?? 25;
    this.lockName = `dw-ru:${options.key}`;
  }

  /**
   * Background requests fill the window only up to the budget less BACKGROUND_RESERVE, so the
   * normal requests of every process find that reserve free (no queue spans processes here).
   */
  async acquire(ru: number, priority: RuPriority = 'normal'): Promise<RuTicket> {
    const cost = Math.min(Math.max(0, Math.round(ru)), this.budget);
    if (cost === 0) return NOOP;
    const cap =
      priority === 'background'
        ? Math.max(cost, Math.floor(this.budget * (1 - BACKGROUND_RESERVE)))
        : this.budget;
    for (;;) {
      if (this.closed) return NOOP;
      const r = await this.tryTake(cost, cap);
      if ('id' in r) return this.ticket(r.id);
      await this.sleep(r.waitMs);
    }
  }

  close(): void {
    this.closed = true;
    for (const wake of this.sleepers) wake();
  }

  /** RU counted in the current window (in flight included), for tests and metrics. */
  async inWindow(): Promise<number> {
    const { rows } = await sql<{ n: number | null }>`
      select sum(ru)::int as n from ru_spend
      where budget_key = ${this.options.key}
        and coalesce(done_ms, taken_ms + ${this.inFlightMaxMs}::bigint) > ${nowMs} - ${this.windowMs}::bigint`.execute(
      this.db,
    );
    return Number(rows[0]?.n ?? 0);
  }

  private async tryTake(ru: number, budget: number): Promise<{ id: number } | { waitMs: number }> {
    const key = this.options.key;
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${this.lockName}, 0))`.execute(trx);
      const { rows: clock } = await sql<{ now: string }>`select ${nowMs} as now`.execute(trx);
      const now = Number(clock[0].now);
      const horizon = now - this.windowMs;
      await sql`delete from ru_spend where budget_key = ${key}
        and coalesce(done_ms, taken_ms + ${this.inFlightMaxMs}::bigint) <= ${horizon}::bigint`.execute(trx);
      const { rows: sums } = await sql<{ n: number | null }>`
        select sum(ru)::int as n from ru_spend where budget_key = ${key}`.execute(trx);
      const excess = Number(sums[0]?.n ?? 0) + ru - budget;
      if (excess <= 0) {
        const { rows } = await sql<{ id: string }>`
          insert into ru_spend (budget_key, ru, taken_ms) values (${key}, ${ru}::int, ${now}::bigint) returning id`.execute(
          trx,
        );
        return { id: Number(rows[0].id) };
      }
      // The earliest moment enough RU leave the window: the done (or presumed dead) rows in
      // the order they leave, until their sum covers the excess.
      const { rows: leave } = await sql<{ at: string }>`
        select at from (
          select coalesce(done_ms, taken_ms + ${this.inFlightMaxMs}::bigint) as at,
                 sum(ru) over (order by coalesce(done_ms, taken_ms + ${this.inFlightMaxMs}::bigint), id) as cum
          from ru_spend where budget_key = ${key}
            and (done_ms is not null or taken_ms + ${this.inFlightMaxMs}::bigint <= ${now}::bigint + ${this.windowMs}::bigint)
        ) w where cum >= ${excess}::bigint order by at limit 1`.execute(trx);
      const at = leave[0] ? Number(leave[0].at) : undefined;
      return { waitMs: at === undefined ? this.pollMs : Math.max(1, at + this.windowMs - now + 1) };
    });
  }

  private ticket(id: number): RuTicket {
    let open = true;
    const finish = (settle: boolean) => {
      if (!open) return;
      open = false;
      const q = settle
        ? sql`update ru_spend set done_ms = ${nowMs} where id = ${id}`
        : sql`delete from ru_spend where id = ${id}`;
      // A row left unsettled counts as done after inFlightMaxMs: failing here only delays others.
      q.execute(this.db).catch(() => undefined);
    };
    return { settle: () => finish(true), refund: () => finish(false) };
  }

  private sleep(ms: number): Promise<void> {
    // Others' requests settle while we sleep; re-check at least every second.
    const wait = Math.min(ms, 1000);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, wait);
      this.sleepers.add(wake);
    });
  }
}

/** The database's clock in ms (one clock for every worker). */
const nowMs = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;
