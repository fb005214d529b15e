import type { Generated } from 'kysely';
import type { DbJson } from './resource-table.ts';

/** Tables of storage policies and compliance pack scores (src/rules/), created by migration 0330. */

export type PolicyScopeKind = 'user' | 'group';

/**
 * A storage limit for the drives of one user, or of every transitive member of one group.
 * Exactly one of limit_bytes and limit_percent is set. The thresholds are fractions of the
 * limit: a warning when used ≥ warning_threshold × limit, a violation when used >
 * violation_threshold × limit. One policy per integration and scope.
 */
export interface StoragePoliciesTable {
  id: Generated<number>;
  integration_id: string;
  scope_kind: PolicyScopeKind;
  /** Graph id of the user or group. */
  scope_id: string;
  limit_bytes: number | null;
  /** Percent (0–100] of each drive's quota_total. */
  limit_percent: number | null;
  warning_threshold: number;
  violation_threshold: number;
  description: string | null;
  created_at: string;
  created_by: string | null;
}

/** One score of a compliance pack for an integration (rules/packs/*.yaml), kept over time. */
export interface PackScoresTable {
  id: Generated<number>;
  integration_id: string;
  pack_id: string;
  at: string;
  /** Controls whose rules all ran and have no open alarm or error. */
  passing: number;
  /** Controls whose rules all ran. */
  evaluated: number;
  /** Per control: status, failing rules, rules not run (JSON; see src/rules/pack-score.ts). */
  details: DbJson;
}

export interface PoliciesTables {
  storage_policies: StoragePoliciesTable;
  pack_scores: PackScoresTable;
}
