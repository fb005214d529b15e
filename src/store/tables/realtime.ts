import type { Generated } from 'kysely';

/**
 * Tables of the real-time path: Graph change-notification subscriptions, the durable
 * webhook inbox, rejected-notification counters and per-resource sync state (owned by
 * server/webhooks + collect/realtime). Times are ISO-8601 UTC strings on both dialects.
 * `integration_id` references `integrations.id` by value only (no foreign key).
 */

/** One Graph subscription (or a failed attempt to create one, status 'error'). */
export interface GraphSubscriptionsTable {
  /** Graph's subscription id; `failed:<uuid>` for a creation that Graph refused. */
  id: string;
  integration_id: string;
  /** Tenant the notifications must name (copied from the integration at creation). */
  tenant_id: string;
  /** e.g. `/drives/{id}/root` or `users`. */
  resource: string;
  /** e.g. `updated` or `updated,deleted`. */
  change_type: string;
  /** Random 32 bytes, base64url. A secret: never logged, never returned by an API. */
  client_state: string;
  notification_url: string;
  /** Expiry as Graph last confirmed it (ISO). */
  expiration: string;
  created_at: string;
  last_renewed_at: string | null;
  /** active | error | removed */
  status: string;
  last_error: string | null;
  last_error_at: string | null;
}

/** One accepted notification or lifecycle event, waiting for (or done with) processing. */
export interface WebhookInboxTable {
  id: Generated<number>;
  integration_id: string;
  subscription_id: string;
  /** The subscription's resource (`/drives/{id}/root`, `users`), the key runs are coalesced on. */
  resource: string;
  change_type: string | null;
  /** reauthorizationRequired | subscriptionRemoved | missed, or null for a change notification. */
  lifecycle_event: string | null;
  received_at: string;
  processed_at: string | null;
  attempts: Generated<number>;
  last_error: string | null;
}

/** Dropped notifications, counted per integration ('' when unknown) and reason. */
export interface WebhookRejectionsTable {
  integration_id: string;
  /** unknown_subscription | client_state_mismatch | tenant_mismatch | wrong_endpoint | malformed_entry */
  reason: string;
  count: number;
  last_at: string;
}

/** Per integration and resource (a drive root or `users`): the last delta runs the realtime path started. */
export interface RealtimeSyncStateTable {
  integration_id: string;
  /** `/drives/{id}/root` or `users`. */
  resource: string;
  drive_id: string | null;
  last_started_at: string | null;
  last_success_at: string | null;
  /** webhook | poll | lifecycle */
  last_source: string | null;
  last_error: string | null;
  last_error_at: string | null;
  consecutive_failures: number;
}

export interface RealtimeTables {
  graph_subscriptions: GraphSubscriptionsTable;
  webhook_inbox: WebhookInboxTable;
  webhook_rejections: WebhookRejectionsTable;
  realtime_sync_state: RealtimeSyncStateTable;
}
