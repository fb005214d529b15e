import type { GraphPage } from '../../graph/types.ts';
import { selectParam } from '../../resources/graph-query.ts';
import { group } from '../../resources/group.ts';
import type { ResourceDef } from '../../resources/types.ts';
import { type ChangeSource, removeRows, sweepScope, upsertRows } from '../../store/apply.ts';
import { resolveSyncErrors } from '../../store/sync-state.ts';
import type { SyncContext } from '../context.ts';
import { readTransitiveMembers, removeMembersOfGoneGroups } from '../directory.ts';
import { type FeedRound, type PageWork, runFeed } from '../feed.ts';
import { clean, isObj, mapPayloads, type Obj, recordInvalid } from '../payloads.ts';
import {
  type DirectoryDeltaOptions,
  type DirectoryDeltaResult,
  emptyResult,
  guarded,
  sortPage,
  storedRows,
} from './round.ts';

/** Groups through /groups/delta; see directory-delta.ts for how membership is kept transitive. */

export const GROUPS_DELTA_SCOPE = 'groups-delta';

const groupDef = group as ResourceDef<unknown>;

// members@delta says which groups' transitive members to re-read.
const GROUPS_DELTA_URL = `/groups/delta?$select=${selectParam(group, { delta: true })}`;

export interface GroupsDeltaResult extends DirectoryDeltaResult {
  /** False when transitive members could not be read (403 on group_members, reported). */
  members: boolean;
  /** Groups whose transitive members were re-read. */
  membersReread: number;
}

/**
 * GET /groups/delta with `members`: groups that changed since the stored deltaLink (the
 * first time, or with `fresh`, every group, reconciled at the end). Group properties are
 * upserted over the stored payload; removed groups are tombstoned with their member rows.
 * Membership: see directory-delta.ts — changed groups and every group containing them get
 * their transitiveMembers re-read and their member rows replaced (history per member added
 * or removed). An enumeration re-reads the transitive members of every group it returns.
 */
export async function collectGroupsDelta(
  ctx: SyncContext,
  source: ChangeSource = 'delta',
  opts: DirectoryDeltaOptions = {},
): Promise<GroupsDeltaResult> {
  const members = { denied: false, reread: 0 };
  const r = await guarded<GroupsDeltaResult>(
    ctx,
    group.type,
    opts,
    async () => ({
      ...(await runFeed(ctx, {
        scope: GROUPS_DELTA_SCOPE,
        resource: 'groups',
        subject: group.type,
        url: GROUPS_DELTA_URL,
        delta: true,
        source,
        fresh: opts.fresh ?? false,
        page: (page, round) => groupsPage(ctx, page, round, members),
        sweep: async (actx, started) => [
          ...(await sweepScope(actx, groupDef, {}, started)),
          ...(await removeMembersOfGoneGroups(actx)),
        ],
      })),
      members: true,
      membersReread: 0,
    }),
    () => ({ ...emptyResult(), members: true, membersReread: 0 }),
  );
  r.members = !members.denied && !r.denied;
  r.membersReread = members.reread;
  if (!r.denied && !members.denied && (r.kind === 'enumeration' || members.reread > 0))
    await resolveSyncErrors(ctx.store.db, ctx.integration.id, 'group_member', { onlyTypeWide: true });
  return r;
}

/** Groups that contain any of these groups (group_members is transitive: every ancestor has a row). */
async function ancestorsOf(ctx: SyncContext, ids: string[]): Promise<string[]> {
  const out = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await ctx.store.db
      .selectFrom('group_members')
      .select('group_id')
      .distinct()
      .where('integration_id', '=', ctx.integration.id)
      .where('deleted_at', 'is', null)
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) out.add(r.group_id);
  }
  return [...out];
}

async function groupsPage(
  ctx: SyncContext,
  page: GraphPage<unknown>,
  round: FeedRound,
  members: { denied: boolean; reread: number },
): Promise<PageWork> {
  const requestId = page.requestId ?? null;
  const sorted = sortPage(page.value, 'group', requestId);
  const stored = await storedRows(ctx, 'groups', [...sorted.live.keys()]);
  const merged = new Map<string, Obj>();
  for (const [id, entry] of sorted.live)
    merged.set(id, { ...clean(stored.get(id)?.raw ?? {}), ...clean(entry) });
  const { rows, invalid } = mapPayloads(ctx, groupDef, merged, requestId);
  invalid.push(...sorted.invalid);
  const removed = [...sorted.removed];

  // Whose transitive members to re-read.
  let reread: string[];
  if (round.kind === 'enumeration') reread = rows.map((r) => r.id);
  else {
    const changed = new Set<string>();
    for (const v of page.value) {
      if (!isObj(v) || typeof v.id !== 'string' || sorted.removed.has(v.id)) continue;
      const md = v['members@delta'];
      if (Array.isArray(md) && md.length > 0) changed.add(v.id);
    }
    const affected = new Set([...changed, ...(await ancestorsOf(ctx, [...changed, ...removed]))]);
    for (const id of removed) affected.delete(id);
    reread = [...affected].sort();
  }
  if (reread.length > 0 && !members.denied) {
    // Committed group by group before the page's checkpoint: a killed run re-reads them again.
    if (await readTransitiveMembers(ctx, round.source, reread)) members.reread += reread.length;
    else members.denied = true;
  }

  return async (actx) => {
    const out = (await upsertRows(actx, groupDef, rows)).changes;
    if (removed.length > 0) {
      out.push(...(await removeRows(actx, groupDef, {}, removed)));
      out.push(...(await removeMembersOfGoneGroups(actx)));
    }
    await recordInvalid(ctx, actx, groupDef, invalid);
    return out;
  };
}
