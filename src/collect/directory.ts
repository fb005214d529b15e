import { GraphError } from '../graph/errors.ts';
import type { BatchItemResponse } from '../graph/types.ts';
import { expandParam, selectParam } from '../resources/graph-query.ts';
import { groupMember } from '../resources/group-member.ts';
import type { ResourceDef, ResourceRow } from '../resources/types.ts';
import { user } from '../resources/user.ts';
import { userMfa } from '../resources/user-mfa.ts';
import {
  type ApplyContext,
  type ChangeRecord,
  type ChangeSource,
  replaceScope,
  sweepScope,
  upsertRows,
} from '../store/apply.ts';
import { putSyncState, resolveSyncErrors } from '../store/sync-state.ts';
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
import { collectListing } from './listing.ts';

const memberDef = groupMember as ResourceDef<unknown>;

async function restartListing(ctx: SyncContext, scope: string): Promise<void> {
  await putSyncState(ctx.store.db, ctx.integration.id, scope, {
    phase: 'enumerating',
    enumerationStartedAt: new Date().toISOString(),
    nextLink: null,
  });
}

/** Users with the security fields, their managers and (when allowed) sign-in activity. */
export async function collectUsers(
  ctx: SyncContext,
  source: ChangeSource = 'full',
): Promise<{ signInActivity: boolean }> {
  const expand = `$expand=${expandParam(user)}`;
  const listing = (url: string) =>
    collectListing(ctx, { scope: 'users', resource: 'users', def: user, url, source });
  try {
    await listing(`/users?$select=${selectParam(user, { gated: true })}&${expand}&$top=999`);
    await resolveSyncErrors(ctx.store.db, ctx.integration.id, 'signInActivity');
    return { signInActivity: true };
  } catch (err) {
    if (!(err instanceof GraphError && err.isAccessDenied)) throw err;
    // signInActivity needs AuditLog.Read.All and P1/P2: collect users without it.
    await restartListing(ctx, 'users');
    await listing(`/users?$select=${selectParam(user)}&${expand}&$top=999`);
    await reportError(ctx, describeError(err, 'signInActivity'));
    return { signInActivity: false };
  }
}

/** GET /reports/authenticationMethods/userRegistrationDetails (AuditLog.Read.All). */
export async function collectMfa(ctx: SyncContext, source: ChangeSource = 'full'): Promise<void> {
  await collectListing(ctx, {
    scope: 'mfa',
    resource: 'mfa',
    def: userMfa,
    url: '/reports/authenticationMethods/userRegistrationDetails',
    source,
  });
}

/** Tombstones the member rows of groups that are no longer live (inside the caller's transaction). */
export async function removeMembersOfGoneGroups(actx: ApplyContext): Promise<ChangeRecord[]> {
  const gone = await actx.db
    .selectFrom('group_members')
    .select('group_id')
    .distinct()
    .where('integration_id', '=', actx.integrationId)
    .where('deleted_at', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('groups')
            .select('groups.id')
            .whereRef('groups.integration_id', '=', 'group_members.integration_id')
            .whereRef('groups.id', '=', 'group_members.group_id')
            .where('groups.deleted_at', 'is', null),
        ),
      ),
    )
    .execute();
  const out: ChangeRecord[] = [];
  for (const g of gone) out.push(...(await replaceScope(actx, memberDef, { group_id: g.group_id }, [])));
  return out;
}

/**
 * Re-reads the transitive members of these groups (20 per $batch) and replaces each group's
 * member rows with them. False when the app may not read members (403, reported).
 */
export async function readTransitiveMembers(
  ctx: SyncContext,
  source: ChangeSource,
  groupIds: string[],
): Promise<boolean> {
  for (let start = 0; start < groupIds.length; start += 20) {
    const part = groupIds.slice(start, start + 20);
    const responses = await ctx.client.batch<{ value?: unknown[]; '@odata.nextLink'?: string }>(
      part.map((id, i) => ({
        id: String(i),
        url: `/groups/${encodeURIComponent(id)}/transitiveMembers?$select=${selectParam(groupMember)}&$top=999`,
        resource: 'group_members',
      })),
    );
    for (let i = 0; i < part.length; i++) {
      const ok = await applyMembers(ctx, source, part[i], responses[i]);
      if (ok === 'denied') return false;
    }
  }
  return true;
}

async function applyMembers(
  ctx: SyncContext,
  source: ChangeSource,
  groupId: string,
  first: BatchItemResponse<{ value?: unknown[]; '@odata.nextLink'?: string }>,
): Promise<'ok' | 'denied' | 'skipped'> {
  const url = `/groups/${groupId}/transitiveMembers`;
  if (first.status === 404) return 'skipped';
  if (first.status < 200 || first.status >= 300 || !Array.isArray(first.body?.value)) {
    const err = batchError(first as BatchItemResponse<unknown>, 'group_members', url);
    if (err.isAccessDenied) {
      await reportError(ctx, describeError(err, 'group_member'));
      return 'denied';
    }
    await reportError(ctx, describeError(err, 'group_member', { resourceId: groupId }));
    return 'skipped';
  }
  const scope = { group_id: groupId };
  const requestId = first.headers?.['request-id'] ?? null;
  const mapPage = (values: unknown[], reqId: string | null) => {
    const rows: ResourceRow[] = [];
    const invalid: CollectError[] = [];
    for (const raw of values) {
      const parsed = groupMember.schema.safeParse(raw);
      if (!parsed.success) {
        const id = (raw as { id?: unknown })?.id;
        invalid.push({
          resourceType: 'group_member',
          resourceId: typeof id === 'string' ? `${groupId}/${id}` : groupId,
          code: 'invalidPayload',
          message: `unexpected group member payload: ${zodMessage(parsed.error)}`,
          requestId: reqId,
        });
        continue;
      }
      rows.push(groupMember.toRow(parsed.data, rowContext(ctx, scope)));
    }
    return { rows, invalid };
  };
  const nextLink = first.body['@odata.nextLink'];
  const firstPage = mapPage(first.body.value, requestId);
  if (!nextLink) {
    await inTransaction(ctx, source, async (actx) => {
      for (const e of firstPage.invalid) await reportError(ctx, e, actx.db);
      if (firstPage.invalid.length > 0) {
        // Keep members that could not be read this time.
        const out = (await upsertRows(actx, memberDef, firstPage.rows)).changes;
        return out;
      }
      return replaceScope(actx, memberDef, scope, firstPage.rows);
    });
    return 'ok';
  }
  // Several pages: upsert page by page, then sweep what the listing no longer returned.
  const started = new Date().toISOString();
  let invalidSeen = firstPage.invalid.length > 0;
  await inTransaction(ctx, source, async (actx) => {
    for (const e of firstPage.invalid) await reportError(ctx, e, actx.db);
    return (await upsertRows(actx, memberDef, firstPage.rows)).changes;
  });
  for await (const page of ctx.client.pages<unknown>({ url: nextLink, resource: 'group_members' })) {
    const mapped = mapPage(page.value, page.requestId ?? null);
    invalidSeen ||= mapped.invalid.length > 0;
    await inTransaction(ctx, source, async (actx) => {
      for (const e of mapped.invalid) await reportError(ctx, e, actx.db);
      return (await upsertRows(actx, memberDef, mapped.rows)).changes;
    });
  }
  // A member that could not be read this time is kept rather than removed.
  if (!invalidSeen) await inTransaction(ctx, source, (actx) => sweepScope(actx, memberDef, scope, started));
  return 'ok';
}
