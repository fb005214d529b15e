import { drive } from '../resources/drive.ts';
import type { ResourceDef, ResourceRow } from '../resources/types.ts';
import { userDrive } from '../resources/user-drive.ts';
import {
  type ApplyContext,
  type ChangeRecord,
  type ChangeSource,
  sweepScope,
  touchRows,
  upsertRows,
} from '../store/apply.ts';
import { removeContentsOfRemovedDrives } from '../store/drive-removal.ts';
import { resolveSyncErrors } from '../store/sync-state.ts';
import {
  type CollectError,
  describeError,
  inTransaction,
  reportError,
  rowContext,
  type SyncContext,
  zodMessage,
} from './context.ts';
import { batchError } from './graph-util.ts';
import { liveIdBatches } from './live-ids.ts';

const driveDef = drive as ResourceDef<unknown>;
const userDriveDef = userDrive as ResourceDef<unknown>;

/** A Graph drive payload → its row (the mapping discovery and the refresh after a delta run share). */
function driveRow(ctx: SyncContext, body: unknown, what: string): { row: ResourceRow } | { error: string } {
  const parsed = drive.schema.safeParse(body);
  if (!parsed.success) return { error: `unexpected drive payload ${what}: ${zodMessage(parsed.error)}` };
  return { row: drive.toRow(parsed.data, rowContext(ctx)) };
}

/** Upsert-with-history of drive rows (inside the caller's transaction). */
async function upsertDrives(actx: ApplyContext, rows: ResourceRow[]): Promise<ChangeRecord[]> {
  return (await upsertRows(actx, driveDef, rows)).changes;
}

export interface DiscoveryResult {
  users: number;
  provisioned: number;
  notProvisioned: number;
  failed: number;
  /** Files.Read.All missing: no drive could be read. */
  denied: boolean;
}

/**
 * GET /users/{id}/drive for every live user, 20 per $batch: the drive (owner, quota) or,
 * on 404, the fact that the user has no OneDrive. Drives of users that are gone, and
 * drives that answer 404, are swept once every user was answered, with their items and
 * permissions.
 */
export async function discoverDrives(
  ctx: SyncContext,
  source: ChangeSource = 'full',
  /** Called with each batch's drives once they are stored, so their feeds can start. */
  onDrives?: (driveIds: string[]) => void,
): Promise<DiscoveryResult> {
  const started = new Date().toISOString();
  const result: DiscoveryResult = { users: 0, provisioned: 0, notProvisioned: 0, failed: 0, denied: false };
  for await (const userIds of liveIdBatches(ctx, 'users', 20)) {
    const users = userIds.map((id) => ({ id }));
    result.users += users.length;
    const responses = await ctx.client.batch(
      users.map((u, i) => ({
        id: String(i),
        url: `/users/${encodeURIComponent(u.id)}/drive`,
        resource: 'drives',
      })),
    );
    const drives: ResourceRow[] = [];
    const statuses: ResourceRow[] = [];
    const errors: CollectError[] = [];
    const failedUsers: string[] = [];
    for (let i = 0; i < users.length; i++) {
      const userId = users[i].id;
      const res = responses[i];
      const requestId = res.headers?.['request-id'] ?? null;
      if (res.status >= 200 && res.status < 300) {
        const mapped = driveRow(ctx, res.body, `for user ${userId}`);
        if ('error' in mapped) {
          errors.push({
            resourceType: 'drive',
            resourceId: userId,
            code: 'invalidPayload',
            message: mapped.error,
            requestId,
          });
          failedUsers.push(userId);
          continue;
        }
        drives.push(mapped.row);
        statuses.push(
          userDrive.toRow(
            { id: userId, driveId: mapped.row.id, provisioned: true, code: null },
            rowContext(ctx),
          ),
        );
        result.provisioned++;
      } else if (res.status === 404) {
        const body = res.body as { error?: { code?: string } } | undefined;
        statuses.push(
          userDrive.toRow(
            { id: userId, driveId: null, provisioned: false, code: body?.error?.code ?? 'itemNotFound' },
            rowContext(ctx),
          ),
        );
        result.notProvisioned++;
      } else {
        const err = batchError(res, 'drives', `/users/${userId}/drive`);
        if (err.isAccessDenied) {
          await reportError(ctx, {
            resourceType: 'drive',
            status: err.status,
            code: err.code,
            message: err.message,
            requestId: err.requestId ?? null,
          });
          result.denied = true;
          return result;
        }
        errors.push({
          resourceType: 'drive',
          resourceId: userId,
          status: err.status,
          code: err.code,
          message: err.message,
          requestId: err.requestId ?? null,
        });
        failedUsers.push(userId);
      }
    }
    result.failed += failedUsers.length;
    await inTransaction(ctx, source, async (actx) => {
      const out = await upsertDrives(actx, drives);
      out.push(...(await upsertRows(actx, userDriveDef, statuses)).changes);
      for (const e of errors) await reportError(ctx, e, actx.db);
      if (failedUsers.length > 0) {
        // Keep what we knew about users we could not ask this time.
        await touchRows(actx, userDriveDef, {}, failedUsers);
        const known = await actx.db
          .selectFrom('user_drives')
          .select('drive_id')
          .where('integration_id', '=', ctx.integration.id)
          .where('id', 'in', failedUsers)
          .where('drive_id', 'is not', null)
          .execute();
        await touchRows(
          actx,
          driveDef,
          {},
          known.map((k) => k.drive_id as string),
        );
      }
      return out;
    });
    if (drives.length > 0) onDrives?.(drives.map((d) => d.id));
  }
  await inTransaction(ctx, source, async (actx) => {
    const gone = await sweepScope(actx, driveDef, {}, started);
    return [
      ...gone,
      ...(await removeContentsOfRemovedDrives(actx, gone)),
      ...(await sweepScope(actx, userDriveDef, {}, started)),
    ];
  });
  // The type-wide error only: errors of single users' drives are not resolved by a listing.
  await resolveSyncErrors(ctx.store.db, ctx.integration.id, 'drive', { onlyTypeWide: true });
  return result;
}

/**
 * GET /drives/{id} (1 RU) and upsert the drive row with history, as discovery does: a
 * delta run that changed items changed the drive's quota (used, deleted, state), which
 * the item feed does not carry. A failure is recorded as an error of that drive (and
 * resolved by the next refresh that works); it never fails the delta run.
 */
export async function refreshDrive(
  ctx: SyncContext,
  driveId: string,
  source: ChangeSource,
): Promise<ChangeRecord[]> {
  const url = `/drives/${encodeURIComponent(driveId)}`;
  const scope = `drive:${driveId}`;
  let mapped: { row: ResourceRow } | { error: string };
  let requestId: string | null = null;
  try {
    const res = await ctx.client.request<unknown>({ url, resource: 'drives' });
    requestId = res.headers?.['request-id'] ?? null;
    mapped = driveRow(ctx, res.body, `for drive ${driveId}`);
  } catch (err) {
    await reportError(ctx, describeError(err, 'drive', { resourceId: driveId, scope }));
    return [];
  }
  if ('error' in mapped) {
    await reportError(ctx, {
      resourceType: 'drive',
      resourceId: driveId,
      scope,
      code: 'invalidPayload',
      message: mapped.error,
      requestId,
    });
    return [];
  }
  const row = mapped.row;
  const changes = await inTransaction(ctx, source, (actx) => upsertDrives(actx, [row]));
  await resolveSyncErrors(ctx.store.db, ctx.integration.id, 'drive', { resourceId: driveId });
  return changes;
}
