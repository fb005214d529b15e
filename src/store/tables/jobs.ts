import type { Generated } from 'kysely';

/** A pending "run again" request for an exclusive key (a drive, an integration's rules): see store/exclusive.ts. */
export interface RunRequestsTable {
  /** `drive:<integration>:<drive>`, `rules:<integration>`, … */
  lock_key: string;
  /** Why the run was asked for (webhook, poll, …); the follow-up run uses it. */
  source: string;
  requested_ms: number;
}

/** One Graph request in the shared RU budget's window (jobs/ru-budget.ts). */
export interface RuSpendTable {
  id: Generated<number>;
  /** `graph:<tenant id>`: every integration of a tenant shares Graph's budget. */
  budget_key: string;
  ru: number;
  /** When the RU were taken (database clock, ms). */
  taken_ms: number;
  /** When the response arrived; null while in flight. */
  done_ms: number | null;
}

export interface JobsTables {
  run_requests: RunRequestsTable;
  ru_spend: RuSpendTable;
}
