import { GraphError } from '../graph/errors.ts';
import type { GraphPage, GraphRequest } from '../graph/types.ts';
import type { ErrorSubject } from '../resources/types.ts';
import type { ApplyContext, ChangeRecord, ChangeSource } from '../store/apply.ts';
import { getSyncState, putSyncState, resolveSyncErrors, type SyncPhase } from '../store/sync-state.ts';
import { inTransaction, type SyncContext } from './context.ts';

/**
 * The checkpointed feed every collector pages through: a listing (`/users`, the MFA report)
 * or a delta feed (`/users/delta`, `/groups/delta`, a drive's `/root/delta`).
 *
 * - Every page is applied in one transaction together with its checkpoint (the nextLink, or
 *   on the last page the deltaLink), so a killed round resumes exactly where it stopped.
 * - A round is an *enumeration* (from the feed's first URL; the last page sweeps what it did
 *   not return) or, for delta feeds, *incremental* (from the stored deltaLink).
 * - The round's state lives in sync_state under `scope`: phase `enumerating` / `resyncing`
 *   (an enumeration in progress, with its start time for the sweep), `delta` (an incremental
 *   round in progress), `idle` (done).
 * - A 410 or an expired token (`resyncRequired`, `syncState…`), or a 4xx on a stored link
 *   the round resumed from, restarts the round as a fresh enumeration. After a lost delta
 *   token that enumeration is a resync: its changes are recorded with source `resync`.
 */

export type FeedKind = 'enumeration' | 'incremental';

/** The round a page belongs to. */
export interface FeedRound {
  kind: FeedKind;
  /** The phase stored with each checkpoint: enumerating, resyncing or delta. */
  phase: Exclude<SyncPhase, 'idle'>;
  /** History source of the round's changes. */
  source: ChangeSource;
  /** When the enumeration started (rows not seen since are swept); null for incremental rounds. */
  started: string | null;
}

/** A page's store work: runs inside the page's transaction, before its checkpoint is written. */
export type PageWork = (actx: ApplyContext) => Promise<ChangeRecord[]>;

export interface FeedSpec {
  /** sync_state scope of the feed: users, users-delta, drive:<id>, … */
  scope: string;
  /** Label of the Graph requests (RU accounting). */
  resource: string;
  /** Whose type-wide errors (a 403 on the feed, …) a completed round resolves. */
  subject: ErrorSubject;
  /** First page of an enumeration. */
  url: string;
  headers?: Record<string, string>;
  api?: GraphRequest['api'];
  /** A delta feed ends with a deltaLink that the next round continues from; a listing enumerates every round. */
  delta: boolean;
  /** Delta feeds: enumerate even when a deltaLink is stored (an enumeration in progress still resumes). */
  fresh?: boolean;
  /** History source of incremental rounds, and of enumerations unless `enumerationSource` says otherwise. */
  source: ChangeSource;
  enumerationSource?: ChangeSource;
  /** Fresh enumerations one call may restart after a lost token or a stale link (default 1). */
  maxRestarts?: number;
  /**
   * Graph work of one page, outside any transaction (reads that must not hold the write
   * lock: permissions, members, MFA); returns the store work committed with the checkpoint.
   * Throwing here fails the round without committing the page.
   */
  page(page: GraphPage<unknown>, round: FeedRound): Promise<PageWork>;
  /** In the last page's transaction of an enumeration: remove what it did not return (last_seen < started). */
  sweep?(actx: ApplyContext, started: string): Promise<ChangeRecord[]>;
  /** After a page's transaction committed and its change records were published. */
  committed?(page: GraphPage<unknown>, records: ChangeRecord[], round: FeedRound): void;
}

export interface FeedResult {
  /** The kind of the round that ran last (an enumeration after a restart). */
  kind: FeedKind;
  /** The round restarted as a fresh enumeration (lost token or stale link). */
  resynced: boolean;
  /** Pages committed. */
  pages: number;
  /** Entries of the committed pages, as served (live, changed and removed objects). */
  entries: number;
  /** History records written. */
  changes: number;
}

/** An expired or reset delta token: the feed must be read again from scratch. */
export function needsResync(err: GraphError): boolean {
  return err.isResyncRequired || /^syncState/i.test(err.code);
}

/** Pages through the feed from its stored checkpoint to its end; see the module comment. */
export async function runFeed(ctx: SyncContext, spec: FeedSpec): Promise<FeedResult> {
  const integrationId = ctx.integration.id;
  const result: FeedResult = { kind: 'incremental', resynced: false, pages: 0, entries: 0, changes: 0 };
  let { url, round, fromLink } = await resumePoint(ctx, spec);
  for (let restarts = 0; ; restarts++) {
    try {
      await walk(url, round);
      return result;
    } catch (err) {
      if (!(restarts < (spec.maxRestarts ?? 1) && restartable(err, fromLink))) throw err;
      const resync = spec.delta && (round.kind === 'incremental' || needsResync(err));
      ctx.logger?.info(
        { integration: ctx.integration.name, scope: spec.scope, code: err.code, requestId: err.requestId },
        `integration ${ctx.integration.name}: ${spec.resource} ${spec.delta ? 'delta' : 'listing'} restarts from scratch (${err.status} ${err.code})`,
      );
      result.resynced = true;
      round = await beginEnumeration(ctx, spec, resync ? 'resyncing' : 'enumerating');
      url = spec.url;
      fromLink = false;
    }
  }

  async function walk(startUrl: string, r: FeedRound): Promise<void> {
    result.kind = r.kind;
    for await (const page of ctx.client.pages<unknown>({
      url: startUrl,
      headers: spec.headers,
      api: spec.api,
      resource: spec.resource,
    })) {
      const work = await spec.page(page, r);
      const records = await inTransaction(ctx, r.source, async (actx) => {
        const out = await work(actx);
        if (page.nextLink) {
          await putSyncState(actx.db, integrationId, spec.scope, { phase: r.phase, nextLink: page.nextLink });
          return out;
        }
        if (r.kind === 'enumeration' && r.started !== null && spec.sweep)
          out.push(...(await spec.sweep(actx, r.started)));
        await putSyncState(actx.db, integrationId, spec.scope, {
          phase: 'idle',
          nextLink: null,
          ...(spec.delta ? { deltaLink: page.deltaLink ?? null, lastDeltaAt: actx.now } : {}),
          ...(r.kind === 'enumeration' ? { lastFullSyncAt: actx.now } : {}),
          lastSuccessAt: actx.now,
          lastErrorCode: null,
          lastErrorMessage: null,
          lastErrorRequestId: null,
        });
        await resolveSyncErrors(actx.db, integrationId, spec.subject, { onlyTypeWide: true });
        return out;
      });
      result.pages++;
      result.entries += page.value.length;
      result.changes += records.length;
      spec.committed?.(page, records, r);
    }
  }
}

/**
 * A lost token restarts any round; another 4xx (not a 403) only a round that resumed from a
 * stored link, which may have gone stale. Anything else is the caller's error.
 */
function restartable(err: unknown, fromLink: boolean): err is GraphError {
  if (!(err instanceof GraphError) || err.isAccessDenied) return false;
  return needsResync(err) || (fromLink && err.status >= 400 && err.status < 500);
}

/** Where a round starts: an interrupted round resumes, a delta feed continues from its deltaLink, else a fresh enumeration. */
async function resumePoint(
  ctx: SyncContext,
  spec: FeedSpec,
): Promise<{ url: string; round: FeedRound; fromLink: boolean }> {
  const state = await getSyncState(ctx.store.db, ctx.integration.id, spec.scope);
  if ((state?.phase === 'enumerating' || state?.phase === 'resyncing') && state.enumerationStartedAt) {
    // An enumeration in progress: on from its last checkpoint (or its start, before its first page).
    return {
      url: state.nextLink ?? spec.url,
      fromLink: state.nextLink !== null,
      round: enumeration(spec, state.phase, state.enumerationStartedAt),
    };
  }
  if (spec.delta && !spec.fresh && state) {
    const link = state.phase === 'delta' && state.nextLink ? state.nextLink : state.deltaLink;
    if (link) {
      return {
        url: link,
        fromLink: true,
        round: { kind: 'incremental', phase: 'delta', source: spec.source, started: null },
      };
    }
  }
  return { url: spec.url, fromLink: false, round: await beginEnumeration(ctx, spec, 'enumerating') };
}

function enumeration(spec: FeedSpec, phase: 'enumerating' | 'resyncing', started: string): FeedRound {
  const source = phase === 'resyncing' ? 'resync' : (spec.enumerationSource ?? spec.source);
  return { kind: 'enumeration', phase, source, started };
}

/** Records the start of a fresh enumeration (its sweep removes what is not seen after this time). */
async function beginEnumeration(
  ctx: SyncContext,
  spec: FeedSpec,
  phase: 'enumerating' | 'resyncing',
): Promise<FeedRound> {
  const started = new Date().toISOString();
  await putSyncState(ctx.store.db, ctx.integration.id, spec.scope, {
    phase,
    enumerationStartedAt: started,
    nextLink: null,
  });
  return enumeration(spec, phase, started);
}
