import type { Kysely, Selectable } from 'kysely';
import type { Database } from '../store/schema.ts';
import type { FindingEventsTable, FindingsTable } from '../store/tables/rules.ts';
import { SEVERITIES } from './definition.ts';

/** Reading findings for people (CLI, later the API): filters checked, newest first. */

export const FINDING_STATUSES = ['open', 'resolved', 'suppressed'] as const;

export interface FindingFilter {
  integrationId?: string;
  statuses?: string[];
  severities?: string[];
  ruleId?: string;
  limit?: number;
}

export class FindingQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FindingQueryError';
  }
}

function check(values: string[] | undefined, allowed: readonly string[], what: string): void {
  for (const v of values ?? [])
    if (!allowed.includes(v)) throw new FindingQueryError(`${what} ${v} is not one of ${allowed.join(', ')}`);
}

export async function listFindings(
  db: Kysely<Database>,
  f: FindingFilter,
): Promise<Array<Selectable<FindingsTable>>> {
  check(f.statuses, FINDING_STATUSES, 'status');
  check(f.severities, SEVERITIES, 'severity');
  let q = db.selectFrom('findings').selectAll();
  if (f.integrationId) q = q.where('integration_id', '=', f.integrationId);
  if (f.statuses?.length) q = q.where('status', 'in', f.statuses as Array<(typeof FINDING_STATUSES)[number]>);
  if (f.severities?.length) q = q.where('severity', 'in', f.severities);
  if (f.ruleId) q = q.where('rule_id', '=', f.ruleId);
  return q
    .orderBy('last_seen', 'desc')
    .orderBy('id', 'desc')
    .limit(f.limit ?? 1000)
    .execute();
}

export async function findingWithEvents(
  db: Kysely<Database>,
  id: number,
): Promise<{ finding: Selectable<FindingsTable>; events: Array<Selectable<FindingEventsTable>> }> {
  const finding = await db.selectFrom('findings').selectAll().where('id', '=', id).executeTakeFirst();
  if (!finding) throw new FindingQueryError(`no finding ${id}`);
  const events = await db
    .selectFrom('finding_events')
    .selectAll()
    .where('finding_id', '=', id)
    .orderBy('id')
    .execute();
  return { finding, events };
}
