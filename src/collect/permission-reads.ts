import { sql } from 'kysely';
import { permission } from '../resources/permission.ts';
import type { ResourceRow } from '../resources/types.ts';
import type { ChangeSource } from '../store/apply.ts';
import { applyPermissionSets } from '../store/items.ts';
import { getSyncState, putSyncState, resolveSyncErrors } from '../store/sync-state.ts';
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

/**
 * Permission reads, separated from the item feed so the risk picture comes first.
 *
 * A drive's delta pages store every item with the exposure its `shared` facet proves
 * (store/items.ts, `facet`), and no permission call waits on a page. The sharing roots those
 * pages brought are read afterwards, 20 per $batch, in order of risk: items whose facet says
 * Anyone link first, then organization links, then the rest. The full sync reads them for
 * the whole tenant once every drive's feed is done; a single drive's delta round right after
 * its feed.
 *
 * The work is durable without a table of its own: `markPermissionReads` records in sync_state
 * (scope `permissions:<driveId>`, phase `delta`) the time from which the drive's sharing roots
 * need a read. The roots to read are the live items with access_root_id = id, a shared_scope,
 * and last_seen at or after that time (every item a feed page carries gets last_seen). The
 * state's next_link holds the position reached in risk order, written with each batch's
 * store work, so a killed run resumes where it stopped; phase `idle` means nothing is pending.
 */

const SCOPE_PREFIX = 'permissions:';
const BATCH = 20;
const PAGE = 500;

/** Risk levels in reading order: the `shared` facet's scope says which links an item has. */
const LEVELS = [
  sql`shared_scope = 'anonymous'`,
  sql`shared_scope = 'organization'`,
  sql`shared_scope not in ('anonymous', 'organization')`,
];

export function permissionsScope(driveId: string): string {
  return `${SCOPE_PREFIX}${driveId}`;
}

interface Position {
  source: ChangeSource;
  /** Which marking this position belongs to: a drive marked again while its reads run starts over. */
  mark: string;
  /** Risk level reached and the last item read in it; null: nothing read yet. */
  level: number | null;
  after: string | null;
}

interface PendingDrive {
  since: number;
  position: Position;
  /** next_link as last read or written here: reads are done only while it is unchanged. */
  stored: string | null;
  /** Marked again by a newer round while these reads ran: that round's reads start over. */
  stale?: boolean;
}

function parsePosition(text: string | null, fallback: ChangeSource): Position {
  if (text) {
    try {
      const p = JSON.parse(text) as Partial<Position>;
      return {
        source: p.source ?? fallback,
        mark: p.mark ?? '',
        level: p.level ?? null,
        after: p.after ?? null,
      };
    } catch {
      // An unreadable position starts the drive's reads over: reading twice is harmless.
    }
  }
  return { source: fallback, mark: '', level: null, after: null };
}

/**
 * Before a drive's feed round: its sharing roots seen from now on await a permission read.
 * Reads still pending from an earlier round stay pending (the earlier start is kept) and
 * start over in risk order, since the new round may bring riskier items.
 */
export async function markPermissionReads(
  ctx: SyncContext,
  driveId: string,
  source: ChangeSource,
): Promise<void> {
  const scope = permissionsScope(driveId);
  const state = await getSyncState(ctx.store.db, ctx.integration.id, scope);
  const pendingSince = state?.phase === 'delta' ? state.enumerationStartedAt : null;
  await putSyncState(ctx.store.db, ctx.integration.id, scope, {
    phase: 'delta',
    enumerationStartedAt: pendingSince ?? new Date().toISOString(),
    nextLink: JSON.stringify({
      source,
      mark: `${Date.now()}-${Math.random().toString(36).slice(2)}`,
      level: null,
      after: null,
    } satisfies Position),
  });
}

/** The source of a drive's pending reads changes (its round turned into a resync). */
export async function setPermissionReadSource(
  ctx: SyncContext,
  driveId: string,
  source: ChangeSource,
): Promise<void> {
  const scope = permissionsScope(driveId);
  const state = await getSyncState(ctx.store.db, ctx.integration.id, scope);
  if (state?.phase !== 'delta') return;
  const p = parsePosition(state.nextLink, source);
  await putSyncState(ctx.store.db, ctx.integration.id, scope, {
    nextLink: JSON.stringify({ ...p, source }),
  });
}

export interface PermissionReadResult {
  /** Permission calls (batch sub-requests and follow-up pages). */
  calls: number;
  /** Sharing roots whose permission set was read and stored. */
  read: number;
  /** Drives whose pending reads were all done. */
  drivesDone: number;
  /** Files.Read.All (or the permissions read) is denied: reads stay pending. */
  denied: boolean;
}

export interface PermissionReadOptions {
  /** Only these drives (a single drive's round); default: every drive with reads pending. */
  driveIds?: string[];
  /** $batch calls in flight at once (results are stored in the order they were asked). */
  concurrency?: number;
  /** After each batch is stored. */
  onBatch?: (info: { calls: number; read: number }) => void;
  /**
   * Checked before each batch: once true, no further batch is sent; those in flight are
   * stored and the positions kept, so a later call resumes there (drivesDone stays 0).
   */
  stop?: () => boolean;
}

/**
 * Reads the permissions of every pending sharing root, riskiest first (see the module
 * comment), and stores each batch's sets with their grants and the access they give.
 * Each risk level's requests are all answered before the next level's are sent.
 */
export async function readPendingPermissions(
  ctx: SyncContext,
  opts: PermissionReadOptions = {},
): Promise<PermissionReadResult> {
  const result: PermissionReadResult = { calls: 0, read: 0, drivesDone: 0, denied: false };
  const pending = await pendingDrives(ctx, opts.driveIds);
  if (pending.size === 0) return result;
  const limit = Math.max(1, opts.concurrency ?? 4);
  let readable = false;
  let stopped = false;
  const halted = () => {
    stopped ||= opts.stop?.() === true;
    return result.denied || stopped;
  };

  for (let level = 0; level < LEVELS.length && !halted(); level++) {
    const inFlight = new Set<Promise<unknown>>();
    let stored: Promise<void> = Promise.resolve();
    let buffer: Array<{ driveId: string; id: string }> = [];
    const send = async () => {
      const part = buffer;
      buffer = [];
      while (inFlight.size >= limit) await Promise.race(inFlight);
      const fetched = fetchSets(ctx, part);
      const tracked = fetched.then(
        () => undefined,
        () => undefined,
      );
      inFlight.add(tracked);
      void tracked.finally(() => inFlight.delete(tracked));
      // Stored in the order asked, so each drive's position only moves forward.
      stored = stored.then(async () => {
        const f = await fetched;
        result.calls += f.calls;
        if (f.readable) readable = true;
        if (f.denied) result.denied = true;
        await storeBatch(ctx, pending, level, part, f);
        result.read += f.sets.size;
        opts.onBatch?.({ calls: f.calls, read: f.sets.size });
      });
    };
    try {
      for await (const rows of rootsAtLevel(ctx, level, opts.driveIds)) {
        for (const r of rows) {
          const p = pending.get(r.driveId);
          if (!p || r.lastSeen < p.since) continue;
          const { level: at, after } = p.position;
          if (at !== null && (at > level || (at === level && after !== null && r.id <= after))) continue;
          buffer.push({ driveId: r.driveId, id: r.id });
          if (buffer.length === BATCH && !halted()) await send();
          if (halted()) break;
        }
        if (halted()) break;
      }
      if (buffer.length > 0 && !halted()) await send();
    } finally {
      // Every batch asked is stored (or has failed) before the next level's first request.
      await Promise.allSettled(inFlight);
    }
    await stored;
  }

  if (readable)
    await resolveSyncErrors(ctx.store.db, ctx.integration.id, 'permission', { onlyTypeWide: true });
  if (!result.denied && !stopped) result.drivesDone = await finish(ctx, pending);
  return result;
}

/** Drives with reads pending: when their roots need a read, and how far the reads got. */
async function pendingDrives(ctx: SyncContext, only?: string[]): Promise<Map<string, PendingDrive>> {
  let q = ctx.store.db
    .selectFrom('sync_state')
    .select(['scope', 'enumeration_started_at', 'next_link'])
    .where('integration_id', '=', ctx.integration.id)
    .where('phase', '=', 'delta')
    .where('enumeration_started_at', 'is not', null);
  q = only
    ? q.where(
        'scope',
        'in',
        only.map((d) => permissionsScope(d)),
      )
    : q.where('scope', 'like', `${SCOPE_PREFIX}%`);
  const out = new Map<string, PendingDrive>();
  if (only && only.length === 0) return out;
  for (const r of await q.execute()) {
    out.set(r.scope.slice(SCOPE_PREFIX.length), {
      since: new Date(String(r.enumeration_started_at)).getTime(),
      position: parsePosition(r.next_link, 'full'),
      stored: r.next_link,
    });
  }
  return out;
}

/**
 * The integration's sharing roots at one risk level, in (drive, id) order, a page at a time.
 * For a root access_root_id = id, so the order is that of the drive_items_access index.
 */
async function* rootsAtLevel(
  ctx: SyncContext,
  level: number,
  driveIds?: string[],
): AsyncGenerator<Array<{ driveId: string; id: string; lastSeen: number }>> {
  const drives = driveIds ?? [null];
  for (const only of drives) {
    let after: [string, string] | null = null;
    for (;;) {
      const page: { rows: Array<{ drive_id: string; id: string; last_seen: unknown }> } = await sql<{
        drive_id: string;
        id: string;
        last_seen: unknown;
      }>`
        select drive_id, id, last_seen from drive_items
        where integration_id = ${ctx.integration.id}
          ${only === null ? sql`` : sql`and drive_id = ${only}`}
          and access_root_id is not null and access_root_id = id
          and deleted_at is null and ${LEVELS[level]}
          ${after === null ? sql`` : sql`and (drive_id, access_root_id) > (${after[0]}, ${after[1]})`}
        order by drive_id, access_root_id
        limit ${PAGE}`.execute(ctx.store.db);
      const rows = page.rows;
      if (rows.length === 0) break;
      const last = rows[rows.length - 1];
      after = [last.drive_id, last.id];
      yield rows.map((r) => ({
        driveId: r.drive_id,
        id: r.id,
        lastSeen: new Date(r.last_seen as string).getTime(),
      }));
      if (rows.length < PAGE) break;
    }
  }
}

interface FetchedSets {
  /** driveId → itemId → the item's permission rows as read (empty: it has none, or it is gone). */
  sets: Map<string, Map<string, ResourceRow[]>>;
  errors: CollectError[];
  calls: number;
  readable: boolean;
  denied: boolean;
}

/** One $batch of permission listings (pages after the first followed one by one). */
async function fetchSets(
  ctx: SyncContext,
  part: Array<{ driveId: string; id: string }>,
): Promise<FetchedSets> {
  const out: FetchedSets = { sets: new Map(), errors: [], calls: 0, readable: false, denied: false };
  const urlOf = (driveId: string, id: string) =>
    `/drives/${encodeURIComponent(driveId)}/items/${encodeURIComponent(id)}/permissions`;
  const responses = await ctx.client.batch<{ value?: unknown[]; '@odata.nextLink'?: string }>(
    part.map((p, j) => ({ id: String(j), url: urlOf(p.driveId, p.id), resource: 'permissions' })),
  );
  out.calls += part.length;
  const setOf = (driveId: string, id: string, rows: ResourceRow[]) => {
    const m = out.sets.get(driveId) ?? new Map<string, ResourceRow[]>();
    out.sets.set(driveId, m);
    m.set(id, rows);
  };
  for (let j = 0; j < part.length; j++) {
    const { driveId, id: itemId } = part[j];
    const scope = `drive:${driveId}`;
    const res = responses[j];
    const requestId = res.headers?.['request-id'] ?? null;
    if (res.status === 404) {
      // Gone since the feed served it: its removal follows in the drive's next round.
      setOf(driveId, itemId, []);
      continue;
    }
    if (res.status < 200 || res.status >= 300 || !Array.isArray(res.body?.value)) {
      const err = batchError(res, 'permissions', urlOf(driveId, itemId));
      if (err.isAccessDenied) {
        out.errors.push(describeError(err, 'permission'));
        out.denied = true;
        break;
      }
      out.errors.push(describeError(err, 'permission', { resourceId: itemId, scope }));
      continue;
    }
    out.readable = true;
    const values: unknown[] = [...res.body.value];
    const next = res.body['@odata.nextLink'];
    try {
      if (next)
        for await (const p of ctx.client.pages<unknown>({ url: next, resource: 'permissions' })) {
          values.push(...p.value);
          out.calls++;
        }
    } catch (err) {
      out.errors.push(describeError(err, 'permission', { resourceId: itemId, scope }));
      continue;
    }
    const rows: ResourceRow[] = [];
    let bad = false;
    for (const raw of values) {
      const parsed = permission.schema.safeParse(raw);
      if (!parsed.success) {
        bad = true;
        out.errors.push({
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
    if (!bad) setOf(driveId, itemId, rows);
  }
  return out;
}

/**
 * One batch's store work in one transaction: the sets with their grants and access, the
 * errors, and each drive's position. Sources differ per drive, so a batch that spans
 * drives of several sources commits once per source.
 */
async function storeBatch(
  ctx: SyncContext,
  pending: Map<string, PendingDrive>,
  level: number,
  part: Array<{ driveId: string; id: string }>,
  f: FetchedSets,
): Promise<void> {
  const lastOf = new Map<string, string>();
  if (!f.denied) for (const p of part) lastOf.set(p.driveId, p.id);
  const bySource = new Map<ChangeSource, string[]>();
  for (const driveId of new Set(part.map((p) => p.driveId))) {
    const source = pending.get(driveId)?.position.source ?? 'full';
    bySource.set(source, [...(bySource.get(source) ?? []), driveId]);
  }
  let first = true;
  for (const [source, driveIds] of bySource) {
    const errors = first ? f.errors : [];
    first = false;
    await inTransaction(ctx, source, async (actx) => {
      const records = [];
      for (const driveId of driveIds) {
        const sets = f.sets.get(driveId);
        if (sets && sets.size > 0) records.push(...(await applyPermissionSets(actx, driveId, sets)));
        const after = lastOf.get(driveId);
        const p = pending.get(driveId);
        if (after === undefined || !p || p.stale) continue;
        p.position = { ...p.position, level, after };
        const next = JSON.stringify(p.position);
        // Only while the marking is the one these reads started from.
        const moved = await actx.db
          .updateTable('sync_state')
          .set({ next_link: next, updated_at: actx.now })
          .where('integration_id', '=', ctx.integration.id)
          .where('scope', '=', permissionsScope(driveId))
          .where('next_link', p.stored === null ? 'is' : '=', p.stored)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) > 0) p.stored = next;
        else p.stale = true;
      }
      for (const e of errors) await reportError(ctx, e, actx.db);
      return records;
    });
  }
}

/** Pending drives whose reads were all done; a drive marked again meanwhile stays pending. */
async function finish(ctx: SyncContext, pending: Map<string, PendingDrive>): Promise<number> {
  const now = new Date().toISOString();
  let done = 0;
  for (const [driveId, p] of pending) {
    if (p.stale) continue;
    const r = await ctx.store.db
      .updateTable('sync_state')
      .set({ phase: 'idle', next_link: null, last_success_at: now, updated_at: now })
      .where('integration_id', '=', ctx.integration.id)
      .where('scope', '=', permissionsScope(driveId))
      .where('phase', '=', 'delta')
      .where('next_link', p.stored === null ? 'is' : '=', p.stored)
      .executeTakeFirst();
    done += Number(r.numUpdatedRows);
  }
  return done;
}
