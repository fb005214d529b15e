import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import type { GraphSubscriptionsTable } from './tables/realtime.ts';

/** What the webhook receiver needs to check a notification, held in memory. */
export interface CachedSubscription {
  readonly id: string;
  readonly integrationId: string;
  readonly tenantId: string;
  readonly resource: string;
  readonly changeType: string;
  /** The clientState bytes (UTF-8). Secret: never logged or serialised. */
  readonly clientState: Buffer;
}

/** The columns the cache keeps (what `set` takes and what is sent to the server thread). */
export type CacheableSubscription = Pick<
  GraphSubscriptionsTable,
  'id' | 'integration_id' | 'tenant_id' | 'resource' | 'change_type' | 'client_state' | 'status'
>;

/** One change made through `set` / `delete` (forwarded to the server thread's cache). */
export type SubscriptionCacheChange =
  | { type: 'set'; row: CacheableSubscription }
  | { type: 'delete'; id: string };

/**
 * Changes made through `set` / `delete` survive reloads from the database this long: the
 * manager sets a subscription *before* committing its row (Graph may notify at once), so
 * a reload in between (here or in the server thread's own cache) must not drop it.
 */
const PIN_MS = 60_000;

/**
 * The active subscriptions, in memory, so the receiver never reads the database per
 * entry. The subscription manager updates it on every change; `reloadIfStale` picks up
 * changes made by another process (rate-limited, single-flight). Listeners (`onChange`)
 * get every `set` / `delete`: the server thread's copy is kept current that way.
 */
export class SubscriptionCache {
  private byId = new Map<string, CachedSubscription>();
  private lastLoad = 0;
  private loading: Promise<void> | undefined;
  private readonly pinned = new Map<string, { change: SubscriptionCacheChange; at: number }>();
  private readonly listeners = new Set<(change: SubscriptionCacheChange) => void>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  get(id: string): CachedSubscription | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Adds or replaces one subscription (only 'active' rows are kept). */
  set(row: CacheableSubscription): void {
    this.apply({ type: 'set', row: pick(row) });
  }

  delete(id: string): void {
    this.apply({ type: 'delete', id });
  }

  /** Applies a change (from `set` / `delete` here or in another thread), pinned for a minute. */
  apply(change: SubscriptionCacheChange): void {
    this.pinned.set(change.type === 'set' ? change.row.id : change.id, { change, at: this.now() });
    applyTo(this.byId, change);
    for (const listener of this.listeners) listener(change);
  }

  /** Calls `listener` with every later `set` / `delete`; returns the unsubscribe function. */
  onChange(listener: (change: SubscriptionCacheChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Replaces the whole cache with the active rows in the database. */
  async load(): Promise<void> {
    if (this.loading) return this.loading;
    this.loading = (async () => {
      try {
        const rows = await this.db
          .selectFrom('graph_subscriptions')
          .select(['id', 'integration_id', 'tenant_id', 'resource', 'change_type', 'client_state', 'status'])
          .where('status', '=', 'active')
          .execute();
        const next = new Map<string, CachedSubscription>();
        for (const row of rows) if (row.client_state !== '') next.set(row.id, toCached(row));
        const now = this.now();
        for (const [id, { change, at }] of this.pinned) {
          if (now - at > PIN_MS) this.pinned.delete(id);
          else applyTo(next, change);
        }
        this.byId = next;
        this.lastLoad = this.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** Reloads when the last load is older than `minIntervalMs` (or joins a load in progress). */
  async reloadIfStale(minIntervalMs = 1000): Promise<void> {
    if (this.loading) return this.loading;
    if (this.now() - this.lastLoad < minIntervalMs) return;
    return this.load();
  }
}

function applyTo(map: Map<string, CachedSubscription>, change: SubscriptionCacheChange): void {
  if (change.type === 'delete') map.delete(change.id);
  else if (change.row.status !== 'active' || change.row.client_state === '') map.delete(change.row.id);
  else map.set(change.row.id, toCached(change.row));
}

/** Only the cached columns (a full table row may be passed to `set`). */
function pick(row: CacheableSubscription): CacheableSubscription {
  const { id, integration_id, tenant_id, resource, change_type, client_state, status } = row;
  return { id, integration_id, tenant_id, resource, change_type, client_state, status };
}

/**
 * What the store keeps of a subscription's clientState: its SHA-256 (`sha256:<hex>`). The
 * clientState is a 256-bit random secret sent to Graph once, at creation; keeping only its
 * digest means a copy of the database cannot forge notifications.
 */
export function clientStateDigest(clientState: string): string {
  return `sha256:${createHash('sha256').update(clientState, 'utf8').digest('hex')}`;
}

function toCached(
  row: Pick<
    GraphSubscriptionsTable,
    'id' | 'integration_id' | 'tenant_id' | 'resource' | 'change_type' | 'client_state'
  >,
): CachedSubscription {
  const cached: CachedSubscription = {
    id: row.id,
    integrationId: row.integration_id,
    tenantId: row.tenant_id,
    resource: row.resource,
    changeType: row.change_type,
    // The digest (see clientStateDigest); the receiver compares the digest of what it is sent.
    clientState: Buffer.from(row.client_state, 'utf8'),
  };
  // keep the secret out of JSON.stringify / util.inspect of the object
  Object.defineProperty(cached, 'clientState', { enumerable: false });
  return cached;
}
