/** Tenant mutations (the admin API's `POST /_sim/mutations`): apply to the model, then emit change events. */
import type { SimChangeEvent, SimMutation } from '../contracts.ts';
import { attack, backgroundActivity } from './activity.ts';
import { MutationError } from './errors.ts';
import { makeGrant, makeLink, newGuestUser, pickRecipient } from './generate.ts';
import { mimeTypeFor } from './names.ts';
import type { Prng } from './prng.ts';
import { F_DELETED, F_FOLDER } from './store.ts';
import {
  type LinkScope,
  type SimDrive,
  type SimPermission,
  type SimRecipient,
  type SimUser,
  type Tenant,
  uniquePermissionId,
} from './tenant.ts';
import { applySettings } from './tenant-settings.ts';

/** `at` defaults to now on the simulated clock; activity injection stamps past times. */
export type ChangeInput = Omit<SimChangeEvent, 'seq' | 'at'> & { at?: string };

export interface MutationContext {
  tenant: Tenant;
  now(): number;
  emit(event: ChangeInput): void;
  rng: Prng;
}

// Defined apart so that model files mutate.ts imports can throw it too.
export { MutationError } from './errors.ts';

type ItemMutation = Extract<
  SimMutation,
  { op: 'createItem' | 'renameItem' | 'moveItem' | 'modifyItem' | 'deleteItem' }
>;
type DirectoryResult = Record<string, unknown>;

function drive(t: Tenant, id: string): SimDrive {
  const d = t.driveById.get(id);
  if (!d) throw new MutationError(`unknown driveId '${id}'`, 404);
  return d;
}

function liveItem(t: Tenant, d: SimDrive, id: string, what = 'itemId'): number {
  const i = t.parseItemId(d.idx, id);
  if (i < 0 || t.items.isDeleted(i))
    throw new MutationError(`unknown or deleted ${what} '${id}' in drive ${d.id}`, 404);
  return i;
}

function actor(t: Tenant, d: SimDrive | null, actorId: string | undefined): SimUser {
  if (actorId) {
    const u = t.userById.get(actorId);
    if (!u || u.deleted) throw new MutationError(`unknown actorId '${actorId}'`, 404);
    return u;
  }
  return d ? t.users[d.ownerIdx] : t.users[0];
}

function checkName(t: Tenant, parent: number, name: string, except = -1): void {
  if (!name || /[\\/:*?"<>|]/.test(name) || name.length > 400)
    throw new MutationError(`invalid item name '${name}'`);
  for (const j of t.liveChildren(parent))
    if (j !== except && t.items.name[j].toLowerCase() === name.toLowerCase())
      throw new MutationError(`an item named '${name}' already exists in that folder`, 409);
}

/** Sharing changed on `i`: the item itself changes (content seq + permission seq), descendants inherit. */
function sharingChanged(t: Tenant, i: number): void {
  const s = t.touch(i);
  t.items.pseq[i] = s;
  if (t.items.isFolder(i)) for (const j of t.descendants(i)) t.touchPermissionsOnly(j);
}

function deleteOne(ctx: MutationContext, d: SimDrive, i: number, who: SimUser): void {
  const t = ctx.tenant;
  const it = t.items;
  it.flags[i] |= F_DELETED;
  it.modified[i] = ctx.now();
  if (it.parent[i] >= 0 && !it.isDeleted(it.parent[i])) it.childCount[it.parent[i]]--;
  if (!it.isFolder(i)) d.quotaDeleted += it.size[i];
  t.touch(i);
  ctx.emit({
    kind: 'item',
    op: 'deleted',
    driveId: d.id,
    itemId: t.itemId(i),
    actorId: who.id,
    actorUpn: who.userPrincipalName,
  });
}

function deleteSubtree(ctx: MutationContext, d: SimDrive, i: number, who: SimUser): number {
  const t = ctx.tenant;
  const desc = t.items.isFolder(i) ? t.descendants(i) : [];
  // children first, like the recycle bin does
  desc.sort((a, b) => depthOf(t, b) - depthOf(t, a));
  for (const j of desc) deleteOne(ctx, d, j, who);
  deleteOne(ctx, d, i, who);
  return desc.length + 1;
}

function depthOf(t: Tenant, i: number): number {
  let n = 0;
  for (let c = t.items.parent[i]; c >= 0; c = t.items.parent[c]) n++;
  return n;
}

function itemMutation(ctx: MutationContext, m: ItemMutation): DirectoryResult {
  const t = ctx.tenant;
  const it = t.items;
  const d = drive(t, m.driveId);
  const now = ctx.now();
  switch (m.op) {
    case 'createItem': {
      const who = actor(t, d, m.actorId);
      const parent = liveItem(t, d, m.parentId, 'parentId');
      if (!it.isFolder(parent)) throw new MutationError(`parentId '${m.parentId}' is a file, not a folder`);
      checkName(t, parent, m.name);
      const size = m.folder ? 0 : Math.max(0, Math.round(m.size ?? 1024));
      const i = it.add(d.idx, parent, m.name, m.folder ? F_FOLDER : 0, size, now, now, who.idx);
      d.items.push(i);
      t.touch(i);
      // A folder whose children change (the root too) reappears in delta with its new childCount.
      t.touch(parent);
      d.quotaUsed += size;
      d.lastModifiedMs = now;
      const id = t.itemId(i);
      ctx.emit({
        kind: 'item',
        op: 'created',
        driveId: d.id,
        itemId: id,
        actorId: who.id,
        actorUpn: who.userPrincipalName,
      });
      return { itemId: id, mimeType: m.folder ? null : mimeTypeFor(m.name) };
    }
    case 'renameItem': {
      const who = actor(t, d, m.actorId);
      const i = liveItem(t, d, m.itemId);
      if (it.isRoot(i)) throw new MutationError('the drive root cannot be renamed');
      checkName(t, it.parent[i], m.name, i);
      const previousName = it.name[i];
      const previousPath = t.pathOf(i);
      it.name[i] = m.name;
      it.modified[i] = now;
      it.modifiedBy[i] = who.idx;
      t.touch(i);
      ctx.emit({
        kind: 'item',
        op: 'updated',
        driveId: d.id,
        itemId: m.itemId,
        actorId: who.id,
        actorUpn: who.userPrincipalName,
        previousName,
        previousPath,
      });
      return { itemId: m.itemId };
    }
    case 'moveItem': {
      const who = actor(t, d, m.actorId);
      const i = liveItem(t, d, m.itemId);
      const np = liveItem(t, d, m.newParentId, 'newParentId');
      if (it.isRoot(i)) throw new MutationError('the drive root cannot be moved');
      if (!it.isFolder(np)) throw new MutationError(`newParentId '${m.newParentId}' is a file, not a folder`);
      if (np === i || t.isAncestor(i, np)) throw new MutationError('an item cannot be moved into itself');
      checkName(t, np, it.name[i], i);
      const before = t.sharedScope(i);
      const previousPath = t.pathOf(i);
      const op = it.parent[i];
      it.childCount[op]--;
      it.childCount[np]++;
      it.parent[i] = np;
      it.modifiedBy[i] = who.idx;
      t.touch(i);
      t.touch(op);
      t.touch(np);
      if (before !== t.sharedScope(i) || t.effectivePermissions(i).length > 0) sharingChanged(t, i);
      ctx.emit({
        kind: 'item',
        op: 'updated',
        driveId: d.id,
        itemId: m.itemId,
        actorId: who.id,
        actorUpn: who.userPrincipalName,
        previousParentId: t.itemId(op),
        previousPath,
      });
      return { itemId: m.itemId };
    }
    case 'modifyItem': {
      const who = actor(t, d, m.actorId);
      const i = liveItem(t, d, m.itemId);
      if (it.isFolder(i)) throw new MutationError('modifyItem applies to files only');
      if (m.size !== undefined) {
        const size = Math.max(0, Math.round(m.size));
        d.quotaUsed += size - it.size[i];
        it.size[i] = size;
      }
      it.modified[i] = now;
      it.modifiedBy[i] = who.idx;
      it.version[i]++;
      d.lastModifiedMs = now;
      t.touch(i);
      ctx.emit({
        kind: 'item',
        op: 'updated',
        driveId: d.id,
        itemId: m.itemId,
        actorId: who.id,
        actorUpn: who.userPrincipalName,
      });
      return { itemId: m.itemId };
    }
    case 'deleteItem': {
      const who = actor(t, d, m.actorId);
      const i = liveItem(t, d, m.itemId);
      if (it.isRoot(i)) throw new MutationError('the drive root cannot be deleted');
      const parent = it.parent[i];
      const n = deleteSubtree(ctx, d, i, who);
      t.touch(parent);
      d.lastModifiedMs = now;
      return { itemId: m.itemId, deletedCount: n };
    }
  }
}

function shareRecipient(
  ctx: MutationContext,
  kind: 'guest' | 'external' | 'internal' | 'users',
  email: string | undefined,
  owner: SimUser,
): SimRecipient {
  const t = ctx.tenant;
  if (email) {
    const lower = email.toLowerCase();
    const u = t.users.find(
      (x) => !x.deleted && (x.mail?.toLowerCase() === lower || x.userPrincipalName.toLowerCase() === lower),
    );
    if (u)
      return {
        kind: u.userType === 'Guest' ? 'guest' : 'internal',
        userIdx: u.idx,
        groupIdx: -1,
        email: u.mail ?? u.userPrincipalName,
        displayName: u.displayName,
      };
    if (kind === 'internal') throw new MutationError(`no internal user with email '${email}'`);
    if (kind === 'guest')
      throw new MutationError(`no guest user with email '${email}' (add one with addGuest)`);
    const domain = lower.split('@')[1] ?? '';
    if (t.verifiedDomains.includes(domain))
      throw new MutationError(`'${email}' is in a verified domain but is no user`);
    const consumer = [
      'gmail.com',
      'outlook.com',
      'hotmail.com',
      'yahoo.com',
      'icloud.com',
      'live.com',
    ].includes(domain);
    return {
      kind: consumer ? 'consumer' : 'external',
      userIdx: -1,
      groupIdx: -1,
      email: lower,
      displayName: lower,
    };
  }
  const internal = t.users.filter((u) => !u.deleted && u.userType === 'Member' && u.accountEnabled);
  const guests = t.users.filter((u) => !u.deleted && u.userType === 'Guest');
  if (kind === 'guest' && guests.length === 0)
    throw new MutationError('the tenant has no guest user; add one with addGuest');
  return pickRecipient(t, ctx.rng, kind === 'users' ? 'internal' : kind, internal, guests, owner);
}

function share(ctx: MutationContext, m: Extract<SimMutation, { op: 'share' }>): DirectoryResult {
  const t = ctx.tenant;
  const d = drive(t, m.driveId);
  const i = liveItem(t, d, m.itemId);
  if (t.items.isRoot(i)) throw new MutationError('the drive root cannot be shared');
  const who = actor(t, d, m.actorId);
  const now = ctx.now();
  let p: SimPermission;
  if (m.kind === 'anonymous' || m.kind === 'organization' || m.kind === 'users') {
    p = makeLink(t, ctx.rng, m.kind as LinkScope, who, now, now, m.linkType ?? 'view');
    p.preventsDownload = false;
    if (m.kind === 'users') p.recipients.push(shareRecipient(ctx, 'users', m.email, t.users[d.ownerIdx]));
  } else {
    p = makeGrant(
      t,
      ctx.rng,
      shareRecipient(ctx, m.kind, m.email, t.users[d.ownerIdx]),
      who,
      now,
      now,
      m.linkType === 'edit' ? 'write' : 'read',
    );
  }
  // unique across what the item lists (owner, explicit, inherited), and after later moves
  p.id = uniquePermissionId(p.id, t.permissionIdsInDrive(d.idx));
  p.expiresMs = m.expirationDateTime ? Date.parse(m.expirationDateTime) : null;
  if (m.expirationDateTime && Number.isNaN(p.expiresMs))
    throw new MutationError(`invalid expirationDateTime '${m.expirationDateTime}'`);
  const list = t.perms.get(i) ?? [];
  list.push(p);
  t.perms.set(i, list);
  sharingChanged(t, i);
  ctx.emit({
    kind: 'permission',
    op: 'shared',
    driveId: d.id,
    itemId: m.itemId,
    actorId: who.id,
    actorUpn: who.userPrincipalName,
    permissionId: p.id,
    linkScope: p.linkScope ?? 'users',
    targetEmail: p.recipients[0]?.email,
  });
  return { permissionId: p.id };
}

/** Removes explicit permissions (all, or one by id); used by the admin API and by DELETE …/permissions/{id}. */
export function unshare(
  ctx: MutationContext,
  m: { driveId: string; itemId: string; permissionId?: string; actorId?: string },
): DirectoryResult {
  const t = ctx.tenant;
  const d = drive(t, m.driveId);
  const i = liveItem(t, d, m.itemId);
  const who = actor(t, d, m.actorId);
  const list = t.perms.get(i) ?? [];
  const removed = m.permissionId ? list.filter((p) => p.id === m.permissionId) : [...list];
  if (m.permissionId && removed.length === 0)
    throw new MutationError(
      `permission '${m.permissionId}' is not an explicit permission of item ${m.itemId}`,
      404,
    );
  const kept = list.filter((p) => !removed.includes(p));
  if (kept.length > 0) t.perms.set(i, kept);
  else t.perms.delete(i);
  if (removed.length > 0) sharingChanged(t, i);
  for (const p of removed)
    ctx.emit({
      kind: 'permission',
      op: 'unshared',
      driveId: d.id,
      itemId: m.itemId,
      actorId: who.id,
      actorUpn: who.userPrincipalName,
      permissionId: p.id,
      linkScope: p.linkScope ?? 'users',
      targetEmail: p.recipients[0]?.email,
    });
  return { removedPermissionIds: removed.map((p) => p.id) };
}

function pickFiles(ctx: MutationContext, d: SimDrive, count: number): number[] {
  const t = ctx.tenant;
  const files = d.items.filter((i) => !t.items.isDeleted(i) && !t.items.isFolder(i));
  for (let k = files.length - 1; k > 0; k--) {
    const j = ctx.rng.int(0, k);
    [files[k], files[j]] = [files[j], files[k]];
  }
  return files.slice(0, Math.max(0, Math.floor(count)));
}

/** Applies one mutation that concerns the tenant model. Runtime-level ops are handled by the caller. */
export function applyModelMutation(ctx: MutationContext, m: SimMutation): DirectoryResult {
  const t = ctx.tenant;
  switch (m.op) {
    case 'createItem':
    case 'renameItem':
    case 'moveItem':
    case 'modifyItem':
    case 'deleteItem':
      return itemMutation(ctx, m);
    case 'share':
      return share(ctx, m);
    case 'unshare':
      return unshare(ctx, m);
    case 'setQuotaUsed': {
      const d = drive(t, m.driveId);
      if (!Number.isFinite(m.used) || m.used < 0)
        throw new MutationError('used must be a non-negative number');
      d.quotaUsed = Math.round(m.used);
      ctx.emit({ kind: 'drive', op: 'updated', driveId: d.id });
      return { quotaState: t.quotaState(d) };
    }
    case 'setTeamsApp': {
      const u = t.userById.get(m.userId);
      if (!u || u.deleted) throw new MutationError(`unknown userId '${m.userId}'`, 404);
      if (m.installed) t.teamsAppMissing.delete(u.id);
      else t.teamsAppMissing.add(u.id);
      return { userId: u.id };
    }
    case 'disableUser': {
      const u = t.userById.get(m.userId);
      if (!u || u.deleted) throw new MutationError(`unknown userId '${m.userId}'`, 404);
      u.accountEnabled = false;
      u.dirSeq = ++t.dirSeq;
      ctx.emit({ kind: 'user', op: 'updated', userId: u.id, actorUpn: u.userPrincipalName });
      return { userId: u.id };
    }
    case 'addGuest': {
      const email = m.email.toLowerCase();
      if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) throw new MutationError(`invalid email '${m.email}'`);
      if (t.users.some((u) => !u.deleted && u.mail?.toLowerCase() === email))
        throw new MutationError(`a user with email '${m.email}' already exists`, 409);
      const now = new Date(ctx.now()).toISOString().replace(/\.\d+Z$/, 'Z');
      const u = newGuestUser(t, {
        idx: t.users.length,
        id: ctx.rng.guid(),
        email,
        displayName: m.displayName ?? email,
        accountEnabled: true,
        createdAt: now,
        accepted: false,
        stateChangedAt: now,
        lastSignInAt: null,
        mfaRegistered: false,
        mfaUpdatedAt: now,
      });
      u.dirSeq = ++t.dirSeq;
      t.users.push(u);
      t.userById.set(u.id, u);
      ctx.emit({
        kind: 'user',
        op: 'created',
        userId: u.id,
        actorUpn: t.users[0].userPrincipalName,
        targetEmail: email,
      });
      return { userId: u.id, userPrincipalName: u.userPrincipalName };
    }
    case 'deleteUser': {
      const u = t.userById.get(m.userId);
      if (!u || u.deleted) throw new MutationError(`unknown userId '${m.userId}'`, 404);
      // Their OneDrive goes with them (/users/{id}/drive and /drives/{id} answer 404).
      if (u.driveIdx >= 0) removeDrive(ctx, t.drives[u.driveIdx]);
      u.deleted = true;
      const seq = ++t.dirSeq;
      t.removedUsers.push({ id: u.id, seq });
      for (const g of t.groups)
        if (g.members.includes(u.id)) {
          g.members = g.members.filter((x) => x !== u.id);
          g.dirSeq = ++t.dirSeq;
          g.memberLog.push({ seq: g.dirSeq, id: u.id, removed: true });
        }
      ctx.emit({ kind: 'user', op: 'deleted', userId: u.id });
      return { userId: u.id };
    }
    case 'removeDrive': {
      const d = drive(t, m.driveId);
      removeDrive(ctx, d);
      return { driveId: d.id };
    }
    case 'addGroupMember':
    case 'removeGroupMember': {
      const g = t.groupById.get(m.groupId);
      if (!g) throw new MutationError(`unknown groupId '${m.groupId}'`, 404);
      const isUser = t.userById.get(m.memberId);
      if ((!isUser || isUser.deleted) && !t.groupById.has(m.memberId))
        throw new MutationError(`unknown memberId '${m.memberId}'`, 404);
      const has = g.members.includes(m.memberId);
      if (m.op === 'addGroupMember') {
        if (has) throw new MutationError('already a member', 409);
        if (t.groupById.has(m.memberId) && (m.memberId === g.id || reaches(t, m.memberId, g.id)))
          throw new MutationError('that nesting would make a cycle');
        g.members.push(m.memberId);
      } else {
        if (!has) throw new MutationError('not a member', 404);
        g.members = g.members.filter((x) => x !== m.memberId);
      }
      g.dirSeq = ++t.dirSeq;
      g.memberLog.push({ seq: g.dirSeq, id: m.memberId, removed: m.op === 'removeGroupMember' });
      ctx.emit({ kind: 'group', op: 'updated', userId: m.memberId });
      return { groupId: g.id };
    }
    case 'massDelete': {
      const d = drive(t, m.driveId);
      const who = actor(t, d, m.actorId);
      const files = pickFiles(ctx, d, m.count);
      for (const i of files) deleteOne(ctx, d, i, who);
      for (const p of new Set(files.map((i) => t.items.parent[i]))) if (!t.items.isDeleted(p)) t.touch(p);
      d.lastModifiedMs = ctx.now();
      return { itemIds: files.map((i) => t.itemId(i)) };
    }
    case 'massDownload': {
      const d = drive(t, m.driveId);
      const who = actor(t, d, m.actorId);
      const files = pickFiles(ctx, d, m.count);
      for (const i of files)
        ctx.emit({
          kind: 'access',
          op: 'downloaded',
          driveId: d.id,
          itemId: t.itemId(i),
          actorId: who.id,
          actorUpn: who.userPrincipalName,
          clientIp: m.clientIp ?? '203.0.113.50',
        });
      return { itemIds: files.map((i) => t.itemId(i)) };
    }
    case 'backgroundActivity':
      return backgroundActivity(ctx, m);
    case 'attack':
      return attack(ctx, m, applyModelMutation);
    case 'setSharepointSettings':
      t.settings = applySettings(t.settings, m.settings);
      return { settings: t.settings };
    case 'setItemLabels':
      return setItemLabels(ctx, m);
    case 'invalidateDeltaTokens': {
      const d = drive(t, m.driveId);
      d.epoch++;
      return { epoch: d.epoch };
    }
    default:
      throw new MutationError(`op '${(m as { op: string }).op}' is not a model mutation`);
  }
}

/** Labels live in the file: changing them is a content change (new version, back in delta). */
function setItemLabels(
  ctx: MutationContext,
  m: Extract<SimMutation, { op: 'setItemLabels' }>,
): DirectoryResult {
  const t = ctx.tenant;
  const it = t.items;
  const d = drive(t, m.driveId);
  const i = liveItem(t, d, m.itemId);
  if (it.isFolder(i)) throw new MutationError('setItemLabels applies to files only');
  const read = t.labels.read(i, it.name[i]);
  if (read.kind === 'unsupported')
    throw new MutationError(`files of type '.${read.extension}' cannot carry sensitivity labels`);
  const who = actor(t, d, m.actorId);
  t.labels.set(i, m.labelIds, m.assignmentMethod);
  it.modified[i] = ctx.now();
  it.modifiedBy[i] = who.idx;
  it.version[i]++;
  d.lastModifiedMs = ctx.now();
  t.touch(i);
  ctx.emit({
    kind: 'item',
    op: 'updated',
    driveId: d.id,
    itemId: m.itemId,
    actorId: who.id,
    actorUpn: who.userPrincipalName,
  });
  return { itemId: m.itemId, labelIds: m.labelIds };
}

function removeDrive(ctx: MutationContext, d: SimDrive): void {
  ctx.tenant.removeDrive(d);
  ctx.emit({ kind: 'drive', op: 'deleted', driveId: d.id });
}

function reaches(t: Tenant, fromGroupId: string, targetId: string): boolean {
  const g = t.groupById.get(fromGroupId);
  if (!g) return false;
  for (const m of g.members) if (m === targetId || reaches(t, m, targetId)) return true;
  return false;
}
