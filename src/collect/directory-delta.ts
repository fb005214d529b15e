import { getSyncState, listSyncErrors } from '../store/sync-state.ts';
import type { SyncContext } from './context.ts';
import { collectUsers } from './directory.ts';
import { collectGroupsDelta } from './directory-delta/groups.ts';
import { collectUsersDelta } from './directory-delta/users.ts';

/**
 * Incremental directory collection: GET /users/delta and GET /groups/delta.
 *
 * Both run on the checkpointed feed (feed.ts). A round continues from the stored deltaLink
 * (sync_state scopes `users-delta` and `groups-delta`); without one it is a fresh
 * enumeration that ends with a sweep of what it did not return. Every page is applied in one
 * transaction together with its checkpoint (nextLink, or the deltaLink on the last page), so
 * a killed round resumes where it stopped. A 410 (or an expired token: 400
 * `syncStateNotFound`, seven days for directory objects) restarts a fresh enumeration whose
 * reconciliation is recorded with source `resync`.
 *
 * The parts: directory-delta/users.ts (and user-reads.ts, the targeted MFA and drive reads),
 * directory-delta/groups.ts, directory-delta/round.ts (what both share).
 *
 * What /users/delta cannot carry (Microsoft's delta-query overview and the simulator agree):
 * - `signInActivity` is stored outside the directory's main store: it is not returned by
 *   delta and a sign-in never makes a user appear in it. It is kept from the last full
 *   listing (collectUsers), which syncUsers re-runs in delta mode once it is a day old.
 * - `$expand` is not supported on user/group delta, so `$expand=manager` is not available.
 *   Graph tracks the manager through `$select=manager` (a `manager@delta` annotation); it is
 *   selected and applied when present, otherwise the manager is kept from the last full
 *   listing. (The simulator accepts `manager` in $select but never sends `manager@delta`.)
 * - Delta may return only some properties of an updated object ("at least the properties
 *   that have been updated"): every entry is laid over the stored payload, never used alone.
 * - `$top` is not supported on directory delta: pages are whatever Graph serves.
 *
 * Group membership: the inventory's group_members holds TRANSITIVE members
 * (/groups/{id}/transitiveMembers), while `members@delta` lists direct members only. The
 * annotation is therefore used as a signal, not as data: a group whose members@delta is
 * non-empty, plus every group that (transitively) contains it, has its transitiveMembers
 * re-read and its member rows replaced. Direct and transitive rows are never mixed.
 */

export { collectGroupsDelta, GROUPS_DELTA_SCOPE, type GroupsDeltaResult } from './directory-delta/groups.ts';
export type { DirectoryDeltaOptions, DirectoryDeltaResult } from './directory-delta/round.ts';
export { collectUsersDelta, USERS_DELTA_SCOPE } from './directory-delta/users.ts';

/** In delta mode the full user listing (sign-in activity, manager) is refreshed once it is this old. */
export const USERS_LISTING_MAX_AGE_MS = 24 * 60 * 60 * 1000;

/** Whether delta mode must still run the full user listing (for what /users/delta cannot carry). */
export async function usersListingDue(ctx: SyncContext): Promise<boolean> {
  const db = ctx.store.db;
  const listing = await getSyncState(db, ctx.integration.id, 'users');
  if (!listing?.lastFullSyncAt || listing.phase === 'enumerating') return true;
  if (Date.now() - Date.parse(listing.lastFullSyncAt) > USERS_LISTING_MAX_AGE_MS) return true;
  // Sign-in activity was denied last time: try again (the permission or licence may be there now).
  const open = await listSyncErrors(db, ctx.integration.id, { open: true, resourceType: 'signInActivity' });
  return open.some((e) => e.resource_id === null);
}

/**
 * Users for syncIntegration. Full mode (and delta mode when the listing is due, see
 * usersListingDue): the full listing with sign-in activity and managers, then the users
 * delta from its deltaLink (seeding one with a fresh enumeration the first time) so the
 * next delta round starts from here. Delta mode otherwise: the users delta only.
 * signInActivity: true/false when the listing ran, null when it did not.
 */
export async function syncUsers(
  ctx: SyncContext,
  mode: 'full' | 'delta',
): Promise<{ signInActivity: boolean | null }> {
  if (mode === 'full' || (await usersListingDue(ctx))) {
    const r = await collectUsers(ctx, 'full');
    await collectUsersDelta(ctx, 'full', { related: false, throwDenied: true });
    return { signInActivity: r.signInActivity };
  }
  await collectUsersDelta(ctx, 'delta', { related: false, throwDenied: true });
  return { signInActivity: null };
}

/**
 * Groups for syncIntegration. Full mode: a fresh /groups/delta enumeration (every group,
 * every group's transitive members, reconciliation) which also resets the deltaLink.
 * Delta mode: the groups delta from the stored deltaLink.
 */
export async function syncGroups(ctx: SyncContext, mode: 'full' | 'delta'): Promise<{ members: boolean }> {
  const r = await collectGroupsDelta(ctx, mode, { fresh: mode === 'full', throwDenied: true });
  return { members: r.members };
}
