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

export interface RemediationTables {
  remediation_actions: RemediationActionsTable;
}
