/**
 * Resource units (RU): what a request costs the tenant's OneDrive/SharePoint budget, per
 * docs/graph-behaviour.md, and the pacer that keeps a client under a per-minute budget.
 *
 * Prices: 5 RU for any permission call; 2 RU for a write, a list, or a delta without a
 * token; 1 RU for a single-item GET or a delta with a token. Which GETs are lists is a
 * heuristic on the last path segment and the query ($top, $filter, $skiptoken, …); it
 * agrees with the simulator's endpoint prices (sim/server/metering.ts). The Office 365 Management
 * API is not priced in RU (it has its own request limit), so it costs 0. A `$batch`
 * envelope costs nothing itself: its sub-requests are priced one by one.
 */

/** Navigation segments that name a collection (a GET on them is a list). */
const COLLECTIONS = new Set(
  [
    'users',
    'groups',
    'drives',
    'sites',
    'lists',
    'items',
    'children',
    'members',
    'transitivemembers',
    'memberof',
    'transitivememberof',
    'owners',
    'directreports',
    'versions',
    'thumbnails',
    'userregistrationdetails',
    'search',
    'sharedwithme',
    'recent',
    'followed',
    'activities',
    'columns',
    'contenttypes',
    'applications',
    'serviceprincipals',
    'domains',
    'subscribedskus',
    'signins',
    'directoryaudits',
  ].map((s) => s.toLowerCase()),
);

const LIST_QUERY = /[?&](\$top|\$skiptoken|\$skip|\$filter|\$orderby|\$search|\$count)=/i;

export type RuKind =
  | 'permission'
  | 'write'
  | 'delta'
  | 'deltaWithToken'
  | 'list'
  | 'item'
  | 'batch'
  | 'unpriced';

/** Which price applies to a request (exported for tests and for logs). */
export function classifyRequest(method: string, url: string, api: 'graph' | 'management' = 'graph'): RuKind {
  if (api === 'management') return 'unpriced';
  const { path, query } = splitUrl(url);
  const lowerPath = path.toLowerCase();
  if (/\/\$batch$/.test(lowerPath)) return 'batch';
  if (/\/permissions(\/|$|\?)/.test(lowerPath) || lowerPath.endsWith('/permissions')) return 'permission';
  const m = method.toUpperCase();
  if (m !== 'GET' && m !== 'HEAD') return 'write';
  // Delta: `/root/delta`, `/users/delta`, `/root/microsoft.graph.delta(token='…')`, `/delta()`.
  const deltaSeg = /\/(microsoft\.graph\.)?delta(\(([^)]*)\))?(\/|$)/i.exec(path);
  if (deltaSeg) {
    // A drive delta follow-up carries `token=…` (query) or `delta(token='…')`. Directory delta
    // links carry `$skiptoken` / `$deltatoken` and are priced like a list (as the simulator does).
    const inParens = deltaSeg[3] ?? '';
    const hasToken = /(^|&)token=/i.test(query) || /token\s*=/i.test(inParens);
    return hasToken ? 'deltaWithToken' : 'delta';
  }
  if (LIST_QUERY.test(`?${query}`)) return 'list';
  const segments = lowerPath.split('/').filter(Boolean);
  const last = segments[segments.length - 1] ?? '';
  if (COLLECTIONS.has(last)) return 'list';
  return 'item';
}

export const RU_PRICE: Record<RuKind, number> = {
  permission: 5,
  write: 2,
  delta: 2,
  deltaWithToken: 1,
  list: 2,
  item: 1,
  batch: 0,
  unpriced: 0,
};

export function estimateRu(method: string, url: string, api: 'graph' | 'management' = 'graph'): number {
  return RU_PRICE[classifyRequest(method, url, api)];
}

function splitUrl(url: string): { path: string; query: string } {
  const noOrigin = url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '').replace(/#.*$/, '');
  const q = noOrigin.indexOf('?');
  return q < 0 ? { path: noOrigin, query: '' } : { path: noOrigin.slice(0, q), query: noOrigin.slice(q + 1) };
}

/** RU drawn from the pacer for one request: settle it when the response is in, refund it if never sent. */
export interface RuTicket {
  settle(): void;
  refund(): void;
}

/**
 * 'background': work that may use only the budget nothing else is waiting for (a full sync
 * reads permissions of finished drives while other drives' feeds run). A background request
 * waits while a normal one waits, and leaves a reserve of the budget free (BACKGROUND_RESERVE),
 * so a normal request that comes along finds RU at once.
 */
export type RuPriority = 'normal' | 'background';

/** Share of the budget a background request never takes. */
export const BACKGROUND_RESERVE = 0.1;

/**
 * Where a client draws RU from: its own pacer (RuPacer, one process) or a budget shared by every
 * process working for the tenant (jobs/ru-budget.ts, kept in PostgreSQL). Both keep the same
 * promise: over any window of `windowMs`, the RU of requests sent stay within the budget.
 */
export interface RuBudget {
  readonly windowMs: number;
  /** Resolves when `ru` may be spent (background: see RuPriority). */
  acquire(ru: number, priority?: RuPriority): Promise<RuTicket>;
  /** Releases waiters (their requests go out unpaced, as when the client closes). */
  close(): void;
}

interface Entry {
  t: number;
  ru: number;
  inFlight: boolean;
}

const NOOP_TICKET: RuTicket = { settle() {}, refund() {} };

/**
 * Paces RU spending under a per-minute budget. It is a token bucket of capacity `budget`
 * whose tokens come back exactly one window after the request that spent them completed
 * (a sliding-window log). A request is stamped with the time its response arrived, which
 * is never earlier than the time the server counted it, so over any interval of one
 * window (as the server sees it) the client spends at most `budget`, whatever the
 * latencies. That also keeps it inside a continuously refilled bucket (capacity = budget,
 * rate = budget/window) and inside fixed per-minute windows, whichever way the server
 * counts. `marginMs` stretches the window a little more for clock granularity.
 * Waiters are served first come, first served, so a 5 RU request is never starved by 1 RU ones;
 * background waiters only after every normal one, and within the budget less the reserve.
 */
export class RuPacer implements RuBudget {
  readonly budget: number;
  readonly windowMs: number;
  private entries: Entry[] = [];
  private spent = 0;
  private readonly queue: Array<{ ru: number; resolve: (t: RuTicket) => void }> = [];
  private readonly background: Array<{ ru: number; resolve: (t: RuTicket) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(budgetPerMinute: number, timeScale = 1, marginMs?: number) {
    if (!(budgetPerMinute > 0)) throw new Error(`ruBudgetPerMinute must be > 0, got ${budgetPerMinute}`);
    this.budget = budgetPerMinute;
    const minute = 60_000 / (timeScale > 0 ? timeScale : 1);
    this.windowMs = minute + (marginMs ?? Math.max(10, Math.round(minute * 0.01)));
  }

  /** Resolves when `ru` may be spent; the RU count as in use from then on. */
  acquire(ru: number, priority: RuPriority = 'normal'): Promise<RuTicket> {
    const cost = Math.min(Math.max(0, ru), this.budget);
    if (cost === 0 || this.closed) return Promise.resolve(NOOP_TICKET);
    if (priority === 'background') {
      return new Promise((resolve) => {
        this.background.push({ ru: cost, resolve });
        this.schedule();
      });
    }
    if (this.queue.length === 0 && this.delayFor(cost) === 0) return Promise.resolve(this.take(cost));
    return new Promise((resolve) => {
      this.queue.push({ ru: cost, resolve });
      this.schedule();
    });
  }

  /** What a background request of `ru` may fill the window up to (never less than itself). */
  private backgroundBudget(ru: number): number {
    return Math.max(ru, Math.floor(this.budget * (1 - BACKGROUND_RESERVE)));
  }

  /** RU counted in the current window (in flight included). */
  inWindow(now = Date.now()): number {
    this.prune(now);
    return this.spent;
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const w of this.queue.splice(0)) w.resolve(NOOP_TICKET);
    for (const w of this.background.splice(0)) w.resolve(NOOP_TICKET);
  }

  private take(ru: number): RuTicket {
    const entry: Entry = { t: Date.now(), ru, inFlight: true };
    this.entries.push(entry);
    this.spent += ru;
    let open = true;
    return {
      settle: () => {
        if (!open) return;
        open = false;
        entry.t = Date.now();
        entry.inFlight = false;
        this.schedule();
      },
      refund: () => {
        if (!open) return;
        open = false;
        const i = this.entries.indexOf(entry);
        if (i >= 0) {
          this.entries.splice(i, 1);
          this.spent -= entry.ru;
        }
        this.schedule();
      },
    };
  }

  private prune(now: number): void {
    const horizon = now - this.windowMs;
    if (!this.entries.some((e) => !e.inFlight && e.t <= horizon)) return;
    this.entries = this.entries.filter((e) => {
      if (!e.inFlight && e.t <= horizon) {
        this.spent -= e.ru;
        return false;
      }
      return true;
    });
  }

  /** Milliseconds until `ru` fits (0 = now, Infinity = only once an in-flight request completes). */
  private delayFor(ru: number, now = Date.now(), budget = this.budget): number {
    this.prune(now);
    let excess = this.spent + ru - budget;
    if (excess <= 0) return 0;
    const done = this.entries.filter((e) => !e.inFlight).sort((a, b) => a.t - b.t);
    for (const e of done) {
      excess -= e.ru;
      if (excess <= 0) return Math.max(1, e.t + this.windowMs - now + 1);
    }
    return Number.POSITIVE_INFINITY;
  }

  private schedule(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0) {
      const next = this.queue[0];
      const wait = this.delayFor(next.ru);
      if (wait > 0) {
        if (Number.isFinite(wait)) this.timer = setTimeout(() => this.schedule(), wait);
        return;
      }
      this.queue.shift();
      next.resolve(this.take(next.ru));
    }
    while (this.background.length > 0) {
      const next = this.background[0];
      const wait = this.delayFor(next.ru, Date.now(), this.backgroundBudget(next.ru));
      if (wait > 0) {
        if (Number.isFinite(wait)) this.timer = setTimeout(() => this.schedule(), wait);
        return;
      }
      this.background.shift();
      next.resolve(this.take(next.ru));
    }
  }
}
