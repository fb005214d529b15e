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

export interface RemediationTables {
  remediation_actions: RemediationActionsTable;
  auto_remediation_rules: AutoRemediationRulesTable;
  auto_remediation_limits: AutoRemediationLimitsTable;
}
