import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Candidate } from '../batch.ts';
import type { AppLinks } from '../links.ts';
import type { Policy } from '../policy-repo.ts';
import type { RuleCatalog } from './findings.ts';

/** What sources need besides the database: rule names and links into the web app. */
export interface SourceContext {
  catalog: RuleCatalog;
  links: AppLinks;
}

/**
 * Where a policy kind's events come from: an id-ordered table the router reads past the
 * policy's cursor, whether a row is for the policy, what the alert says, and what is looked
 * up only for the items that are sent.
 */
export interface AlertSource<P extends Policy, Row extends { id: number }> {
  read(db: Kysely<Database>, afterId: number, limit: number): Promise<Row[]>;
  /** The candidate alert for a row the policy matches; null when it does not. */
  match(db: Kysely<Database>, policy: P, row: Row, ctx: SourceContext): Promise<Candidate | null>;
  enrich(db: Kysely<Database>, c: Candidate): Promise<Candidate>;
}
