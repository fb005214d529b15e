import type { Generated } from 'kysely';
import type { DbJson } from './resource-table.ts';

/** The remediation audit trail (src/remediate/), created by migration 0600-remediation. */

export type RemediationAction = 'remove_permission' | 'update_tenant_settings';
/**
 * done: Graph made the change; already_gone: Graph said 404 (nothing left to remove);
 * skipped: the target changed since the plan was made, so it was not touched;
 * failed: Graph refused or the call gave up (see http_status and error).
 */
export type RemediationResult = 'done' | 'already_gone' | 'skipped' | 'failed';

export interface RemediationActionsTable {
  id: Generated<number>;
  integration_id: string;
  /** The plan the action belonged to (the id the dry run printed). */
  plan_id: string;
  action: RemediationAction;
  /** What the plan was made for: `permission <id>`, `item <id>`, `finding <id>`, `rule <id>`, `settings`. */
  origin: string;
  drive_id: string | null;
  /** The item the permission is set on. */
  item_id: string | null;
  permission_id: string | null;
  item_path: string | null;
  /** Why the plan listed it, as the dry run said. */
  reason: string;
  /** The permission row or the settings values before the call (JSON). */
  before: DbJson;
  /** Null after a removal; the settings values Graph answered after a PATCH (JSON). */
  after: DbJson;
  /** Who asked: `cli:<user>`, an API user, `auto:<rule>`. */
  actor: string;
  requested_at: string;
  finished_at: string;
  result: RemediationResult;
  http_status: number | null;
  /** Graph's request-id of the call, for Microsoft support and the tenant's own audit log. */
  request_id: string | null;
  error: string | null;
}

/** A rule allowed to remediate its open alarms on its own (auto-remediation is off for any other). */
export interface AutoRemediationRulesTable {
  integration_id: string;
  rule_id: string;
  /** How long an alarm stays open before it is remediated: the owner's time to object (suppress). */
  grace_seconds: number;
  /** For item findings: remove public only, or external access too. */
  scope: 'public' | 'external';
  created_at: string;
  created_by: string;
}

/** At most this many automatic removals per integration per UTC day (no row: the default). */
export interface AutoRemediationLimitsTable {
  integration_id: string;
  daily_cap: number;
  updated_at: string;
  updated_by: string;
}

/** An access review: the owners of the files a rule alarmed on decide to keep or revoke each grant. */
export interface ReviewCampaignsTable {
  id: Generated<number>;
  integration_id: string;
  name: string;
  /** What the items came from: `rule <id>`. */
  origin: string;
  created_at: string;
  created_by: string;
  /** Links stop working then; unanswered items stay unanswered. */
  expires_at: string;
  /** 0820: unanswered items go to the owner's manager after this many days, then to the admins after as many again; null: never. */
  escalate_after_days: number | null;
  /** 0820: how people are reached (ReviewDelivery JSON: channel ids, Teams, e-mail fallback); null: links handed out by hand. */
  delivery: DbJson | null;
  /** 0820: the alert channel (id) the admins are told on through. */
  escalation_channel: string | null;
  /** 0820: the scheduled definition that launched it. */
  schedule_id: number | null;
}

/** One grant an owner is asked about (a removal step, kept as JSON to remediate a revoke exactly). */
export interface ReviewItemsTable {
  id: Generated<number>;
  campaign_id: number;
  /** The drive owner's e-mail: only their link can decide this item. */
  owner_email: string;
  drive_id: string;
  item_id: string;
  permission_id: string;
  item_path: string | null;
  description: string;
  step: DbJson;
  decision: 'keep' | 'revoke' | null;
  decided_at: string | null;
  decided_by: string | null;
  justification: string | null;
}

/** One signed review link per owner and campaign: its nonce, expiry and when it was used (once). */
export interface ReviewLinksTable {
  nonce: string;
  campaign_id: number;
  owner_email: string;
  expires_at: string;
  used_at: string | null;
  /** 0820: who the link was issued to when not the owner (the owner's manager, on escalation). */
  reviewer: string | null;
}

/** 0820: who was asked about an owner's unanswered items, when and how; one row per step. */
export interface ReviewNoticesTable {
  id: Generated<number>;
  campaign_id: number;
  owner_email: string;
  step: 'owner' | 'manager' | 'admins';
  /** The address (owner, manager) or the admins' channel name. */
  recipient: string | null;
  /** email, slack, teams, or channel:<kind> for the admins. */
  via: string | null;
  /** What happened on the way (e.g. no Slack account for the address: sent by e-mail). */
  note: string | null;
  items: number;
  asked_at: string;
  status: 'sending' | 'sent' | 'failed';
  error: string | null;
}

/** 0820: a campaign launched once per period (`next_run_at` persisted, so restarts launch it once). */
export interface ReviewSchedulesTable {
  id: Generated<number>;
  integration_id: string;
  name: string;
  source_kind: 'rule' | 'query';
  /** The rule id or the saved query's name. */
  source: string;
  /** The saved query's parameters (JSON). */
  params: DbJson | null;
  scope: 'public' | 'external';
  /** weekly, monthly, quarterly, yearly or <n>d. */
  every: string;
  expires_days: number;
  escalate_after_days: number | null;
  delivery: DbJson | null;
  escalation_channel: string | null;
  base_url: string | null;
  next_run_at: string;
  last_run_at: string | null;
  last_campaign_id: number | null;
  last_error: string | null;
  created_at: string;
  created_by: string;
}

/**
 * A dry run's plan as it was listed (migration 0750): applying it by id executes exactly these
 * steps, each re-checked against the inventory first (a permission changed since is skipped).
 */
export interface RemediationPlansTable {
  /** The plan id the dry run gave (a digest of its steps or changes). */
  id: string;
  integration_id: string;
  kind: 'removal' | 'settings';
  /** The RemovalPlan or SettingsPlan (JSON). */
  plan: DbJson;
  created_at: string;
  created_by: string;
}

export interface RemediationTables {
  remediation_plans: RemediationPlansTable;
  review_campaigns: ReviewCampaignsTable;
  review_items: ReviewItemsTable;
  review_links: ReviewLinksTable;
  review_notices: ReviewNoticesTable;
  review_schedules: ReviewSchedulesTable;
  remediation_actions: RemediationActionsTable;
  auto_remediation_rules: AutoRemediationRulesTable;
  auto_remediation_limits: AutoRemediationLimitsTable;
}
