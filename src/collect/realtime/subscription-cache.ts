import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { GraphSubscriptionsTable } from '../../store/tables/realtime.ts';

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

/**
 * The active subscriptions, in memory, so the receiver never reads the database per
 * entry. The subscription manager updates it on every change; `reloadIfStale` picks up
 * changes made by another process (rate-limited, single-flight).
 */
export class SubscriptionCache {
  private byId = new Map<string, CachedSubscription>();
  private lastLoad = 0;
  private loading: Promise<void> | undefined;

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
  set(
    row: Pick<
      GraphSubscriptionsTable,
      'id' | 'integration_id' | 'tenant_id' | 'resource' | 'change_type' | 'client_state' | 'status'
    >,
  ): void {
    if (row.status !== 'active' || row.client_state === '') {
      this.byId.delete(row.id);
      return;
    }
    this.byId.set(row.id, toCached(row));
  }

  delete(id: string): void {
    this.byId.delete(id);
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
    clientState: Buffer.from(row.client_state, 'utf8'),
  };
  // keep the secret out of JSON.stringify / util.inspect of the object
  Object.defineProperty(cached, 'clientState', { enumerable: false });
  return cached;
}
