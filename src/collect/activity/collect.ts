import pLimit from 'p-limit';
import { GraphError } from '../../graph/errors.ts';
import type { GraphPage } from '../../graph/types.ts';
import {
  type ContentRead,
  getAuditFeed,
  insertAuditEvents,
  pruneAudit,
  putAuditFeed,
  readContentIds,
  recordContentRead,
} from '../../store/audit.ts';
import { getSyncState } from '../../store/sync-state.ts';
import { type CollectError, describeError, reportError, type SyncContext } from '../context.ts';
import { type FeedSpec, type PageWork, runFeed } from '../feed.ts';
import { type MinutePacer, pacedClient, pacerFor } from './pacer.ts';
import { type AuditEventRow, auditRecordSchema, toAuditEventRow } from './record.ts';
import { resolveInventory } from './resolve.ts';
import { apiTime, HOUR_MS, planWindows, type Window } from './windows.ts';

/**
 * The activity collector: the tenant's Audit.SharePoint feed (Office 365 Management Activity
 * API) into audit_events. One round starts the subscription once, lists content in windows
 * (windows.ts) on the checkpointed-feed helper (every listing page is committed with its
 * events and its NextPageUri), reads each content blob once (audit_content) and stores each
 * record once (audit_events' key is its Id). A missing ActivityFeed.Read (403) or any other
 * failure is recorded as a sync error of type `audit` and ends only this round.
 */

export const AUDIT_CONTENT_TYPE = 'Audit.SharePoint';
const DAY_MS = 24 * HOUR_MS;

export interface ActivityOptions {
  /** The feed's clock (ms); tests pass the simulator's. Default Date.now. */
  now?: () => number;
  /** Each round lists again this far back (default 12 h: content may arrive that late). */
  lateHours?: number;
  /** How far back the first round lists (default 168 h: everything the API still holds). */
  initialLookbackHours?: number;
  /** Events older than this are deleted at the end of the round (default 90). */
  retentionDays?: number;
  /** Budget of Management Activity API requests per minute and tenant (default 1,800 of 2,000). */
  requestsPerMinute?: number;
  /** A pacer to use instead of the process-wide one of the tenant (tests). */
  pacer?: MinutePacer;
  /** Content blobs read at once (default 4). */
  fetchConcurrency?: number;
  /** After each listing page committed (with its events and checkpoint). */
  onPage?: () => void;
}

export interface ActivityResult {
  windows: number;
  /** Content entries listed (blobs, read before or not). */
  contentListed: number;
  /** Blobs read in this round. */
  contentRead: number;
  /** Records in the blobs read (duplicates and re-served records included). */
  eventsSeen: number;
  /** Records stored for the first time. */
  eventsNew: number;
  /** Records the schema rejected (logged, skipped). */
  eventsInvalid: number;
  pruned: number;
  /** Set when the round failed (also recorded in sync_errors as type `audit`). */
  error?: CollectError;
}

interface ContentEntry {
  contentId: string;
  contentUri: string;
  contentCreated: string;
}

function contentEntry(value: unknown): ContentEntry {
  const v = value as Partial<ContentEntry> | null;
  if (!v || typeof v.contentId !== 'string' || typeof v.contentUri !== 'string')
    throw new Error(`a content entry lacks contentId or contentUri: ${JSON.stringify(value).slice(0, 200)}`);
  const created = typeof v.contentCreated === 'string' ? Date.parse(v.contentCreated) : Number.NaN;
  return {
    contentId: v.contentId,
    contentUri: v.contentUri,
    contentCreated: new Date(Number.isNaN(created) ? Date.now() : created).toISOString(),
  };
}

export async function collectActivity(ctx: SyncContext, opts: ActivityOptions = {}): Promise<ActivityResult> {
  const result: ActivityResult = {
    windows: 0,
    contentListed: 0,
    contentRead: 0,
    eventsSeen: 0,
    eventsNew: 0,
    eventsInvalid: 0,
    pruned: 0,
  };
  const now = opts.now ?? Date.now;
  const pacer = opts.pacer ?? pacerFor(ctx.integration.tenantId, opts.requestsPerMinute ?? 1800);
  const paced: SyncContext = { ...ctx, client: pacedClient(ctx.client, pacer) };
  try {
    await ensureSubscription(paced, false);
    await readFeed(paced, opts, now, result);
    const nowMs = now();
    const pruned = await pruneAudit(
      ctx.store.db,
      ctx.integration.id,
      new Date(nowMs - (opts.retentionDays ?? 90) * DAY_MS).toISOString(),
      new Date(nowMs - 8 * DAY_MS).toISOString(),
    );
    result.pruned = pruned.events;
  } catch (err) {
    result.error = describeError(err, 'audit');
    await reportError(ctx, result.error);
  }
  return result;
}

async function readFeed(ctx: SyncContext, opts: ActivityOptions, now: () => number, result: ActivityResult) {
  const feed = await getAuditFeed(ctx.store.db, ctx.integration.id, AUDIT_CONTENT_TYPE);
  const windows = planWindows({
    nowMs: now(),
    listedUntilMs: feed?.listed_until ? Date.parse(feed.listed_until) : null,
    lateMs: (opts.lateHours ?? 12) * HOUR_MS,
    initialLookbackMs: (opts.initialLookbackHours ?? 168) * HOUR_MS,
  });
  if (windows.length === 0) return;
  // A listing interrupted in an earlier round goes on from its stored NextPageUri first.
  const state = await getSyncState(ctx.store.db, ctx.integration.id, feedScope());
  if (state && state.phase !== 'idle' && state.nextLink) await listWindow(ctx, opts, windows[0], result);
  for (const w of windows) {
    await listWindow(ctx, opts, w, result);
    result.windows++;
    await putAuditFeed(ctx.store.db, ctx.integration.id, AUDIT_CONTENT_TYPE, {
      listed_until: new Date(w.endMs).toISOString(),
    });
  }
}

function feedScope(): string {
  return `audit:${AUDIT_CONTENT_TYPE}`;
}

/** Lists one window; a subscription that was stopped meanwhile (AF20022) is started again once. */
async function listWindow(ctx: SyncContext, opts: ActivityOptions, w: Window, result: ActivityResult) {
  try {
    await runFeed(ctx, feedSpec(ctx, opts, w, result));
  } catch (err) {
    if (!(err instanceof GraphError && err.code === 'AF20022')) throw err;
    await ensureSubscription(ctx, true);
    await runFeed(ctx, feedSpec(ctx, opts, w, result));
  }
}

function feedSpec(ctx: SyncContext, opts: ActivityOptions, w: Window, result: ActivityResult): FeedSpec {
  const tenant = encodeURIComponent(ctx.integration.tenantId);
  const query = `contentType=${AUDIT_CONTENT_TYPE}&startTime=${apiTime(w.startMs)}&endTime=${apiTime(w.endMs)}`;
  return {
    scope: feedScope(),
    resource: 'audit',
    subject: 'audit',
    url: `/${tenant}/activity/feed/subscriptions/content?${query}`,
    api: 'management',
    delta: false,
    source: 'poll',
    page: (page) => readPage(ctx, opts, page, result),
    committed: () => opts.onPage?.(),
  };
}

/** Reads the page's blobs not read before (outside the transaction); stores them with the checkpoint. */
async function readPage(
  ctx: SyncContext,
  opts: ActivityOptions,
  page: GraphPage<unknown>,
  result: ActivityResult,
): Promise<PageWork> {
  const entries = page.value.map(contentEntry);
  result.contentListed += entries.length;
  const known = await readContentIds(
    ctx.store.db,
    ctx.integration.id,
    entries.map((e) => e.contentId),
  );
  const fresh = entries.filter((e) => !known.has(e.contentId));
  const limit = pLimit(Math.max(1, opts.fetchConcurrency ?? 4));
  const blobs = await Promise.all(fresh.map((e) => limit(() => readBlob(ctx, e))));
  const rows = new Map<string, AuditEventRow & { content_id: string }>();
  const reads: ContentRead[] = [];
  let seen = 0;
  let invalid = 0;
  for (const blob of blobs) {
    if (!blob) continue;
    reads.push({
      contentId: blob.entry.contentId,
      contentType: AUDIT_CONTENT_TYPE,
      contentCreated: blob.entry.contentCreated,
      events: blob.records.length,
    });
    for (const value of blob.records) {
      seen++;
      const row = parseRecord(ctx, value, blob.entry.contentId);
      if (!row) invalid++;
      else if (!rows.has(row.id)) rows.set(row.id, { ...row, content_id: blob.entry.contentId });
    }
  }
  const list = [...rows.values()];
  await resolveInventory(ctx.store.db, ctx.integration.id, list);
  return async (actx) => {
    const inserted = await insertAuditEvents(
      actx.db,
      actx.dialect,
      ctx.integration.id,
      list.map(({ list_item_id: _hint, ...row }) => row),
      actx.now,
    );
    await recordContentRead(actx.db, ctx.integration.id, reads, actx.now);
    // Counted once the page committed: a crash before this leaves nothing counted.
    result.contentRead += reads.length;
    result.eventsSeen += seen;
    result.eventsNew += inserted;
    result.eventsInvalid += invalid;
    return [];
  };
}

/** One blob's records; a blob that is gone or expired is logged and skipped (not marked read). */
async function readBlob(
  ctx: SyncContext,
  entry: ContentEntry,
): Promise<{ entry: ContentEntry; records: unknown[] } | undefined> {
  try {
    const res = await ctx.client.request<unknown>({
      url: entry.contentUri,
      api: 'management',
      resource: 'audit',
    });
    if (!Array.isArray(res.body)) throw new Error(`content ${entry.contentId} is not an array of records`);
    return { entry, records: res.body };
  } catch (err) {
    if (err instanceof GraphError && (err.code === 'AF20050' || err.code === 'AF20051')) {
      await reportError(ctx, describeError(err, 'audit', { resourceId: entry.contentId }));
      return undefined;
    }
    throw err;
  }
}

function parseRecord(ctx: SyncContext, value: unknown, contentId: string): AuditEventRow | undefined {
  const parsed = auditRecordSchema.safeParse(value);
  try {
    if (parsed.success) return toAuditEventRow(parsed.data);
  } catch {
    // an unreadable CreationTime: reported below like a schema failure
  }
  ctx.logger?.warn(
    { integration: ctx.integration.name, contentId },
    `integration ${ctx.integration.name}: an audit record in content ${contentId} is unreadable and was skipped: ${JSON.stringify(value).slice(0, 200)}`,
  );
  return undefined;
}

/** Starts the subscription unless this integration did before (or `force`: it was stopped). */
async function ensureSubscription(ctx: SyncContext, force: boolean): Promise<void> {
  const feed = await getAuditFeed(ctx.store.db, ctx.integration.id, AUDIT_CONTENT_TYPE);
  if (feed?.subscribed_at && !force) return;
  const tenant = encodeURIComponent(ctx.integration.tenantId);
  try {
    await ctx.client.request({
      method: 'POST',
      url: `/${tenant}/activity/feed/subscriptions/start?contentType=${AUDIT_CONTENT_TYPE}`,
      api: 'management',
      resource: 'audit',
      // Starting twice is answered AF20024 (below): safe to retry.
      idempotent: true,
    });
  } catch (err) {
    // AF20024: the subscription is already enabled (started by another tool or an earlier run).
    if (!(err instanceof GraphError && err.code === 'AF20024')) throw err;
  }
  await putAuditFeed(ctx.store.db, ctx.integration.id, AUDIT_CONTENT_TYPE, {
    subscribed_at: new Date().toISOString(),
  });
}
