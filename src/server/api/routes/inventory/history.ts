import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decodeValue } from '../../../../store/codec.ts';
import type { Database } from '../../../../store/schema.ts';
import type { ChangesTable } from '../../../../store/tables/inventory.ts';

/** Field-level history of resources, from the `changes` table (changes_resource index). */

export const historyEntrySchema = z.object({
  at: z.string(),
  action: z.enum(['added', 'modified', 'removed']),
  fields: z.array(z.string()).describe('Typed columns that changed'),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
  actor: z.string().nullable(),
  source: z.string().describe('How it was observed: full, delta, webhook, resync, poll'),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

/** History rows kept per answer (newest). */
export const HISTORY_LIMIT = 200;

type ChangeRow = Pick<
  ChangesTable,
  'change_type' | 'fields' | 'before' | 'after' | 'actor' | 'source' | 'observed_at' | 'resource_id'
>;

const object = (v: unknown) => {
  const d = decodeValue('json', v);
  return d && typeof d === 'object' && !Array.isArray(d) ? (d as Record<string, unknown>) : null;
};

export function historyEntry(c: ChangeRow): HistoryEntry {
  const fields = decodeValue('json', c.fields);
  return {
    at: c.observed_at,
    action: c.change_type,
    fields: Array.isArray(fields) ? fields.map(String) : [],
    before: object(c.before),
    after: object(c.after),
    actor: c.actor,
    source: c.source,
  };
}

/** The newest changes of resources of one type, oldest first in the answer. */
export async function changesOf(
  db: Kysely<Database>,
  integrationId: string,
  resourceType: ChangesTable['resource_type'],
  driveId: string | null,
  resourceIds: string[],
  limit = HISTORY_LIMIT,
): Promise<ChangeRow[]> {
  if (resourceIds.length === 0) return [];
  let q = db
    .selectFrom('changes')
    .select([
      'id',
      'change_type',
      'fields',
      'before',
      'after',
      'actor',
      'source',
      'observed_at',
      'resource_id',
    ])
    .where('integration_id', '=', integrationId)
    .where('resource_type', '=', resourceType)
    .where('resource_id', 'in', resourceIds);
  q = driveId === null ? q.where('drive_id', 'is', null) : q.where('drive_id', '=', driveId);
  const rows = await q.orderBy('id', 'desc').limit(limit).execute();
  return rows.reverse();
}
