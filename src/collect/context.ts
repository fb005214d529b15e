import type { Kysely } from 'kysely';
import { GraphError } from '../graph/errors.ts';
import type { GraphClient, GraphClientStats } from '../graph/types.ts';
import type { ErrorSubject, RowContext } from '../resources/types.ts';
import type { ApplyContext, ChangeRecord, ChangeSource } from '../store/apply.ts';
import type { Database } from '../store/schema.ts';
import type { Store } from '../store/store.ts';
import { storeFaultKind } from '../store/store-fault.ts';
import { recordSyncError } from '../store/sync-state.ts';
import type { Logger } from '../util/logger.ts';
import { type ChangeStream, changes as defaultStream } from './change-stream.ts';

/** What the collector needs about the integration (IntegrationInfo fits). */
export interface SyncIntegrationInfo {
  id: string;
  name: string;
  tenantId: string;
  verifiedDomains: string[];
}

export interface SyncProgress {
  integrationId: string;
  phase: 'directory' | 'drives' | 'permissions' | 'done';
  drivesTotal: number;
  drivesDone: number;
  drivesFailed: number;
  /** Drive items applied (live and deleted entries of delta pages). */
  items: number;
  /** History records written. */
  changes: number;
  permissionCalls: number;
  /** extractSensitivityLabels calls so far (counted when each drive's round ends). */
  labelCalls: number;
  ruSpent: number;
  requests: number;
  throttledResponses: number;
  throttleWaitMs: number;
  elapsedMs: number;
  /** Estimated time left, from the drives done so far. */
  etaMs: number | null;
}

export interface SyncContext {
  store: Store;
  client: GraphClient;
  integration: SyncIntegrationInfo;
  logger?: Logger;
  /** Drives synced at once (config sync.concurrency). */
  concurrency?: number;
  onProgress?: (progress: SyncProgress) => void;
  /** Defaults to the process-wide `changes` stream. */
  changeStream?: ChangeStream;
  /** $top of drive enumerations (default 999; Graph may serve fewer). Tests use small pages. */
  deltaPageSize?: number;
}

export function streamOf(ctx: SyncContext): ChangeStream {
  return ctx.changeStream ?? defaultStream;
}

export function rowContext(ctx: SyncContext, scope?: Record<string, string>): RowContext {
  return {
    integrationId: ctx.integration.id,
    tenantId: ctx.integration.tenantId,
    verifiedDomains: ctx.integration.verifiedDomains.map((d) => d.toLowerCase()),
    scope,
  };
}

export function applyContext(ctx: SyncContext, db: Kysely<Database>, source: ChangeSource): ApplyContext {
  return {
    db,
    dialect: ctx.store.dialect,
    integrationId: ctx.integration.id,
    tenantId: ctx.integration.tenantId,
    source,
    now: new Date().toISOString(),
    verifiedDomains: ctx.integration.verifiedDomains.map((d) => d.toLowerCase()),
  };
}

/** Runs `work` in one transaction, then publishes the change records it returned. */
export async function inTransaction(
  ctx: SyncContext,
  source: ChangeSource,
  work: (actx: ApplyContext) => Promise<ChangeRecord[]>,
): Promise<ChangeRecord[]> {
  const records = await ctx.store.db.transaction().execute((trx) => work(applyContext(ctx, trx, source)));
  streamOf(ctx).publish(ctx.integration.id, source, records);
  return records;
}

export interface CollectError {
  resourceType: ErrorSubject;
  resourceId?: string | null;
  scope?: string | null;
  status?: number | null;
  code: string;
  message: string;
  requestId?: string | null;
}

/** A GraphError (or anything thrown) as a collection error record. */
export function describeError(
  err: unknown,
  resourceType: ErrorSubject,
  extra: { resourceId?: string | null; scope?: string | null } = {},
): CollectError {
  // A store fault (disk full, read-only file, PostgreSQL down) is no error of this resource and
  // could not be recorded anyway: it goes on up and stops the sync (sync.ts).
  if (storeFaultKind(err)) throw err;
  if (err instanceof GraphError) {
    return {
      resourceType,
      ...extra,
      status: err.status,
      code: err.code,
      message: err.message,
      requestId: err.requestId ?? null,
    };
  }
  return { resourceType, ...extra, code: 'internalError', message: (err as Error)?.message ?? String(err) };
}

/** Records an error (sync_errors) and logs it, naming the integration, resource and request id. */
export async function reportError(
  ctx: SyncContext,
  e: CollectError,
  db: Kysely<Database> = ctx.store.db,
): Promise<void> {
  ctx.logger?.warn(
    {
      integration: ctx.integration.name,
      resourceType: e.resourceType,
      resourceId: e.resourceId,
      code: e.code,
      requestId: e.requestId,
    },
    `integration ${ctx.integration.name}: ${e.resourceType}${e.resourceId ? ` ${e.resourceId}` : ''}: ${e.code}: ${e.message}${e.requestId ? ` (request-id ${e.requestId})` : ''}`,
  );
  await recordSyncError(db, { integrationId: ctx.integration.id, ...e });
}

export function statsDelta(now: GraphClientStats, base: GraphClientStats): GraphClientStats {
  return {
    requests: now.requests - base.requests,
    ruSpent: now.ruSpent - base.ruSpent,
    throttledResponses: now.throttledResponses - base.throttledResponses,
    throttleWaitMs: now.throttleWaitMs - base.throttleWaitMs,
    retries: now.retries - base.retries,
  };
}

/** A schema failure as a readable one-liner: "size: expected number, received string". */
export function zodMessage(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(item)'}: ${i.message}`)
    .join('; ');
}
