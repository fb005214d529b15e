import type { Kysely } from 'kysely';
import { decodeValue, encodeValue } from '../store/codec.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';
import type { RemovalPlan } from './plan.ts';
import type { SettingsPlan } from './settings.ts';

/**
 * Dry runs kept by their plan id, so that "apply plan X" executes exactly what the dry run
 * listed (the API's confirmation): each step is re-checked against the inventory when it runs,
 * and a plan older than PLAN_TTL_MS is refused (the tenant has moved on: dry-run again).
 */

export const PLAN_TTL_MS = 24 * 3600 * 1000;

export type SavedPlan =
  | { kind: 'removal'; plan: RemovalPlan; createdAt: string; createdBy: string }
  | { kind: 'settings'; plan: SettingsPlan; createdAt: string; createdBy: string };

export async function savePlan(
  db: Kysely<Database>,
  dialect: Dialect,
  saved: { kind: 'removal'; plan: RemovalPlan } | { kind: 'settings'; plan: SettingsPlan },
  actor: string,
  now: Date,
): Promise<void> {
  const values = {
    integration_id: saved.plan.integrationId,
    kind: saved.kind,
    plan: encodeValue('json', saved.plan, dialect),
    created_at: now.toISOString(),
    created_by: actor,
  };
  await db
    .insertInto('remediation_plans')
    .values({ id: saved.plan.id, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .execute();
}

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));

export async function loadPlan(db: Kysely<Database>, id: string): Promise<SavedPlan | undefined> {
  const row = await db.selectFrom('remediation_plans').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  return {
    kind: row.kind,
    plan: decodeValue('json', row.plan),
    createdAt: iso(row.created_at),
    createdBy: row.created_by,
  } as SavedPlan;
}
