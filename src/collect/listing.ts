import type { ResourceDef } from '../resources/types.ts';
import { type ChangeSource, sweepScope, upsertRows } from '../store/apply.ts';
import type { SyncContext } from './context.ts';
import { runFeed } from './feed.ts';
import { idOf, mapPayloads, recordInvalid } from './payloads.ts';

export interface ListingOptions {
  /** sync_state scope: users, groups, mfa. */
  scope: string;
  /** Label of the Graph requests (RU accounting); errors name def.type. */
  resource: string;
  // biome-ignore lint/suspicious/noExplicitAny: payload types differ per resource
  def: ResourceDef<any>;
  url: string;
  source: ChangeSource;
  /** Turns a page's entries into the payloads to map (the label catalogue flattens sublabels). */
  flatten?: (values: unknown[]) => unknown[];
}

export interface ListingResult {
  pages: number;
  rows: number;
  changes: number;
  invalid: number;
}

/**
 * A full, checkpointed listing of one resource type (a feed without a deltaLink, see
 * feed.ts): every page is applied in one transaction with its nextLink; the last page sweeps
 * what the listing no longer returned. A killed listing resumes from its nextLink (or
 * restarts when the link no longer works).
 */
export async function collectListing(ctx: SyncContext, o: ListingOptions): Promise<ListingResult> {
  const result: ListingResult = { pages: 0, rows: 0, changes: 0, invalid: 0 };
  const feed = await runFeed(ctx, {
    scope: o.scope,
    resource: o.resource,
    subject: o.def.type,
    url: o.url,
    delta: false,
    source: o.source,
    page: async (page) => {
      const { rows, invalid } = mapPayloads(
        ctx,
        o.def,
        (o.flatten ? o.flatten(page.value) : page.value).map((raw): [string | null, unknown] => [
          idOf(raw),
          raw,
        ]),
        page.requestId ?? null,
        o.scope,
      );
      result.rows += rows.length;
      result.invalid += invalid.length;
      return async (actx) => {
        const out = (await upsertRows(actx, o.def, rows)).changes;
        // Rows that failed validation keep their stored state: bump them so the sweep spares them.
        await recordInvalid(ctx, actx, o.def, invalid);
        return out;
      };
    },
    sweep: (actx, started) => sweepScope(actx, o.def, {}, started),
  });
  result.pages = feed.pages;
  result.changes = feed.changes;
  return result;
}
