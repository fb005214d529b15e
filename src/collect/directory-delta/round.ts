/** What the users and groups delta rounds share: options, results, reading a page, stored payloads. */
import { GraphError } from '../../graph/errors.ts';
import type { ErrorSubject, ResourceType } from '../../resources/types.ts';
import { decodeValue } from '../../store/codec.ts';
import { type CollectError, describeError, reportError, type SyncContext } from '../context.ts';
import type { FeedResult } from '../feed.ts';
import { isObj, type Obj } from '../payloads.ts';

export interface DirectoryDeltaOptions {
  /**
   * Ignore the stored deltaLink and enumerate afresh, reconciling at the end (an enumeration
   * already in progress resumes).
   */
  fresh?: boolean;
  /**
   * Users only: read the MFA registration and the OneDrive of users that appeared (and MFA of
   * users re-enabled) with targeted requests (default true). syncIntegration passes false: it
   * lists MFA and discovers drives itself.
   */
  related?: boolean;
  /** Throw a 403 on the delta feed instead of recording it as an error of the resource type. */
  throwDenied?: boolean;
}

export interface DirectoryDeltaResult extends FeedResult {
  /** Set when the app may not read the feed (403): recorded as an error of that resource type. */
  denied?: CollectError;
}

export const emptyResult = (): DirectoryDeltaResult => ({
  kind: 'incremental',
  resynced: false,
  pages: 0,
  entries: 0,
  changes: 0,
});

/** Runs a round; a 403 on the feed becomes an error of the resource type (unless `throwDenied`). */
export async function guarded<R extends DirectoryDeltaResult>(
  ctx: SyncContext,
  subject: ErrorSubject,
  opts: DirectoryDeltaOptions,
  work: () => Promise<R>,
  empty: () => R,
): Promise<R> {
  try {
    return await work();
  } catch (err) {
    if (opts.throwDenied || !(err instanceof GraphError && err.isAccessDenied)) throw err;
    const e = describeError(err, subject);
    await reportError(ctx, e);
    return { ...empty(), denied: e };
  }
}

export interface SortedPage {
  /** Last occurrence of each live object (an object can appear more than once: the last wins). */
  live: Map<string, Obj>;
  removed: Set<string>;
  invalid: CollectError[];
}

/** A delta page's entries by id: live (the last occurrence wins) or removed; entries without an id are errors. */
export function sortPage(
  values: unknown[],
  resourceType: ResourceType,
  requestId: string | null,
): SortedPage {
  const out: SortedPage = { live: new Map(), removed: new Set(), invalid: [] };
  for (const raw of values) {
    const id = isObj(raw) && typeof raw.id === 'string' && raw.id !== '' ? raw.id : null;
    if (!isObj(raw) || id === null) {
      out.invalid.push({
        resourceType,
        code: 'invalidPayload',
        message: `unexpected ${resourceType} delta entry without an id`,
        requestId,
      });
      continue;
    }
    out.live.delete(id);
    if (raw['@removed'] !== undefined) out.removed.add(id);
    else {
      out.removed.delete(id);
      out.live.set(id, raw);
    }
  }
  return out;
}

/** Live stored rows of a table (raw payload and a few typed columns) by id. */
export async function storedRows(
  ctx: SyncContext,
  table: 'users' | 'groups',
  ids: string[],
): Promise<Map<string, { raw: Obj; accountEnabled: boolean | null }>> {
  const out = new Map<string, { raw: Obj; accountEnabled: boolean | null }>();
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    if (table === 'users') {
      const rows = await ctx.store.db
        .selectFrom('users')
        .select(['id', 'raw', 'account_enabled'])
        .where('integration_id', '=', ctx.integration.id)
        .where('deleted_at', 'is', null)
        .where('id', 'in', part)
        .execute();
      for (const r of rows) {
        const raw = decodeValue('json', r.raw);
        out.set(r.id, {
          raw: isObj(raw) ? raw : {},
          accountEnabled: decodeValue('boolean', r.account_enabled) as boolean | null,
        });
      }
    } else {
      const rows = await ctx.store.db
        .selectFrom('groups')
        .select(['id', 'raw'])
        .where('integration_id', '=', ctx.integration.id)
        .where('deleted_at', 'is', null)
        .where('id', 'in', part)
        .execute();
      for (const r of rows) {
        const raw = decodeValue('json', r.raw);
        out.set(r.id, { raw: isObj(raw) ? raw : {}, accountEnabled: null });
      }
    }
  }
  return out;
}
