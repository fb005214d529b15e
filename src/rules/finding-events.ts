import type { Kysely } from 'kysely';
import { pow2Chunks } from '../store/apply.ts';
import type { Database } from '../store/schema.ts';
import type { FindingEventType, FindingResult } from '../store/tables/rules.ts';

/**
 * Transitions of findings (finding_events): written in the same transaction as the change
 * of the finding they describe; the alerts outbox consumes them in id order.
 */
export interface FindingEventInput {
  finding_id: number;
  integration_id: string;
  rule_id: string;
  resource_type: string;
  resource_id: string;
  event: FindingEventType;
  result: FindingResult;
  severity: string;
  reason: string;
  actor: string | null;
  at: string;
}

/** A finding as its events describe it. */
export interface EventSubject {
  id: number;
  integration_id: string;
  rule_id: string;
  resource_type: string;
  resource_id: string;
  result: string;
  severity: string;
  reason: string;
}

export function eventOf(
  f: EventSubject,
  event: FindingEventType,
  at: string,
  actor: string | null = null,
): FindingEventInput {
  return {
    finding_id: f.id,
    integration_id: f.integration_id,
    rule_id: f.rule_id,
    resource_type: f.resource_type,
    resource_id: f.resource_id,
    event,
    result: f.result as FindingResult,
    severity: f.severity,
    reason: f.reason,
    actor,
    at,
  };
}

export async function insertEvents(db: Kysely<Database>, events: FindingEventInput[]): Promise<void> {
  for (const part of pow2Chunks(events, 256)) await db.insertInto('finding_events').values(part).execute();
}
