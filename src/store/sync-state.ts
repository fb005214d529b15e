import type { Kysely } from 'kysely';
import type { ErrorSubject } from '../resources/types.ts';
import type { Database } from './schema.ts';
import type { SyncErrorsTable, SyncStateTable } from './tables/inventory.ts';

export type SyncPhase = 'idle' | 'enumerating' | 'resyncing' | 'delta';

export interface SyncState {
  integrationId: string;
  scope: string;
  phase: SyncPhase;
  deltaLink: string | null;
  nextLink: string | null;
  enumerationStartedAt: string | null;
  lastFullSyncAt: string | null;
  lastDeltaAt: string | null;
  lastSuccessAt: string | null;
  lastErrorCode: string | null;
  lastErrorMessage: string | null;
  lastErrorRequestId: string | null;
  lastErrorAt: string | null;
}

export type SyncStatePatch = Partial<Omit<SyncState, 'integrationId' | 'scope'>>;

const COLS: Record<keyof SyncStatePatch, keyof SyncStateTable> = {
  phase: 'phase',
  deltaLink: 'delta_link',
  nextLink: 'next_link',
  enumerationStartedAt: 'enumeration_started_at',
  lastFullSyncAt: 'last_full_sync_at',
  lastDeltaAt: 'last_delta_at',
  lastSuccessAt: 'last_success_at',
  lastErrorCode: 'last_error_code',
  lastErrorMessage: 'last_error_message',
  lastErrorRequestId: 'last_error_request_id',
  lastErrorAt: 'last_error_at',
};

function fromRow(r: SyncStateTable): SyncState {
  return {
    integrationId: r.integration_id,
    scope: r.scope,
    phase: r.phase as SyncPhase,
    deltaLink: r.delta_link,
    nextLink: r.next_link,
    enumerationStartedAt: r.enumeration_started_at,
    lastFullSyncAt: r.last_full_sync_at,
    lastDeltaAt: r.last_delta_at,
    lastSuccessAt: r.last_success_at,
    lastErrorCode: r.last_error_code,
    lastErrorMessage: r.last_error_message,
    lastErrorRequestId: r.last_error_request_id,
    lastErrorAt: r.last_error_at,
  };
}

export async function getSyncState(
  db: Kysely<Database>,
  integrationId: string,
  scope: string,
): Promise<SyncState | undefined> {
  const row = await db
    .selectFrom('sync_state')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('scope', '=', scope)
    .executeTakeFirst();
  return row ? fromRow(row as SyncStateTable) : undefined;
}

export async function listSyncStates(db: Kysely<Database>, integrationId: string): Promise<SyncState[]> {
  const rows = await db
    .selectFrom('sync_state')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .orderBy('scope')
    .execute();
  return rows.map((r) => fromRow(r as SyncStateTable));
}

/** Creates or updates the state of one scope (inside the caller's transaction for checkpoints). */
export async function putSyncState(
  db: Kysely<Database>,
  integrationId: string,
  scope: string,
  patch: SyncStatePatch,
  now: string = new Date().toISOString(),
): Promise<void> {
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v !== undefined) values[COLS[k as keyof SyncStatePatch]] = v;
  }
  values.updated_at = now;
  await db
    .insertInto('sync_state')
    .values({ integration_id: integrationId, scope, phase: 'idle', ...values } as SyncStateTable)
    .onConflict((oc) => oc.columns(['integration_id', 'scope']).doUpdateSet(values))
    .execute();
}

// ---------- errors ----------

export interface SyncErrorInput {
  integrationId: string;
  resourceType: ErrorSubject;
  resourceId?: string | null;
  scope?: string | null;
  status?: number | null;
  code: string;
  message: string;
  requestId?: string | null;
}

export type SyncErrorRecord = Omit<SyncErrorsTable, 'id'> & { id: number };

/** Records an error; the same unresolved (integration, resource type, resource, code) is counted, not repeated. */
export async function recordSyncError(
  db: Kysely<Database>,
  e: SyncErrorInput,
  now: string = new Date().toISOString(),
): Promise<void> {
  let query = db
    .selectFrom('sync_errors')
    .select(['id', 'count'])
    .where('integration_id', '=', e.integrationId)
    .where('resource_type', '=', e.resourceType)
    .where('code', '=', e.code)
    .where('resolved_at', 'is', null);
  query = e.resourceId
    ? query.where('resource_id', '=', e.resourceId)
    : query.where('resource_id', 'is', null);
  const existing = await query.executeTakeFirst();
  if (existing) {
    await db
      .updateTable('sync_errors')
      .set({
        last_at: now,
        count: Number(existing.count) + 1,
        message: e.message,
        request_id: e.requestId ?? null,
        status: e.status ?? null,
        scope: e.scope ?? null,
      })
      .where('id', '=', existing.id)
      .execute();
    return;
  }
  await db
    .insertInto('sync_errors')
    .values({
      integration_id: e.integrationId,
      resource_type: e.resourceType,
      resource_id: e.resourceId ?? null,
      scope: e.scope ?? null,
      status: e.status ?? null,
      code: e.code,
      message: e.message,
      request_id: e.requestId ?? null,
      first_at: now,
      last_at: now,
      count: 1,
      resolved_at: null,
    })
    .execute();
}

/**
 * Marks a resource type's open errors resolved (all of them, or those of one resource / scope,
 * or onlyTypeWide: those of the whole type, resource_id null, such as a 403 on its feed).
 */
export async function resolveSyncErrors(
  db: Kysely<Database>,
  integrationId: string,
  resourceType: ErrorSubject,
  where: { resourceId?: string; scope?: string; onlyTypeWide?: boolean } = {},
  now: string = new Date().toISOString(),
): Promise<number> {
  let query = db
    .updateTable('sync_errors')
    .set({ resolved_at: now })
    .where('integration_id', '=', integrationId)
    .where('resource_type', '=', resourceType)
    .where('resolved_at', 'is', null);
  if (where.resourceId !== undefined) query = query.where('resource_id', '=', where.resourceId);
  if (where.scope !== undefined) query = query.where('scope', '=', where.scope);
  // A payload that failed its schema is about one object even when it has no id: not type-wide.
  if (where.onlyTypeWide)
    query = query.where('resource_id', 'is', null).where('code', '<>', 'invalidPayload');
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function listSyncErrors(
  db: Kysely<Database>,
  integrationId: string,
  opts: { open?: boolean; resourceType?: ErrorSubject } = {},
): Promise<SyncErrorRecord[]> {
  let query = db.selectFrom('sync_errors').selectAll().where('integration_id', '=', integrationId);
  if (opts.open) query = query.where('resolved_at', 'is', null);
  if (opts.resourceType) query = query.where('resource_type', '=', opts.resourceType);
  const rows = await query.orderBy('id').execute();
  return rows.map((r) => ({ ...r, id: Number(r.id), count: Number(r.count) }) as SyncErrorRecord);
}
