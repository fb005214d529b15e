import { GraphError } from '../graph/errors.ts';
import type { ResourceDef, ResourceRow } from '../resources/types.ts';
import {
  type ApplyContext,
  type ChangeRecord,
  type ChangeSource,
  sweepScope,
  touchRows,
  upsertRows,
} from '../store/apply.ts';
import { getSyncState, putSyncState, resolveSyncErrors } from '../store/sync-state.ts';
import {
  type CollectError,
  inTransaction,
  reportError,
  rowContext,
  type SyncContext,
  zodMessage,
} from './context.ts';

export interface ListingOptions {
  /** sync_state scope: users, groups, mfa. */
  scope: string;
  /** Label of the Graph requests (RU accounting); errors name def.type. */
  resource: string;
  // biome-ignore lint/suspicious/noExplicitAny: payload types differ per resource
  def: ResourceDef<any>;
  url: string;
  headers?: Record<string, string>;
  source: ChangeSource;
  /** Extra work per page inside its transaction (e.g. managers fetched beforehand). */
  beforeMap?: (items: unknown[]) => Promise<void>;
  /** Extra rows work inside the page transaction. */
  onPage?: (actx: ApplyContext, rows: ResourceRow[]) => Promise<ChangeRecord[]>;
}

export interface ListingResult {
  pages: number;
  rows: number;
  changes: number;
  invalid: number;
}

/**
 * A full, checkpointed listing of one resource type: every page is applied in one
 * transaction with its nextLink; the last page sweeps what the listing no longer returned.
 * A killed listing resumes from its nextLink (or restarts when the link no longer works).
 */
export async function collectListing(ctx: SyncContext, o: ListingOptions): Promise<ListingResult> {
  const integrationId = ctx.integration.id;
  const state = await getSyncState(ctx.store.db, integrationId, o.scope);
  let started: string;
  let url = o.url;
  let resuming = false;
  if (state?.phase === 'enumerating' && state.enumerationStartedAt) {
    started = state.enumerationStartedAt;
    if (state.nextLink) {
      url = state.nextLink;
      resuming = true;
    }
  } else {
    started = new Date().toISOString();
    await putSyncState(ctx.store.db, integrationId, o.scope, {
      phase: 'enumerating',
      enumerationStartedAt: started,
      nextLink: null,
    });
  }
  const result: ListingResult = { pages: 0, rows: 0, changes: 0, invalid: 0 };
  try {
    await run(url);
  } catch (err) {
    // A stale resume link: start the listing over (rows are idempotent, the sweep uses the new start).
    if (
      resuming &&
      err instanceof GraphError &&
      err.status >= 400 &&
      err.status < 500 &&
      !err.isAccessDenied
    ) {
      started = new Date().toISOString();
      await putSyncState(ctx.store.db, integrationId, o.scope, {
        phase: 'enumerating',
        enumerationStartedAt: started,
        nextLink: null,
      });
      await run(o.url);
    } else {
      throw err;
    }
  }
  return result;

  async function run(startUrl: string): Promise<void> {
    for await (const page of ctx.client.pages<unknown>({
      url: startUrl,
      headers: o.headers,
      resource: o.resource,
    })) {
      result.pages++;
      if (o.beforeMap) await o.beforeMap(page.value);
      const rows: ResourceRow[] = [];
      const invalid: CollectError[] = [];
      for (const raw of page.value) {
        const parsed = o.def.schema.safeParse(raw);
        const id = typeof (raw as { id?: unknown })?.id === 'string' ? (raw as { id: string }).id : null;
        if (!parsed.success) {
          invalid.push({
            resourceType: o.def.type,
            resourceId: id,
            scope: o.scope,
            code: 'invalidPayload',
            message: `unexpected ${o.def.type} payload: ${zodMessage(parsed.error)}`,
            requestId: page.requestId ?? null,
          });
          continue;
        }
        rows.push(o.def.toRow(parsed.data, rowContext(ctx)));
      }
      result.rows += rows.length;
      result.invalid += invalid.length;
      const last = !page.nextLink;
      const records = await inTransaction(ctx, o.source, async (actx) => {
        const out = (await upsertRows(actx, o.def, rows)).changes;
        if (o.onPage) out.push(...(await o.onPage(actx, rows)));
        // Rows that failed validation keep their stored state: bump them so the sweep spares them.
        for (const e of invalid) await reportError(ctx, e, actx.db);
        const spare = invalid.map((e) => e.resourceId).filter((x): x is string => !!x);
        if (spare.length > 0) await touchRows(actx, o.def, {}, spare);
        if (last) {
          out.push(...(await sweepScope(actx, o.def, {}, started)));
          await putSyncState(actx.db, integrationId, o.scope, {
            phase: 'idle',
            nextLink: null,
            lastFullSyncAt: actx.now,
            lastSuccessAt: actx.now,
            lastErrorCode: null,
            lastErrorMessage: null,
            lastErrorRequestId: null,
          });
          await resolveSyncErrors(actx.db, integrationId, o.def.type, { onlyTypeWide: true });
        } else {
          await putSyncState(actx.db, integrationId, o.scope, { nextLink: page.nextLink ?? null });
        }
        return out;
      });
      result.changes += records.length;
    }
  }
}
