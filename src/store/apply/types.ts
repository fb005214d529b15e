import type { Kysely } from 'kysely';
import type { ResourceType } from '../../resources/types.ts';
import type { Dialect } from '../codec.ts';
import type { Database } from '../schema.ts';

export type ChangeSource = 'full' | 'delta' | 'webhook' | 'resync' | 'poll';
export type ChangeType = 'added' | 'modified' | 'removed';

export interface ApplyContext {
  /** The open transaction (or the database for one-statement work). */
  db: Kysely<Database>;
  dialect: Dialect;
  integrationId: string;
  tenantId: string;
  source: ChangeSource;
  /** Observation time, ISO-8601 (last_seen, first_seen, deleted_at, observed_at). */
  now: string;
  /** Actor for removals (and rows whose resource has no actor mapping). */
  actor?: string | null;
  /** The tenant's verified domains (grants are classified against them); read from the integration when absent. */
  verifiedDomains?: readonly string[];
}

export interface ChangeRecord {
  resourceType: ResourceType;
  id: string;
  changeType: ChangeType;
  /** Key columns other than integration_id and id: drive_id, item_id, group_id. */
  scope: Record<string, string>;
  fields: string[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export interface UpsertResult {
  changes: ChangeRecord[];
  /** The typed values each row had before (decoded), for rows that existed and were not tombstoned. */
  previous: Map<string, Record<string, unknown>>;
}
