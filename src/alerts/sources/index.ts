import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Candidate } from '../batch.ts';
import type { EventPolicy } from '../policy-repo.ts';
import { changeSource } from './changes.ts';
import { complianceSource } from './compliance.ts';
import { findingSource } from './findings.ts';
import type { AlertSource, SourceContext } from './source.ts';

type AnySource = AlertSource<EventPolicy, { id: number }>;

const SOURCES = {
  rule: findingSource,
  change: changeSource,
  compliance: complianceSource,
} as unknown as Record<EventPolicy['kind'], AnySource>;

/** The source a policy reads (its kind decides). */
export function sourceFor(policy: EventPolicy): AnySource {
  return SOURCES[policy.kind];
}

export type { SourceContext };

/** Looks up what an item that is sent needs (link, owner, actor, …). */
export function enrichFor(db: Kysely<Database>, policy: EventPolicy, c: Candidate): Promise<Candidate> {
  return sourceFor(policy).enrich(db, c);
}
