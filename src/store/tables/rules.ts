import type { Generated } from 'kysely';
import type { DbBool, DbJson } from './resource-table.ts';

/** Tables of the rules engine (src/rules/), created by migration 0300-rules. */

/** Per integration and rule: enabled or not, and parameter overrides. No row = defaults. */
export interface RuleSettingsTable {
  integration_id: string;
  rule_id: string;
  enabled: DbBool;
  /** Parameter overrides {name: value} (JSON), validated against the rule's parameter types. */
  params: DbJson;
  updated_at: string;
  updated_by: string | null;
}

/** Custom rules saved through the CLI or the API: the same rule.yaml + rule.sql as a folder. */
export interface CustomRulesTable {
  /** The rule id (rule.yaml `id`). */
  id: string;
  yaml: string;
  sql: string;
  created_at: string;
  updated_at: string;
  created_by: string | null;
}

export type FindingStatus = 'open' | 'resolved' | 'suppressed';
/** What the rule said: alarm (a violation) or error (the rule could not see its data). */
export type FindingResult = 'alarm' | 'error';

/**
 * What a rule's evaluation or an anomaly detector reports for one resource, before the findings
 * writer (src/rules/findings.ts) turns it into a findings row: keyed like rule rows (permission
 * drive/item/id, drive item drive/id, anything else its id).
 */
export interface FindingInput {
  key: string;
  resource_type: string;
  resource_id: string;
  drive_id: string | null;
  item_id: string | null;
  result: FindingResult;
  severity: string;
  reason: string;
  details: Record<string, unknown>;
  resource_name: string | null;
  resource_path: string | null;
  resource_owner: string | null;
}
export type FindingEventType = 'opened' | 'resolved' | 'reopened' | 'suppressed' | 'unsuppressed' | 'changed';

/** One row per integration, rule and resource the rule alarmed (or errored) on. */
export interface FindingsTable {
  id: Generated<number>;
  integration_id: string;
  rule_id: string;
  /** The rule's resource type (or drive / integration for an error about the data). */
  resource_type: string;
  /** Unique per rule and integration: [drive_id/][item_id/]resource_id. */
  resource_key: string;
  resource_id: string;
  drive_id: string | null;
  item_id: string | null;
  status: FindingStatus;
  result: FindingResult;
  severity: string;
  reason: string;
  /** Extra columns the rule returned (JSON object). */
  details: DbJson;
  resource_name: string | null;
  resource_path: string | null;
  resource_owner: string | null;
  first_seen: string;
  last_seen: string;
  resolved_at: string | null;
  /** The suppression that holds the finding while status = suppressed. */
  suppression_id: number | null;
}

/** Every transition of a finding, in order; the alerts outbox consumes these. */
export interface FindingEventsTable {
  id: Generated<number>;
  finding_id: number;
  integration_id: string;
  rule_id: string;
  resource_type: string;
  resource_id: string;
  /** opened, resolved, reopened, suppressed, unsuppressed, changed (severity or result changed). */
  event: FindingEventType;
  result: FindingResult;
  severity: string;
  reason: string;
  /** Who caused it: a person for suppressions, null for evaluations. */
  actor: string | null;
  at: string;
}

/** A suppression of one finding, or of a rule (optionally only for resources matching a pattern). */
export interface SuppressionsTable {
  id: Generated<number>;
  /** Null = every integration. */
  integration_id: string | null;
  rule_id: string | null;
  finding_id: number | null;
  /** Glob over the finding's path, name or resource id (`/Finance/*`); null = every resource. */
  resource_pattern: string | null;
  reason: string;
  actor: string;
  created_at: string;
  /** When it stops holding (the finding reopens); null = never. */
  expires_at: string | null;
  lifted_at: string | null;
  lifted_by: string | null;
}

/** One row per evaluation run (full or incremental). */
export interface RuleEvaluationsTable {
  id: Generated<number>;
  integration_id: string;
  mode: 'full' | 'incremental';
  /** Set when one rule only was run. */
  rule_id: string | null;
  started_at: string;
  finished_at: string | null;
  change_cursor_from: number | null;
  change_cursor_to: number | null;
  rules_run: number;
  ok_count: number;
  alarm_count: number;
  error_count: number;
  opened: number;
  resolved: number;
  duration_ms: number | null;
  error_message: string | null;
}

/** Per integration: the last `changes.id` the incremental evaluation has taken into account. */
export interface RuleCursorTable {
  integration_id: string;
  change_id: number;
  /** When the last full evaluation finished. */
  full_at: string | null;
  updated_at: string;
}

export interface RulesTables {
  rule_settings: RuleSettingsTable;
  custom_rules: CustomRulesTable;
  findings: FindingsTable;
  finding_events: FindingEventsTable;
  suppressions: SuppressionsTable;
  rule_evaluations: RuleEvaluationsTable;
  rule_cursor: RuleCursorTable;
}
