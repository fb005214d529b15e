import { GraphError } from '../graph/errors.ts';
import type { GraphPage } from '../graph/types.ts';
import { driveItem, sharedChanged } from '../resources/drive-item.ts';
import { permission } from '../resources/permission.ts';
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
import { batchError } from './graph-util.ts';
import { extractDriveLabels } from './labels.ts';

/** Sharing roots only (hierarchicalsharing) plus sharing changes and removals in the feed. */
export const DELTA_PREFER =
  'hierarchicalsharing, deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges';

const itemDef = driveItem as ResourceDef<unknown>;

export interface DriveSyncOptions {
  /** full: enumerate the drive from scratch (unless an enumeration is in progress: it resumes). delta (default): continue from the stored deltaLink, enumerating when there is none. */
  mode?: 'full' | 'delta';
  /** History source of a delta round: delta (default), webhook or poll. */
  source?: 'delta' | 'webhook' | 'poll';
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
async function readLabels(ctx: SyncContext, driveId: string, source: ChangeSource): Promise<number> {
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

  let permissionsReadable = false;
  /** Change records committed by pages that were not the first enumeration (delta, resync). */
  let deltaChanges = 0;
  // The first enumeration follows the directory read, which just fetched the drive; after
  // a delta (or resync) that changed items, the drive's quota changed too: read it again.
  const refreshQuota = async () => {
    if (deltaChanges === 0) return;
    result.changes += (await refreshDrive(ctx, driveId, opts.source ?? 'delta')).length;
  };
  /** Permission calls per page, for onPage. */
  const pageCalls = new WeakMap<GraphPage<unknown>, number>();
  let feed: FeedResult;
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
          permissionCalls: pageCalls.get(page) ?? 0,
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
  if (permissionsReadable)
    await resolveSyncErrors(ctx.store.db, integrationId, 'permission', { onlyTypeWide: true });
  await refreshQuota();
  const labelSource = feed.resynced
    ? 'resync'
    : feed.kind === 'enumeration'
      ? 'full'
      : (opts.source ?? 'delta');
  result.labelCalls = await readLabels(ctx, driveId, labelSource);
  return result;

  /**
   * One delta page: items mapped, the sharing roots' permissions read (outside any
   * transaction), and the store work committed with the page's checkpoint.
   */
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
    const live = new Map<string, { shared: boolean; changed: boolean }>();
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
        continue;
      }
      entries.push({ id: parsed.data.id, row: driveItem.toRow(parsed.data, rctx) });
      live.delete(parsed.data.id);
      live.set(parsed.data.id, { shared: parsed.data.shared != null, changed: sharedChanged(parsed.data) });
    }
    result.items += page.value.length;
    result.invalidItems += invalid.length;

    // Permissions of the sharing roots in this page, fetched before the transaction opens.
    const sharedIds = [...live].filter(([, v]) => v.shared).map(([id]) => id);
    const fetched = await fetchPermissions(sharedIds);
    pageCalls.set(page, fetched.calls);
    // Items that are no sharing root (any more) have no permission set of their own; a
    // root whose permissions could not be read keeps what is stored.
    const sharing = new Map<string, ResourceRow[] | null>();
    for (const [id, v] of live) {
      if (!v.shared) sharing.set(id, null);
      else {
        const set = fetched.sets.get(id);
        if (set) sharing.set(id, set);
      }
    }

    const pageIds = new Set(entries.map((e) => e.id));
    return async (actx) => {
      const out: ChangeRecord[] = await applyItemsPage(actx, { driveId, entries, sharing });
      for (const e of [...invalid, ...fetched.errors]) await reportError(ctx, e, actx.db);
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

  async function fetchPermissions(
    itemIds: string[],
  ): Promise<{ sets: Map<string, ResourceRow[]>; errors: CollectError[]; calls: number }> {
    const sets = new Map<string, ResourceRow[]>();
    const errors: CollectError[] = [];
    let calls = 0;
    let denied = false;
    for (let i = 0; i < itemIds.length && !denied; i += 20) {
      const part = itemIds.slice(i, i + 20);
      const urlOf = (id: string) =>
        `/drives/${encodeURIComponent(driveId)}/items/${encodeURIComponent(id)}/permissions`;
      const responses = await ctx.client.batch<{ value?: unknown[]; '@odata.nextLink'?: string }>(
        part.map((id, j) => ({ id: String(j), url: urlOf(id), resource: 'permissions' })),
      );
      calls += part.length;
      for (let j = 0; j < part.length; j++) {
        const itemId = part[j];
        const res = responses[j];
        const requestId = res.headers?.['request-id'] ?? null;
        if (res.status === 404) {
          // Gone since the page was served: its removal follows in the feed.
          sets.set(itemId, []);
          continue;
        }
        if (res.status < 200 || res.status >= 300 || !Array.isArray(res.body?.value)) {
          const err = batchError(res, 'permissions', urlOf(itemId));
          if (err.isAccessDenied) {
            errors.push(describeError(err, 'permission'));
            denied = true;
            break;
          }
          errors.push(describeError(err, 'permission', { resourceId: itemId, scope }));
          continue;
        }
        permissionsReadable = true;
        const values: unknown[] = [...res.body.value];
        let next = res.body['@odata.nextLink'];
        try {
          if (next) {
            for await (const p of ctx.client.pages<unknown>({ url: next, resource: 'permissions' })) {
              values.push(...p.value);
              calls++;
            }
            next = undefined;
          }
        } catch (err) {
          errors.push(describeError(err, 'permission', { resourceId: itemId, scope }));
          continue;
        }
        const rows: ResourceRow[] = [];
        let bad = false;
        for (const raw of values) {
          const parsed = permission.schema.safeParse(raw);
          if (!parsed.success) {
            bad = true;
            errors.push({
              resourceType: 'permission',
              resourceId: itemId,
              scope,
              code: 'invalidPayload',
              message: `drive ${driveId} item ${itemId}: unexpected permission payload: ${zodMessage(parsed.error)}`,
              requestId,
            });
            break;
          }
          rows.push(permission.toRow(parsed.data, rowContext(ctx, { drive_id: driveId, item_id: itemId })));
        }
        // A set with an unreadable permission is left as stored rather than half-replaced.
        if (!bad) sets.set(itemId, rows);
      }
    }
    return { sets, errors, calls };
  }
}
