import { GraphError } from '../graph/errors.ts';
import type { GraphPage } from '../graph/types.ts';
import { driveItem, exposureOfSharedScope } from '../resources/drive-item.ts';
import type { Exposure } from '../resources/grant.ts';
import type { ResourceDef, ResourceRow } from '../resources/types.ts';
import { type ChangeRecord, type ChangeSource, touchRows } from '../store/apply.ts';
import { applyItemsPage, sweepDrive } from '../store/items.ts';
import { putSyncState, resolveSyncErrors } from '../store/sync-state.ts';
import {
  type CollectError,
  describeError,
  reportError,
  rowContext,
  type SyncContext,
  zodMessage,
} from './context.ts';
import { refreshDrive } from './drives.ts';
import { type FeedResult, type PageWork, runFeed } from './feed.ts';
import { extractDriveLabels } from './labels.ts';
import { markPermissionReads, readPendingPermissions, setPermissionReadSource } from './permission-reads.ts';

/** Sharing roots only (hierarchicalsharing) plus sharing changes and removals in the feed. */
export const DELTA_PREFER =
  'hierarchicalsharing, deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges';

const itemDef = driveItem as ResourceDef<unknown>;

export interface DriveSyncOptions {
  /** full: enumerate the drive from scratch (unless an enumeration is in progress: it resumes). delta (default): continue from the stored deltaLink, enumerating when there is none. */
  mode?: 'full' | 'delta';
  /** History source of a delta round: delta (default), webhook or poll. */
  source?: 'delta' | 'webhook' | 'poll';
  /**
   * now (default): read the sharing roots' permissions once the feed is done, then the
   * labels. defer: leave the reads pending for the caller (the full sync reads every drive's
   * in risk order once all feeds are done, then the labels: see `labelSource`).
   */
  permissions?: 'now' | 'defer';
  /** Called after each committed page. */
  onPage?: (info: { driveId: string; items: number; changes: number; permissionCalls: number }) => void;
}

export interface DriveSyncResult {
  driveId: string;
  pages: number;
  items: number;
  changes: number;
  permissionCalls: number;
  /** extractSensitivityLabels calls after the round (files exposed outside whose content changed). */
  labelCalls: number;
  invalidItems: number;
  /** A 410 made the drive enumerate again. */
  resynced: boolean;
  /** Ended with a fresh deltaLink. */
  completed: boolean;
  /** History source of the label step, which a deferring caller runs after the permission reads. */
  labelSource: ChangeSource;
  error?: CollectError;
}

// ---------- one run per drive at a time ----------

interface Slot {
  current: Promise<DriveSyncResult>;
  queued?: Promise<DriveSyncResult>;
}
const slots = new Map<string, Slot>();

/**
 * Runs one drive's delta (the realtime path and the full sync both come through here).
 * At most one run per drive at a time: a call while one runs queues exactly one follow-up
 * run, and further calls share that follow-up (it starts after them, so it sees their changes).
 */
export function syncDrive(
  ctx: SyncContext,
  driveId: string,
  opts: DriveSyncOptions = {},
): Promise<DriveSyncResult> {
  const key = `${ctx.integration.id}\u0000${driveId}`;
  const slot = slots.get(key);
  if (!slot) {
    const current = runDrive(ctx, driveId, opts).finally(() => {
      const s = slots.get(key);
      if (s && s.current === current) {
        if (s.queued) s.current = s.queued;
        else slots.delete(key);
        s.queued = undefined;
      }
    });
    slots.set(key, { current });
    return current;
  }
  if (!slot.queued) {
    const queued = slot.current
      .catch(() => undefined)
      .then(() => runDrive(ctx, driveId, opts))
      .finally(() => {
        const s = slots.get(key);
        if (s && s.current === queued) {
          if (s.queued) s.current = s.queued;
          else slots.delete(key);
          s.queued = undefined;
        }
      });
    slot.queued = queued;
  }
  return slot.queued;
}

/** True while a run for this drive is in flight (for tests and the realtime path's metrics). */
export function driveSyncInFlight(integrationId: string, driveId: string): boolean {
  return slots.has(`${integrationId}\u0000${driveId}`);
}

// ---------- the run ----------

/** The labels step after a completed round; its failure is recorded, never the drive's. */
export async function readDriveLabels(
  ctx: SyncContext,
  driveId: string,
  source: ChangeSource,
): Promise<number> {
  try {
    return (await extractDriveLabels(ctx, driveId, source)).calls;
  } catch (err) {
    await reportError(ctx, describeError(err, 'item_label', { scope: `drive:${driveId}` }));
    return 0;
  }
}

async function runDrive(ctx: SyncContext, driveId: string, opts: DriveSyncOptions): Promise<DriveSyncResult> {
  const scope = `drive:${driveId}`;
  const integrationId = ctx.integration.id;
  const result: DriveSyncResult = {
    driveId,
    pages: 0,
    items: 0,
    changes: 0,
    permissionCalls: 0,
    labelCalls: 0,
    invalidItems: 0,
    resynced: false,
    completed: false,
    labelSource: opts.mode === 'full' ? 'full' : (opts.source ?? 'delta'),
  };

  // Open per-item errors of this drive get resolved when their item reads fine again.
  const openItemErrors = new Set(
    (
      await ctx.store.db
        .selectFrom('sync_errors')
        .select('resource_id')
        .where('integration_id', '=', integrationId)
        .where('resource_type', '=', 'drive_item')
        .where('resource_id', 'is not', null)
        .where('scope', '=', scope)
        .where('resolved_at', 'is', null)
        .execute()
    ).map((r) => r.resource_id as string),
  );

  /** Change records committed by pages that were not the first enumeration (delta, resync). */
  let deltaChanges = 0;
  // The first enumeration follows the directory read, which just fetched the drive; after
  // a delta (or resync) that changed items, the drive's quota changed too: read it again.
  const refreshQuota = async () => {
    if (deltaChanges === 0) return;
    result.changes += (await refreshDrive(ctx, driveId, opts.source ?? 'delta')).length;
  };
  let feed: FeedResult;
  // Sharing roots the pages bring are read after the feed (permission-reads.ts).
  await markPermissionReads(ctx, driveId, result.labelSource);
  try {
    feed = await runFeed(ctx, {
      scope,
      resource: 'items',
      subject: 'drive_item',
      url: `/drives/${encodeURIComponent(driveId)}/root/delta?$top=${ctx.deltaPageSize ?? 999}`,
      headers: { Prefer: DELTA_PREFER },
      delta: true,
      fresh: opts.mode === 'full',
      source: opts.source ?? 'delta',
      enumerationSource: 'full',
      maxRestarts: 3,
      page: (page) => readPage(page),
      sweep: (actx, started) => sweepDrive(actx, driveId, started),
      committed: (page, records, round) => {
        result.pages++;
        result.changes += records.length;
        if (round.phase !== 'enumerating') deltaChanges += records.length;
        opts.onPage?.({
          driveId,
          items: page.value.length,
          changes: records.length,
          permissionCalls: 0,
        });
      },
    });
    result.resynced = feed.resynced;
    result.completed = true;
  } catch (err) {
    // Files.Read.All missing is an error of the whole resource type; anything else of this drive.
    const e =
      err instanceof GraphError && err.isAccessDenied
        ? describeError(err, 'drive_item', { scope })
        : describeError(err, 'drive_sync', { resourceId: driveId, scope });
    result.error = e;
    await reportError(ctx, e);
    await putSyncState(ctx.store.db, integrationId, scope, {
      lastErrorCode: e.code,
      lastErrorMessage: e.message,
      lastErrorRequestId: e.requestId ?? null,
      lastErrorAt: new Date().toISOString(),
    });
    await refreshQuota();
    return result;
  }
  await resolveSyncErrors(ctx.store.db, integrationId, 'drive_sync', { resourceId: driveId });
  await refreshQuota();
  result.labelSource = feed.resynced
    ? 'resync'
    : feed.kind === 'enumeration'
      ? 'full'
      : (opts.source ?? 'delta');
  if (feed.resynced) await setPermissionReadSource(ctx, driveId, 'resync');
  if (opts.permissions === 'defer') return result;
  try {
    const reads = await readPendingPermissions(ctx, { driveIds: [driveId] });
    result.permissionCalls += reads.calls;
  } catch (err) {
    await reportError(ctx, describeError(err, 'permission', { scope }));
  }
  result.labelCalls = await readDriveLabels(ctx, driveId, result.labelSource);
  return result;

  /** One delta page: items mapped, and the store work committed with the page's checkpoint. */
  async function readPage(page: GraphPage<unknown>): Promise<PageWork> {
    if (!page.nextLink && !page.deltaLink)
      throw new GraphError({
        status: 200,
        code: 'invalidPage',
        message: `drive ${driveId}: delta page has neither nextLink nor deltaLink`,
        requestId: page.requestId,
        resource: 'items',
      });
    const rctx = rowContext(ctx, { drive_id: driveId });
    const entries: Array<{ id: string; row?: ResourceRow }> = [];
    const invalid: CollectError[] = [];
    const pathHints = new Map<string, { name: string; parentId: string | null; isRoot: boolean }>();
    /** Live items of the page (last occurrence wins) and the exposure their shared facet proves. */
    const live = new Map<string, Exposure | null>();
    for (const raw of page.value) {
      const obj = raw as Record<string, unknown> | null;
      const id = typeof obj?.id === 'string' ? obj.id : null;
      if (obj && id && (obj.deleted != null || obj['@removed'] != null)) {
        entries.push({ id });
        live.delete(id);
        continue;
      }
      const parsed = driveItem.schema.safeParse(raw);
      if (!parsed.success) {
        invalid.push({
          resourceType: 'drive_item',
          resourceId: id,
          scope,
          code: 'invalidPayload',
          message: `drive ${driveId}: unexpected item payload: ${zodMessage(parsed.error)}`,
          requestId: page.requestId ?? null,
        });
        // The invalid entry costs only itself: where it sits still names its children's paths.
        const hint = obj && id ? placeOf(obj) : null;
        if (hint && id) pathHints.set(id, hint);
        continue;
      }
      entries.push({ id: parsed.data.id, row: driveItem.toRow(parsed.data, rctx) });
      live.delete(parsed.data.id);
      live.set(
        parsed.data.id,
        parsed.data.shared != null ? exposureOfSharedScope(parsed.data.shared.scope) : null,
      );
    }
    result.items += page.value.length;
    result.invalidItems += invalid.length;

    // Items that are no sharing root (any more) have no permission set of their own; the
    // roots get the exposure their facet proves until their permissions are read.
    const sharing = new Map<string, ResourceRow[] | null>();
    const facet = new Map<string, Exposure>();
    for (const [id, level] of live) {
      if (level === null) sharing.set(id, null);
      else facet.set(id, level);
    }

    const pageIds = new Set(entries.map((e) => e.id));
    return async (actx) => {
      const out: ChangeRecord[] = await applyItemsPage(actx, { driveId, entries, sharing, facet, pathHints });
      for (const e of invalid) await reportError(ctx, e, actx.db);
      const spare = invalid.map((e) => e.resourceId).filter((x): x is string => !!x);
      if (spare.length > 0) await touchRows(actx, itemDef, { drive_id: driveId }, spare);
      const resolved = [...openItemErrors].filter((id) => pageIds.has(id) && !spare.includes(id));
      for (const id of resolved) {
        await resolveSyncErrors(actx.db, integrationId, 'drive_item', { resourceId: id, scope });
        openItemErrors.delete(id);
      }
      return out;
    };
  }
}

/** Name and parent of a raw drive item, when those fields are usable (for paths only). */
function placeOf(
  obj: Record<string, unknown>,
): { name: string; parentId: string | null; isRoot: boolean } | null {
  const isRoot = obj.root != null;
  const parent = obj.parentReference as { id?: unknown } | null | undefined;
  const parentId = typeof parent?.id === 'string' ? parent.id : null;
  if (typeof obj.name !== 'string' || obj.name === '' || obj.name.includes('/')) return null;
  if (!isRoot && !parentId) return null;
  return { name: obj.name, parentId, isRoot };
}
