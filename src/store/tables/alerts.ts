import type { Generated } from 'kysely';
import type { DbBool, DbJson } from './resource-table.ts';

/** Tables of the alerts (src/alerts/), created by migration 0400-alerts. */

export type AlertChannelKind = 'slack' | 'teams' | 'email' | 'webhook';

/** A notification channel. Its configuration (URLs, secrets, SMTP password) is sealed with SecretBox. */
export interface AlertChannelsTable {
  id: string;
  /** Unique name people use in the CLI and in policies. */
  name: string;
  kind: AlertChannelKind;
  /** The kind's configuration as sealed JSON (src/alerts/channels/config.ts). */
  config_enc: string;
  /** What it points at, masked for display (never the full URL or a secret). */
  target: string;
  created_at: string;
  updated_at: string;
}

export type AlertPolicyKind = 'rule' | 'change' | 'compliance' | 'query';

/** What to alert on, and where to. */
export interface AlertPoliciesTable {
  id: string;
  name: string;
  /** rule: finding events; change: rows of `changes`; compliance: pack scores (`pack_scores`); query: a saved query's result. */
  kind: AlertPolicyKind;
  /** The kind's filter (JSON, src/alerts/policy-schema.ts). */
  filter: DbJson;
  /** Channel ids (JSON array). */
  channel_ids: DbJson;
  /** Severity of change and compliance alerts (rule alerts carry the finding's). */
  severity: string | null;
  /** This many events in one routing pass become one digest per channel. */
  digest_threshold: number;
  /** {max, perSeconds} (JSON) or null: at most `max` messages per window, the rest in a digest. */
  rate_limit: DbJson;
  /** {start: 'HH:MM', end: 'HH:MM', timeZone} (JSON) or null: events held, sent as a digest after. */
  quiet_hours: DbJson;
  enabled: DbBool;
  created_at: string;
  updated_at: string;
}

/** Per policy: the last id of its source table (finding_events, changes, pack_scores) routed to the outbox. */
export interface AlertCursorsTable {
  policy_id: string;
  source: 'finding_events' | 'changes' | 'pack_scores';
  last_id: number;
  updated_at: string;
}

/** Per policy: events held back (quiet hours, rate limit) as one growing digest (JSON). */
export interface AlertHeldTable {
  policy_id: string;
  reason: 'quiet_hours' | 'rate_limit';
  digest: DbJson;
  first_at: string;
  updated_at: string;
}

export type AlertDeliveryStatus = 'pending' | 'delivered' | 'dead';

/**
 * One row per alert and channel: the durable outbox (src/queue/alert-outbox.ts) and the
 * delivery log. Times are ISO text on both dialects.
 */
export interface AlertOutboxTable {
  id: Generated<number>;
  /** One alert (a message or a digest); it has a row per channel. */
  alert_id: string;
  /** Stable per alert and channel: the webhook-id header, the e-mail Message-ID. */
  idempotency_key: string;
  policy_id: string;
  channel_id: string;
  kind: 'alert' | 'digest';
  /** Events in the alert (1, or the digest's count). */
  item_count: number;
  severity: string;
  title: string;
  /** The message (JSON, src/alerts/message.ts), rendered per channel at delivery. */
  body: string;
  created_at: string;
  /** Not delivered before this time (retry backoff, Retry-After); null = now. */
  next_attempt_at: string | null;
  status: AlertDeliveryStatus;
  delivered_at: string | null;
  /** From created_at to the receiver's acknowledgement. */
  latency_ms: number | null;
  /** HTTP status (or SMTP reply code) of the last attempt. */
  response_status: number | null;
  /** Set once delivered or dead-lettered. */
  processed_at: Generated<string | null>;
  attempts: Generated<number>;
  last_error: Generated<string | null>;
}

/**
 * Per query policy (migration 0730): the last result of its saved query, to alert on rows
 * added and removed. Written in the transaction that writes the alert's outbox rows.
 */
export interface AlertQueryStateTable {
  policy_id: string;
  /** SHA-256 over the sorted row keys; null until a first run gave the baseline. */
  fingerprint: string | null;
  /** Row key → a short summary of the row (JSON object), to name removed rows. */
  row_keys: DbJson;
  row_count: number;
  last_run_at: string | null;
  /** Why the last run failed (the query's message); null when it ran. */
  last_error: string | null;
  updated_at: string;
}

export interface AlertsTables {
  alert_channels: AlertChannelsTable;
  alert_policies: AlertPoliciesTable;
  alert_cursors: AlertCursorsTable;
  alert_held: AlertHeldTable;
  alert_outbox: AlertOutboxTable;
  alert_query_state: AlertQueryStateTable;
}
