import { GraphError } from '../graph/errors.ts';
import { drive } from '../resources/drive.ts';
import { selectParam } from '../resources/graph-query.ts';
import { group } from '../resources/group.ts';
import { groupMember } from '../resources/group-member.ts';
import type { ErrorSubject, ResourceDef, ResourceRow, ResourceType } from '../resources/types.ts';
import { user } from '../resources/user.ts';
import { userDrive } from '../resources/user-drive.ts';
import { userMfa } from '../resources/user-mfa.ts';
import {
  type ApplyContext,
  type ChangeRecord,
  type ChangeSource,
  removeRows,
  sweepScope,
  touchRows,
  upsertRows,
} from '../store/apply.ts';
import { decodeValue } from '../store/codec.ts';
import { removeContentsOfRemovedDrives } from '../store/drive-removal.ts';
import { getSyncState, listSyncErrors, putSyncState, resolveSyncErrors } from '../store/sync-state.ts';
import {
  type CollectError,
  describeError,
  inTransaction,
  reportError,
  rowContext,
  type SyncContext,
  zodMessage,
} from './context.ts';
import { collectUsers, readTransitiveMembers, removeMembersOfGoneGroups } from './directory.ts';
import { batchError } from './graph-util.ts';

/**
 * Incremental directory collection: GET /users/delta and GET /groups/delta.
 *
 * A round continues from the stored deltaLink (sync_state scopes `users-delta` and
 * `groups-delta`); without one it is a fresh enumeration that ends with a sweep of what it
 * did not return. Every page is applied in one transaction together with its checkpoint
 * (nextLink, or the deltaLink on the last page), so a killed round resumes where it stopped.
 * A 410 (or an expired token: 400 `syncStateNotFound`, seven days for directory objects)
 * restarts a fresh enumeration whose reconciliation is recorded with source `resync`.
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

export const USERS_DELTA_SCOPE = 'users-delta';
export const GROUPS_DELTA_SCOPE = 'groups-delta';
/** In delta mode the full user listing (sign-in activity, manager) is refreshed once it is this old. */
export const USERS_LISTING_MAX_AGE_MS = 24 * 60 * 60 * 1000;

const userDef = user as ResourceDef<unknown>;
const groupDef = group as ResourceDef<unknown>;
const memberDef = groupMember as ResourceDef<unknown>;
const mfaDef = userMfa as ResourceDef<unknown>;
const driveDef = drive as ResourceDef<unknown>;
const userDriveDef = userDrive as ResourceDef<unknown>;

// signInActivity is not returned by /users/delta; manager is tracked through $select (manager@delta).
const USERS_DELTA_URL = `/users/delta?$select=${selectParam(user, { delta: true })}`;
// members@delta says which groups' transitive members to re-read.
const GROUPS_DELTA_URL = `/groups/delta?$select=${selectParam(group, { delta: true })}`;

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

export interface DirectoryDeltaResult {
  /** enumeration: a fresh full read (with reconciliation); incremental: changes since the deltaLink. */
  kind: 'enumeration' | 'incremental';
  /** A 410 / expired token forced a fresh enumeration. */
  resynced: boolean;
  pages: number;
  /** Entries served by Graph (changed, added and removed objects). */
  entries: number;
  /** History records written. */
  changes: number;
  /** Set when the app may not read the feed (403): recorded as an error of that resource type. */
  denied?: CollectError;
}

export interface GroupsDeltaResult extends DirectoryDeltaResult {
  /** False when transitive members could not be read (403 on group_members, reported). */
  members: boolean;
  /** Groups whose transitive members were re-read. */
  membersReread: number;
}

// ---------- the round ----------

type RoundKind = DirectoryDeltaResult['kind'];

interface PageInfo {
  kind: RoundKind;
  source: ChangeSource;
  requestId: string | null;
}

type PageWork = (actx: ApplyContext) => Promise<ChangeRecord[]>;

interface RoundOptions {
  scope: string;
  /** Label of the Graph requests (RU accounting). */
  resource: 'users' | 'groups';
  /** Whose type-wide errors a finished round resolves. */
  subject: ErrorSubject;
  startUrl: string;
  source: ChangeSource;
  fresh: boolean;
  /** Graph work for one page (outside any transaction); returns the page's store work. */
  page(values: unknown[], info: PageInfo): Promise<PageWork>;
  /** Inside the last page's transaction of an enumeration: remove what it did not return. */
  sweep(actx: ApplyContext, started: string): Promise<ChangeRecord[]>;
}

/** An expired or reset delta token: the round must start again from scratch. */
function needsResync(err: GraphError): boolean {
  return err.isResyncRequired || /^syncState/i.test(err.code);
}

async function runRound(ctx: SyncContext, o: RoundOptions): Promise<DirectoryDeltaResult> {
  const integrationId = ctx.integration.id;
  const result: DirectoryDeltaResult = {
    kind: 'incremental',
    resynced: false,
    pages: 0,
    entries: 0,
    changes: 0,
  };
  const state = await getSyncState(ctx.store.db, integrationId, o.scope);
  let url: string;
  let kind: RoundKind;
  let started = '';
  let fromLink = true;
  if (state?.nextLink && (state.phase === 'enumerating' || (state.phase === 'delta' && !o.fresh))) {
    // A killed round resumes from its page checkpoint.
    url = state.nextLink;
    kind = state.phase === 'enumerating' ? 'enumeration' : 'incremental';
    started = state.enumerationStartedAt ?? new Date().toISOString();
  } else if (state?.deltaLink && !o.fresh) {
    url = state.deltaLink;
    kind = 'incremental';
  } else {
    started = await beginEnumeration();
    url = o.startUrl;
    kind = 'enumeration';
    fromLink = false;
  }
  try {
    await walk(url, kind, o.source);
  } catch (err) {
    const restartable =
      fromLink &&
      err instanceof GraphError &&
      (needsResync(err) || (err.status >= 400 && err.status < 500 && !err.isAccessDenied));
    if (!restartable) throw err;
    // An expired/reset token (or a stale resume link): enumerate again and reconcile.
    ctx.logger?.info(
      { integration: ctx.integration.name, scope: o.scope, code: err.code, requestId: err.requestId },
      `integration ${ctx.integration.name}: ${o.resource} delta restarts from scratch (${err.status} ${err.code})`,
    );
    result.resynced = true;
    started = await beginEnumeration();
    await walk(o.startUrl, 'enumeration', kind === 'incremental' || needsResync(err) ? 'resync' : o.source);
  }
  return result;

  async function beginEnumeration(): Promise<string> {
    const at = new Date().toISOString();
    await putSyncState(ctx.store.db, integrationId, o.scope, {
      phase: 'enumerating',
      enumerationStartedAt: at,
      nextLink: null,
    });
    return at;
  }

  async function walk(startUrl: string, k: RoundKind, source: ChangeSource): Promise<void> {
    result.kind = k;
    for await (const page of ctx.client.pages<unknown>({ url: startUrl, resource: o.resource })) {
      result.pages++;
      result.entries += page.value.length;
      const work = await o.page(page.value, { kind: k, source, requestId: page.requestId ?? null });
      const last = !page.nextLink;
      const records = await inTransaction(ctx, source, async (actx) => {
        const out = await work(actx);
        if (!last) {
          await putSyncState(actx.db, integrationId, o.scope, {
            phase: k === 'enumeration' ? 'enumerating' : 'delta',
            nextLink: page.nextLink ?? null,
          });
          return out;
        }
        if (k === 'enumeration') out.push(...(await o.sweep(actx, started)));
        await putSyncState(actx.db, integrationId, o.scope, {
          phase: 'idle',
          nextLink: null,
          deltaLink: page.deltaLink ?? null,
          lastDeltaAt: actx.now,
          lastSuccessAt: actx.now,
          ...(k === 'enumeration' ? { lastFullSyncAt: actx.now } : {}),
          lastErrorCode: null,
          lastErrorMessage: null,
          lastErrorRequestId: null,
        });
        await resolveSyncErrors(actx.db, integrationId, o.subject, { onlyTypeWide: true });
        return out;
      });
      result.changes += records.length;
    }
  }
}

async function guarded<R extends DirectoryDeltaResult>(
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

// ---------- payload helpers ----------

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The payload without delta annotations (members@delta, manager@delta, @removed, @odata.context …). */
function clean(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) if (!k.includes('@') || k === '@odata.type') out[k] = v;
  return out;
}

interface SortedPage {
  /** Last occurrence of each live object (an object can appear more than once: the last wins). */
  live: Map<string, Obj>;
  removed: Set<string>;
  invalid: CollectError[];
}

function sortPage(values: unknown[], resourceType: ResourceType, info: PageInfo): SortedPage {
  const out: SortedPage = { live: new Map(), removed: new Set(), invalid: [] };
  for (const raw of values) {
    const id = isObj(raw) && typeof raw.id === 'string' && raw.id !== '' ? raw.id : null;
    if (!isObj(raw) || id === null) {
      out.invalid.push({
        resourceType,
        code: 'invalidPayload',
        message: `unexpected ${resourceType} delta entry without an id`,
        requestId: info.requestId,
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
async function storedRows(
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

/** Maps payloads with a resource definition; failures become errors (and ids to spare from sweeps). */
function mapRows(
  ctx: SyncContext,
  // biome-ignore lint/suspicious/noExplicitAny: payload types differ per resource
  def: ResourceDef<any>,
  payloads: Map<string, Obj>,
  info: PageInfo,
  scope?: string,
): { rows: ResourceRow[]; invalid: CollectError[] } {
  const rows: ResourceRow[] = [];
  const invalid: CollectError[] = [];
  for (const [id, payload] of payloads) {
    const parsed = def.schema.safeParse(payload);
    if (!parsed.success) {
      invalid.push({
        resourceType: def.type,
        resourceId: id,
        scope,
        code: 'invalidPayload',
        message: `unexpected ${def.type} payload: ${zodMessage(parsed.error)}`,
        requestId: info.requestId,
      });
      continue;
    }
    rows.push(def.toRow(parsed.data, rowContext(ctx)));
  }
  return { rows, invalid };
}

async function recordInvalid(
  ctx: SyncContext,
  actx: ApplyContext,
  def: ResourceDef<unknown>,
  invalid: CollectError[],
): Promise<void> {
  for (const e of invalid) await reportError(ctx, e, actx.db);
  // Objects Graph returned but that could not be mapped keep their stored state (and survive a sweep).
  const spare = invalid.map((e) => e.resourceId).filter((x): x is string => !!x);
  if (spare.length > 0) await touchRows(actx, def, {}, spare);
}

// ---------- users ----------

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
      runRound(ctx, {
        scope: USERS_DELTA_SCOPE,
        resource: 'users',
        subject: user.type,
        startUrl: USERS_DELTA_URL,
        source,
        fresh: opts.fresh ?? false,
        page: (values, info) => usersPage(ctx, values, info, related),
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
    () => ({ kind: 'incremental', resynced: false, pages: 0, entries: 0, changes: 0 }),
  );
}

async function usersPage(
  ctx: SyncContext,
  values: unknown[],
  info: PageInfo,
  related: boolean,
): Promise<PageWork> {
  const sorted = sortPage(values, 'user', info);
  const stored = await storedRows(ctx, 'users', [...sorted.live.keys()]);
  const merged = new Map<string, Obj>();
  for (const [id, entry] of sorted.live) merged.set(id, mergeUser(stored.get(id)?.raw, entry));
  const { rows, invalid } = mapRows(ctx, userDef, merged, info);
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
    const { rows } = mapRows(ctx, userDef, payloads, {
      kind: 'incremental',
      source: actx.source,
      requestId: null,
    });
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

interface MfaReads {
  rows: ResourceRow[];
  errors: CollectError[];
  denied: CollectError | null;
}

/** The registration report filtered per user (only $filter/$orderby are supported), 20 per $batch. */
async function readMfa(ctx: SyncContext, users: Array<{ id: string; upn: string }>): Promise<MfaReads> {
  const out: MfaReads = { rows: [], errors: [], denied: null };
  for (let i = 0; i < users.length; i += 20) {
    const part = users.slice(i, i + 20);
    const urls = part.map(
      (u) =>
        `/reports/authenticationMethods/userRegistrationDetails?$filter=${encodeURIComponent(
          `userPrincipalName eq '${u.upn.replace(/'/g, "''")}'`,
        )}`,
    );
    const responses = await ctx.client.batch<{ value?: unknown[] }>(
      part.map((_, k) => ({ id: String(k), url: urls[k], resource: 'mfa' })),
    );
    for (let k = 0; k < part.length; k++) {
      const res = responses[k];
      if (res.status >= 200 && res.status < 300 && Array.isArray(res.body?.value)) {
        for (const v of res.body.value) {
          const parsed = userMfa.schema.safeParse(v);
          if (parsed.success && parsed.data.id === part[k].id)
            out.rows.push(userMfa.toRow(parsed.data, rowContext(ctx)));
        }
        continue;
      }
      const err = batchError(res as never, 'mfa', urls[k]);
      if (err.isAccessDenied) {
        out.denied = describeError(err, 'user_mfa');
        return out;
      }
      out.errors.push(describeError(err, 'user_mfa', { resourceId: part[k].id }));
    }
  }
  return out;
}

interface DriveReads {
  drives: ResourceRow[];
  statuses: ResourceRow[];
  errors: CollectError[];
  denied: CollectError | null;
}

/** GET /users/{id}/drive for users that appeared (as discoverDrives does for everyone), 20 per $batch. */
async function readDrives(ctx: SyncContext, userIds: string[]): Promise<DriveReads> {
  const out: DriveReads = { drives: [], statuses: [], errors: [], denied: null };
  for (let i = 0; i < userIds.length; i += 20) {
    const part = userIds.slice(i, i + 20);
    const responses = await ctx.client.batch(
      part.map((id, k) => ({
        id: String(k),
        url: `/users/${encodeURIComponent(id)}/drive`,
        resource: 'drives',
      })),
    );
    for (let k = 0; k < part.length; k++) {
      const userId = part[k];
      const res = responses[k];
      if (res.status >= 200 && res.status < 300) {
        const parsed = drive.schema.safeParse(res.body);
        if (!parsed.success) {
          out.errors.push({
            resourceType: 'drive',
            resourceId: userId,
            code: 'invalidPayload',
            message: `unexpected drive payload for user ${userId}: ${zodMessage(parsed.error)}`,
            requestId: res.headers?.['request-id'] ?? null,
          });
          continue;
        }
        out.drives.push(drive.toRow(parsed.data, rowContext(ctx)));
        out.statuses.push(
          userDrive.toRow(
            { id: userId, driveId: parsed.data.id, provisioned: true, code: null },
            rowContext(ctx),
          ),
        );
      } else if (res.status === 404) {
        const body = res.body as { error?: { code?: string } } | undefined;
        out.statuses.push(
          userDrive.toRow(
            { id: userId, driveId: null, provisioned: false, code: body?.error?.code ?? 'itemNotFound' },
            rowContext(ctx),
          ),
        );
      } else {
        const err = batchError(res, 'drives', `/users/${userId}/drive`);
        if (err.isAccessDenied) {
          out.denied = describeError(err, 'drive');
          return out;
        }
        out.errors.push(describeError(err, 'drive', { resourceId: userId }));
      }
    }
  }
  return out;
}

// ---------- groups ----------

/**
 * GET /groups/delta with `members`: groups that changed since the stored deltaLink (the
 * first time, or with `fresh`, every group, reconciled at the end). Group properties are
 * upserted over the stored payload; removed groups are tombstoned with their member rows.
 * Membership: see the module comment — changed groups and every group containing them get
 * their transitiveMembers re-read and their member rows replaced (history per member added
 * or removed). An enumeration re-reads the transitive members of every group it returns.
 */
export async function collectGroupsDelta(
  ctx: SyncContext,
  source: ChangeSource = 'delta',
  opts: DirectoryDeltaOptions = {},
): Promise<GroupsDeltaResult> {
  const members = { denied: false, reread: 0 };
  const r = await guarded(
    ctx,
    group.type,
    opts,
    async () => ({
      ...(await runRound(ctx, {
        scope: GROUPS_DELTA_SCOPE,
        resource: 'groups',
        subject: group.type,
        startUrl: GROUPS_DELTA_URL,
        source,
        fresh: opts.fresh ?? false,
        page: (values, info) => groupsPage(ctx, values, info, members),
        sweep: async (actx, started) => [
          ...(await sweepScope(actx, groupDef, {}, started)),
          ...(await removeMembersOfGoneGroups(actx)),
        ],
      })),
      members: true,
      membersReread: 0,
    }),
    () => ({
      kind: 'incremental',
      resynced: false,
      pages: 0,
      entries: 0,
      changes: 0,
      members: true,
      membersReread: 0,
    }),
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
  values: unknown[],
  info: PageInfo,
  members: { denied: boolean; reread: number },
): Promise<PageWork> {
  const sorted = sortPage(values, 'group', info);
  const stored = await storedRows(ctx, 'groups', [...sorted.live.keys()]);
  const merged = new Map<string, Obj>();
  for (const [id, entry] of sorted.live)
    merged.set(id, { ...clean(stored.get(id)?.raw ?? {}), ...clean(entry) });
  const { rows, invalid } = mapRows(ctx, groupDef, merged, info);
  invalid.push(...sorted.invalid);
  const removed = [...sorted.removed];

  // Whose transitive members to re-read.
  let reread: string[];
  if (info.kind === 'enumeration') reread = rows.map((r) => r.id);
  else {
    const changed = new Set<string>();
    for (const v of values) {
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
    if (await readTransitiveMembers(ctx, info.source, reread)) members.reread += reread.length;
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

// ---------- what syncIntegration runs ----------

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
