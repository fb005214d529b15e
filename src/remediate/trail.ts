import type { Insertable, Kysely } from 'kysely';
import { decodeValue, encodeValue } from '../store/codec.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';
import type { RemediationActionsTable } from '../store/tables/remediation.ts';

/** The remediation audit trail: one row per answered call, written once, read by `remediate log`. */

export type TrailEntry = Omit<Insertable<RemediationActionsTable>, 'id' | 'before' | 'after'> & {
  before: unknown;
  after: unknown;
};

export async function recordAction(
  db: Kysely<Database>,
  dialect: Dialect,
  entry: TrailEntry,
): Promise<number> {
  const row = await db
    .insertInto('remediation_actions')
    .values({
      ...entry,
      before: encodeValue('json', entry.before ?? null, dialect),
      after: encodeValue('json', entry.after ?? null, dialect),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export interface TrailRecord extends Omit<TrailEntry, 'requested_at' | 'finished_at'> {
  id: number;
  requested_at: string;
  finished_at: string;
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

/** The newest entries first; optionally one plan's or one permission's. */
export async function listActions(
  db: Kysely<Database>,
  opts: { integrationId?: string; planId?: string; permissionId?: string; limit?: number } = {},
): Promise<TrailRecord[]> {
  let q = db
    .selectFrom('remediation_actions')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(opts.limit ?? 50);
  if (opts.integrationId) q = q.where('integration_id', '=', opts.integrationId);
  if (opts.planId) q = q.where('plan_id', '=', opts.planId);
  if (opts.permissionId) q = q.where('permission_id', '=', opts.permissionId);
  const rows = await q.execute();
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    before: decodeValue('json', r.before),
    after: decodeValue('json', r.after),
    requested_at: iso(r.requested_at),
    finished_at: iso(r.finished_at),
  }));
}
