import type { Kysely } from 'kysely';
import { GraphError } from '../graph/errors.ts';
import type { GraphClient } from '../graph/types.ts';
import { decodeValue } from '../store/codec.ts';
import type { Dialect } from '../store/dialect.ts';
import type { Database } from '../store/schema.ts';
import type { RemediationResult } from '../store/tables/remediation.ts';
import type { RemovalPlan, RemovalStep } from './plan.ts';
import { recordAction } from './trail.ts';
import { checkPermissionWriteAccess } from './write-access.ts';

/**
 * Executes a removal plan: for each step, re-check it against the inventory, DELETE it in
 * Graph through the client (429/503 retried there), record the answer in the trail. Only
 * the plan's steps are ever called. A 404 means already gone; a 403 stops the run (the
 * permission is missing for every step alike). The caller re-reads the affected drives
 * afterwards: the inventory changes from Graph's answer, never from this code.
 */

export interface ExecuteDeps {
  db: Kysely<Database>;
  dialect: Dialect;
  client: GraphClient;
  /** Who asked: `cli:<user>`, an API user, `auto:<rule>`. */
  actor: string;
  now?: () => Date;
}

export interface StepOutcome {
  step: RemovalStep;
  result: RemediationResult;
  httpStatus: number | null;
  requestId: string | null;
  error: string | null;
  trailId: number;
}

export interface ExecutionReport {
  planId: string;
  outcomes: StepOutcome[];
  /** Drives where Graph changed (or had already changed) something: re-read them. */
  affectedDrives: string[];
}

type PermissionRow = Record<string, unknown>;

/** The step's permission as the inventory holds it now, or why it no longer matches the plan. */
async function recheck(
  db: Kysely<Database>,
  integrationId: string,
  step: RemovalStep,
): Promise<{ row: PermissionRow } | { changed: string }> {
  const row = await db
    .selectFrom('permissions')
    .select([
      'id',
      'drive_id',
      'item_id',
      'roles',
      'link_type',
      'link_scope',
      'link_web_url',
      'expiration',
      'recipients',
      'is_external',
      'deleted_at',
    ])
    .where('integration_id', '=', integrationId)
    .where('drive_id', '=', step.driveId)
    .where('item_id', '=', step.itemId)
    .where('id', '=', step.permissionId)
    .executeTakeFirst();
  if (!row || row.deleted_at !== null)
    return { changed: 'no longer in the inventory since the plan was made' };
  const roles = (decodeValue('json', row.roles) as string[] | null) ?? [];
  if (roles.includes('owner')) return { changed: "it is the owner's permission" };
  if (row.link_scope !== step.linkScope || roles.join(',') !== step.roles.join(','))
    return { changed: `changed since the plan (now ${row.link_scope ?? 'grant'} ${roles.join(',')})` };
  const { deleted_at: _gone, ...rest } = row;
  return {
    row: {
      ...rest,
      roles,
      recipients: decodeValue('json', row.recipients),
      is_external: decodeValue('boolean', row.is_external),
    },
  };
}

async function callDelete(
  client: GraphClient,
  step: RemovalStep,
): Promise<Pick<StepOutcome, 'result' | 'httpStatus' | 'requestId' | 'error'>> {
  const url = `/drives/${encodeURIComponent(step.driveId)}/items/${encodeURIComponent(step.itemId)}/permissions/${encodeURIComponent(step.permissionId)}`;
  try {
    const res = await client.request({ method: 'DELETE', url, resource: 'permissions' });
    return { result: 'done', httpStatus: res.status, requestId: res.requestId ?? null, error: null };
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    const base = { httpStatus: err.status, requestId: err.requestId ?? null };
    if (err.isNotFound) return { ...base, result: 'already_gone', error: null };
    return { ...base, result: 'failed', error: err.message };
  }
}

export async function executePlan(deps: ExecuteDeps, plan: RemovalPlan): Promise<ExecutionReport> {
  const now = deps.now ?? (() => new Date());
  const outcomes: StepOutcome[] = [];
  if (plan.steps.length > 0)
    await checkPermissionWriteAccess(deps.client, plan.steps[0].driveId, plan.steps[0].itemId);
  let stopped: string | null = null;
  for (const step of plan.steps) {
    const requestedAt = now().toISOString();
    const check = await recheck(deps.db, plan.integrationId, step);
    let outcome: Pick<StepOutcome, 'result' | 'httpStatus' | 'requestId' | 'error'>;
    if (stopped) outcome = { result: 'skipped', httpStatus: null, requestId: null, error: stopped };
    else if ('changed' in check)
      outcome = { result: 'skipped', httpStatus: null, requestId: null, error: check.changed };
    else {
      outcome = await callDelete(deps.client, step);
      if (outcome.httpStatus === 403)
        stopped = `not attempted: an earlier removal was refused (403): ${outcome.error}`;
    }
    const trailId = await recordAction(deps.db, deps.dialect, {
      integration_id: plan.integrationId,
      plan_id: plan.id,
      action: 'remove_permission',
      origin: plan.origin,
      drive_id: step.driveId,
      item_id: step.itemId,
      permission_id: step.permissionId,
      item_path: step.itemPath,
      reason: step.reason,
      before: 'row' in check ? check.row : null,
      after: null,
      actor: deps.actor,
      requested_at: requestedAt,
      finished_at: now().toISOString(),
      result: outcome.result,
      http_status: outcome.httpStatus,
      request_id: outcome.requestId,
      error: outcome.error,
    });
    outcomes.push({ step, ...outcome, trailId });
  }
  const affected = outcomes
    .filter((o) => o.result === 'done' || o.result === 'already_gone')
    .map((o) => o.step.driveId);
  return { planId: plan.id, outcomes, affectedDrives: [...new Set(affected)] };
}
