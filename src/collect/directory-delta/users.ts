import type { GraphPage } from '../../graph/types.ts';
import { drive } from '../../resources/drive.ts';
import { selectParam } from '../../resources/graph-query.ts';
import { groupMember } from '../../resources/group-member.ts';
import type { ResourceDef, ResourceRow } from '../../resources/types.ts';
import { user } from '../../resources/user.ts';
import { userDrive } from '../../resources/user-drive.ts';
import { userMfa } from '../../resources/user-mfa.ts';
import {
  type ApplyContext,
  type ChangeRecord,
  type ChangeSource,
  removeRows,
  sweepScope,
  upsertRows,
} from '../../store/apply.ts';
import { decodeValue } from '../../store/codec.ts';
import { removeContentsOfRemovedDrives } from '../../store/drive-removal.ts';
import { reportError, rowContext, type SyncContext } from '../context.ts';
import { type PageWork, runFeed } from '../feed.ts';
import { clean, isObj, mapPayloads, type Obj, recordInvalid } from '../payloads.ts';
import {
  type DirectoryDeltaOptions,
  type DirectoryDeltaResult,
  emptyResult,
  guarded,
  sortPage,
  storedRows,
} from './round.ts';
import { type DriveReads, type MfaReads, readDrives, readMfa } from './user-reads.ts';

/** Users through /users/delta; see directory-delta.ts for what delta cannot carry. */

export const USERS_DELTA_SCOPE = 'users-delta';

const userDef = user as ResourceDef<unknown>;
const memberDef = groupMember as ResourceDef<unknown>;
const mfaDef = userMfa as ResourceDef<unknown>;
const driveDef = drive as ResourceDef<unknown>;
const userDriveDef = userDrive as ResourceDef<unknown>;

// signInActivity is not returned by /users/delta; manager is tracked through $select (manager@delta).
const USERS_DELTA_URL = `/users/delta?$select=${selectParam(user, { delta: true })}`;

/**
 * GET /users/delta: users that changed since the stored deltaLink (the first time, or with
 * `fresh`, every user, reconciled at the end). Changed users are upserted over their stored
 * payload (history only for real changes); removed users (`@removed`, changed or deleted)
 * are tombstoned with history, along with what only existed because of them: their MFA
 * registration, their drive mapping (and drive), their group memberships and the manager
 * reference of their reports. Disabled users lose their MFA row (the registration report
 * does not list disabled users). With `related`, users that appeared get their MFA
 * registration and OneDrive read with targeted requests.
 */
export async function collectUsersDelta(
  ctx: SyncContext,
  source: ChangeSource = 'delta',
  opts: DirectoryDeltaOptions = {},
): Promise<DirectoryDeltaResult> {
  const related = opts.related ?? true;
  return guarded(
    ctx,
    user.type,
    opts,
    () =>
      runFeed(ctx, {
        scope: USERS_DELTA_SCOPE,
        resource: 'users',
        subject: user.type,
        url: USERS_DELTA_URL,
        delta: true,
        source,
        fresh: opts.fresh ?? false,
        page: (page) => usersPage(ctx, page, related),
        sweep: async (actx, started) => {
          const gone = await sweepScope(actx, userDef, {}, started);
          if (gone.length === 0) return gone;
          return [
            ...gone,
            ...(await cascadeUserRemoval(
              ctx,
              actx,
              gone.map((c) => c.id),
            )),
          ];
        },
      }),
    emptyResult,
  );
}

async function usersPage(ctx: SyncContext, page: GraphPage<unknown>, related: boolean): Promise<PageWork> {
  const requestId = page.requestId ?? null;
  const sorted = sortPage(page.value, 'user', requestId);
  const stored = await storedRows(ctx, 'users', [...sorted.live.keys()]);
  const merged = new Map<string, Obj>();
  for (const [id, entry] of sorted.live) merged.set(id, mergeUser(stored.get(id)?.raw, entry));
  const { rows, invalid } = mapPayloads(ctx, userDef, merged, requestId);
  invalid.push(...sorted.invalid);
  const valid = new Set(rows.map((r) => r.id));
  const disabled = rows.filter((r) => r.account_enabled === false).map((r) => r.id);

  // Targeted reads for users that appeared (MFA, drive) or were enabled again (MFA).
  const mfa: MfaReads = { rows: [], errors: [], denied: null };
  const drives: DriveReads = { drives: [], statuses: [], errors: [], denied: null };
  if (related) {
    const appeared = [...valid].filter((id) => !stored.has(id));
    const enabled = rows
      .filter((r) => r.account_enabled === true && stored.get(r.id)?.accountEnabled === false)
      .map((r) => r.id);
    const askMfa = rows
      .filter((r) => r.account_enabled !== false && (appeared.includes(r.id) || enabled.includes(r.id)))
      .filter((r) => typeof r.user_principal_name === 'string')
      .map((r) => ({ id: r.id, upn: r.user_principal_name as string }));
    if (askMfa.length > 0) Object.assign(mfa, await readMfa(ctx, askMfa));
    if (appeared.length > 0) Object.assign(drives, await readDrives(ctx, appeared));
  }

  return async (actx) => {
    const out = (await upsertRows(actx, userDef, rows)).changes;
    const removed = [...sorted.removed];
    if (removed.length > 0) {
      out.push(...(await removeRows(actx, userDef, {}, removed)));
      out.push(...(await cascadeUserRemoval(ctx, actx, removed)));
    }
    if (disabled.length > 0) out.push(...(await removeRows(actx, mfaDef, {}, disabled)));
    out.push(...(await upsertRows(actx, mfaDef, mfa.rows)).changes);
    out.push(...(await upsertRows(actx, driveDef, drives.drives)).changes);
    out.push(...(await upsertRows(actx, userDriveDef, drives.statuses)).changes);
    out.push(...(await refreshMemberNames(ctx, actx, out, merged)));
    await recordInvalid(ctx, actx, userDef, invalid);
    for (const e of [...mfa.errors, ...drives.errors]) await reportError(ctx, e, actx.db);
    for (const e of [mfa.denied, drives.denied]) if (e) await reportError(ctx, e, actx.db);
    return out;
  };
}

/** A user entry laid over the stored payload; what delta cannot carry is kept from the last full read. */
function mergeUser(stored: Obj | undefined, entry: Obj): Obj {
  const merged: Obj = { ...(stored ? clean(stored) : {}), ...clean(entry) };
  const managerDelta = entry['manager@delta'];
  if (Array.isArray(managerDelta)) {
    const last = managerDelta.at(-1);
    merged.manager =
      isObj(last) && last['@removed'] === undefined && typeof last.id === 'string' ? { id: last.id } : null;
  }
  // signInActivity never comes from /users/delta: the stored value (last full listing) stays.
  return merged;
}

/**
 * What a full read would no longer return once these users are gone: their MFA row, their
 * drive mapping and drive with its items and permissions (discoverDrives sweeps those too), their (transitive) group
 * memberships, and the manager reference of the users they managed.
 */
async function cascadeUserRemoval(
  ctx: SyncContext,
  actx: ApplyContext,
  ids: string[],
): Promise<ChangeRecord[]> {
  const out: ChangeRecord[] = [];
  out.push(...(await removeRows(actx, mfaDef, {}, ids)));
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const owned = await actx.db
      .selectFrom('user_drives')
      .select('drive_id')
      .where('integration_id', '=', actx.integrationId)
      .where('deleted_at', 'is', null)
      .where('id', 'in', part)
      .where('drive_id', 'is not', null)
      .execute();
    out.push(...(await removeRows(actx, userDriveDef, {}, part)));
    const driveIds = owned.map((d) => d.drive_id as string);
    if (driveIds.length > 0) {
      const gone = await removeRows(actx, driveDef, {}, driveIds);
      out.push(...gone, ...(await removeContentsOfRemovedDrives(actx, gone)));
    }

    const memberships = await actx.db
      .selectFrom('group_members')
      .select(['group_id', 'id'])
      .where('integration_id', '=', actx.integrationId)
      .where('deleted_at', 'is', null)
      .where('id', 'in', part)
      .execute();
    const byGroup = new Map<string, string[]>();
    for (const m of memberships) byGroup.set(m.group_id, [...(byGroup.get(m.group_id) ?? []), m.id]);
    for (const [groupId, memberIds] of byGroup)
      out.push(...(await removeRows(actx, memberDef, { group_id: groupId }, memberIds)));

    const reports = await actx.db
      .selectFrom('users')
      .select(['id', 'raw'])
      .where('integration_id', '=', actx.integrationId)
      .where('deleted_at', 'is', null)
      .where('manager_id', 'in', part)
      .execute();
    const payloads = new Map<string, Obj>();
    for (const r of reports) {
      const raw = decodeValue('json', r.raw);
      if (isObj(raw)) payloads.set(r.id, { ...raw, manager: null });
    }
    const { rows } = mapPayloads(ctx, userDef, payloads, null);
    out.push(...(await upsertRows(actx, userDef, rows)).changes);
  }
  return out;
}

const MEMBER_FIELDS = new Set(['display_name', 'user_principal_name', 'mail']);

/** group_members copies a user's name, UPN and mail: keep those copies in step with the user. */
async function refreshMemberNames(
  ctx: SyncContext,
  actx: ApplyContext,
  changes: ChangeRecord[],
  users: Map<string, Obj>,
): Promise<ChangeRecord[]> {
  const renamed = changes
    .filter(
      (c) =>
        c.resourceType === user.type &&
        c.changeType === 'modified' &&
        c.fields.some((f) => MEMBER_FIELDS.has(f)) &&
        users.has(c.id),
    )
    .map((c) => c.id);
  if (renamed.length === 0) return [];
  const rows: ResourceRow[] = [];
  const members = await actx.db
    .selectFrom('group_members')
    .select(['group_id', 'id', 'raw'])
    .where('integration_id', '=', actx.integrationId)
    .where('deleted_at', 'is', null)
    .where('id', 'in', renamed)
    .execute();
  for (const m of members) {
    const raw = decodeValue('json', m.raw);
    const u = users.get(m.id) as Obj;
    const parsed = groupMember.schema.safeParse({
      ...(isObj(raw) ? raw : { id: m.id }),
      displayName: u.displayName ?? null,
      userPrincipalName: u.userPrincipalName ?? null,
      mail: u.mail ?? null,
    });
    if (parsed.success) rows.push(groupMember.toRow(parsed.data, rowContext(ctx, { group_id: m.group_id })));
  }
  return (await upsertRows(actx, memberDef, rows)).changes;
}
