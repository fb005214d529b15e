import { drive } from '../resources/drive.ts';
import type { ApplyContext, ChangeRecord } from './apply.ts';
import { removePermissionsOf, sweepDrive } from './items.ts';
import { putSyncState } from './sync-state.ts';

/** Later than any last_seen: sweeping "not seen since" this takes every live row. */
const END_OF_TIME = '9999-12-31T23:59:59.999Z';

/**
 * What goes with a drive that is gone (its owner deleted, the OneDrive removed), inside the
 * transaction that tombstones the drive row: its live items and their permissions are
 * tombstoned with `removed` history (source: the caller's, e.g. the discovery pass or the
 * users delta that noticed it), its open errors are resolved, and its delta cursor is
 * forgotten, so a drive that comes back under the same id is enumerated afresh.
 */
export async function removeDriveContents(ctx: ApplyContext, driveId: string): Promise<ChangeRecord[]> {
  const changes = await sweepDrive(ctx, driveId, END_OF_TIME);
  // Permissions whose item row is already gone (never expected; kept consistent anyway).
  const orphans = await ctx.db
    .selectFrom('permissions')
    .select('item_id')
    .distinct()
    .where('integration_id', '=', ctx.integrationId)
    .where('drive_id', '=', driveId)
    .where('deleted_at', 'is', null)
    .execute();
  if (orphans.length > 0)
    changes.push(
      ...(await removePermissionsOf(
        ctx,
        driveId,
        orphans.map((o) => o.item_id),
      )),
    );
  const scope = `drive:${driveId}`;
  await putSyncState(
    ctx.db,
    ctx.integrationId,
    scope,
    { phase: 'idle', deltaLink: null, nextLink: null, enumerationStartedAt: null },
    ctx.now,
  );
  await ctx.db
    .updateTable('sync_errors')
    .set({ resolved_at: ctx.now })
    .where('integration_id', '=', ctx.integrationId)
    .where('resolved_at', 'is', null)
    .where('scope', '=', scope)
    .execute();
  return changes;
}

/** removeDriveContents for every drive the given changes tombstoned. */
export async function removeContentsOfRemovedDrives(
  ctx: ApplyContext,
  changes: ChangeRecord[],
): Promise<ChangeRecord[]> {
  const out: ChangeRecord[] = [];
  for (const c of changes)
    if (c.resourceType === drive.type && c.changeType === 'removed')
      out.push(...(await removeDriveContents(ctx, c.id)));
  return out;
}
