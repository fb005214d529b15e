/**
 * The ground truth (`GET /_sim/truth`), computed from the tenant model alone. Nothing here calls
 * the functions that render Graph JSON (sim/server/*): the security classifications (external,
 * guest, personal mailbox, exposure) come from the recipient kinds the generator and the
 * mutations chose, so a bug in how an endpoint writes a guest shows up as a difference between
 * the inventory and this truth instead of on both sides.
 */
import type {
  TruthExposure,
  TruthGrantKind,
  TruthIdentity,
  TruthRecipient,
  TruthRecord,
} from './contracts.ts';
import { mimeTypeFor } from './model/names.ts';
import type { SimDrive, SimPermission, SimRecipient, SimUser, Tenant } from './model/tenant.ts';
import { itemWebUrl } from './runtime.ts';

/** Graph's timestamp form: whole seconds, "Z". */
const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/** Recipient kinds outside the tenant: a B2B guest account, an outside address, a personal mailbox. */
const OUTSIDE = new Set<TruthRecipient['kind']>(['guest', 'external', 'consumer']);

function identityOf(t: Tenant, u: SimUser): TruthIdentity {
  return { id: u.id, email: t.userEmail(u), displayName: u.displayName };
}

/** The login name SharePoint knows a recipient by: a member's or B2B guest's claim, a group claim, or a one-time-passcode guest. */
export function recipientOf(t: Tenant, r: SimRecipient): TruthRecipient {
  if (r.claim) {
    return {
      kind: r.kind,
      id: r.claim.siteId,
      email: null,
      displayName: r.displayName,
      loginName: r.claim.loginName,
      identity: r.claim.identity,
    };
  }
  if (r.kind === 'group') {
    const g = t.groups[r.groupIdx];
    return {
      kind: 'group',
      id: g.id,
      email: r.email.toLowerCase(),
      displayName: g.displayName,
      loginName: `c:0o.c|federateddirectoryclaimprovider|${g.id}`,
    };
  }
  if (r.userIdx >= 0) {
    const u = t.users[r.userIdx];
    return {
      kind: r.kind,
      id: u.id,
      email: t.userEmail(u),
      displayName: u.displayName,
      loginName: t.loginNameOf(u),
    };
  }
  const email = r.email.toLowerCase();
  return {
    kind: r.kind,
    id: null,
    email,
    displayName: r.displayName,
    loginName: `i:0#.f|membership|urn:spo:guest#${email}`,
  };
}

function ownerRecipient(t: Tenant, d: SimDrive): TruthRecipient {
  const o = t.users[d.ownerIdx];
  return {
    kind: 'owner',
    id: o.id,
    email: t.userEmail(o),
    displayName: o.displayName,
    loginName: t.loginNameOf(o),
  };
}

/** Every address a permission names: e-mails and login names, lower case, first seen first. */
function addressesOf(details: TruthRecipient[]): string[] {
  const out: string[] = [];
  for (const r of details)
    for (const a of [r.email, r.loginName.toLowerCase()]) if (a !== null && !out.includes(a)) out.push(a);
  return out;
}

function permissionRecord(
  t: Tenant,
  d: SimDrive,
  itemId: string,
  onItem: number,
  p: SimPermission,
): Extract<TruthRecord, { kind: 'permission' }> {
  const details = p.recipients.map((r) => recipientOf(t, r));
  const first = p.recipients[0];
  const letter = t.items.isFolder(onItem) ? 'f' : 'w';
  return {
    kind: 'permission',
    driveId: d.id,
    itemId,
    id: p.id,
    roles: [...p.roles],
    linkType: p.linkType,
    linkScope: p.linkScope,
    expirationDateTime: p.expiresMs === null ? null : iso(p.expiresMs),
    recipients: addressesOf(details),
    isOwner: false,
    recipientDetails: details,
    isExternal: details.some((r) => OUTSIDE.has(r.kind)),
    isGuest: details.some((r) => OUTSIDE.has(r.kind)),
    hasPersonalMailbox: details.some((r) => r.kind === 'consumer'),
    invitationEmail:
      p.kind === 'grant' && first && OUTSIDE.has(first.kind) ? first.email.toLowerCase() : null,
    linkWebUrl:
      p.kind === 'link'
        ? `https://${t.mySiteHost}/:${letter}:/g/personal/${d.siteUrl.split('/personal/')[1]}/${p.shareToken}`
        : null,
    preventsDownload: p.kind === 'link' ? p.preventsDownload : false,
    shareId: `u!${p.shareToken}`,
  };
}

function ownerRecord(t: Tenant, d: SimDrive, itemId: string): Extract<TruthRecord, { kind: 'permission' }> {
  const owner = ownerRecipient(t, d);
  return {
    kind: 'permission',
    driveId: d.id,
    itemId,
    id: t.ownerPermissionId(d),
    roles: ['owner'],
    linkType: null,
    linkScope: null,
    expirationDateTime: null,
    recipients: addressesOf([owner]),
    isOwner: true,
    recipientDetails: [owner],
    isExternal: false,
    isGuest: false,
    hasPersonalMailbox: false,
    invitationEmail: null,
    linkWebUrl: null,
    preventsDownload: false,
    shareId: t.ownerPermissionId(d),
  };
}

const GRANT_KIND: Record<
  TruthRecipient['kind'],
  [TruthGrantKind, 'external' | 'guest' | 'internal' | 'none']
> = {
  internal: ['user', 'internal'],
  guest: ['guest', 'guest'],
  external: ['external', 'external'],
  consumer: ['external', 'external'],
  group: ['group', 'internal'],
  owner: ['user', 'none'],
  everyone: ['site_group', 'external'],
  everyone_internal: ['site_group', 'internal'],
};

/** One grant per recipient of a permission; a link without recipients is one grant to its scope. */
function grantRecords(
  p: Extract<TruthRecord, { kind: 'permission' }>,
): Array<Extract<TruthRecord, { kind: 'grant' }>> {
  const base = {
    kind: 'grant' as const,
    driveId: p.driveId,
    itemId: p.itemId,
    permissionId: p.id,
    isOwner: p.isOwner,
    roles: p.roles,
    linkType: p.linkType,
    linkScope: p.linkScope,
    expirationDateTime: p.expirationDateTime,
    invitationEmail: p.invitationEmail,
  };
  if (p.recipientDetails.length === 0) {
    const [recipientKind, audience] =
      p.linkScope === 'anonymous'
        ? (['anyone', 'public'] as const)
        : p.linkScope === 'organization'
          ? (['organization', 'internal'] as const)
          : p.linkScope === 'existingAccess'
            ? (['existing_access', 'none'] as const)
            : (['link', 'none'] as const);
    return [
      {
        ...base,
        recipientKind,
        recipientId: null,
        recipientEmail: null,
        recipientName: null,
        loginName: null,
        audience,
      },
    ];
  }
  return p.recipientDetails.map((r) => {
    const [recipientKind, audience] = GRANT_KIND[r.kind];
    return {
      ...base,
      recipientKind,
      // A claim's grant names no directory object (its SharePoint id is no recipient id).
      recipientId: r.identity ? null : r.id,
      recipientEmail: r.email,
      recipientName: r.displayName,
      loginName: r.loginName.toLowerCase(),
      audience,
    };
  });
}

/** Nearest ancestor-or-self with explicit permissions (a sharing root), or -1. */
export function accessRootOf(t: Tenant, i: number): number {
  for (let cur = i; cur >= 0; cur = t.items.parent[cur]) if (t.hasExplicit(cur)) return cur;
  return -1;
}

/** What an item's access root's effective permissions open it to. */
export function exposureOf(t: Tenant, accessRoot: number): TruthExposure {
  if (accessRoot < 0) return 'private';
  let outside = false;
  let inside = false;
  for (const { perm } of t.effectivePermissions(accessRoot)) {
    if (perm.linkScope === 'anonymous') return 'public';
    if (perm.linkScope === 'organization') inside = true;
    for (const r of perm.recipients) {
      // The Everyone claim reaches guests too: external, like a guest recipient.
      if (OUTSIDE.has(r.kind) || r.kind === 'everyone') outside = true;
      else inside = true;
    }
  }
  return outside ? 'external' : inside ? 'internal' : 'private';
}

function* directoryRecords(t: Tenant): Generator<TruthRecord> {
  for (const u of t.users) {
    if (u.deleted) continue;
    const m = u.managerIdx >= 0 ? t.users[u.managerIdx] : null;
    yield {
      kind: 'user',
      id: u.id,
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName,
      mail: u.mail,
      accountEnabled: u.accountEnabled,
      userType: u.userType,
      externalUserState: u.externalUserState,
      managerId: m && !m.deleted ? m.id : null,
      lastSignInDateTime: u.signIn?.lastSignInDateTime ?? null,
      isMfaRegistered: u.accountEnabled ? u.mfa.isMfaRegistered : null,
      domain: u.userPrincipalName.split('@')[1]?.toLowerCase() ?? null,
      isGuest: u.userType === 'Guest',
      otherMails: [...u.otherMails],
      createdDateTime: u.createdDateTime,
      creationType: u.creationType,
      externalUserStateChangeDateTime: u.externalUserStateChangeDateTime,
      lastPasswordChangeDateTime: u.lastPasswordChangeDateTime,
      jobTitle: u.jobTitle,
      department: u.department,
      companyName: u.companyName,
      officeLocation: u.officeLocation,
      employeeId: u.employeeId,
      usageLocation: u.usageLocation,
      city: u.city,
      country: u.country,
      mobilePhone: u.mobilePhone,
      businessPhones: [...u.businessPhones],
      assignedLicenses: u.assignedLicenses.map((l) => ({
        skuId: l.skuId,
        disabledPlans: [...l.disabledPlans],
      })),
      lastNonInteractiveSignInDateTime: u.signIn?.lastNonInteractiveSignInDateTime ?? null,
      lastSuccessfulSignInDateTime: u.signIn?.lastSuccessfulSignInDateTime ?? null,
    };
  }
  // The MFA report lists enabled users only.
  for (const u of t.users) {
    if (u.deleted || !u.accountEnabled) continue;
    yield {
      kind: 'mfa',
      userId: u.id,
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName,
      isAdmin: u.mfa.isAdmin,
      isMfaRegistered: u.mfa.isMfaRegistered,
      isMfaCapable: u.mfa.isMfaCapable,
      isSsprRegistered: u.mfa.isSsprRegistered,
      isPasswordlessCapable: u.mfa.isPasswordlessCapable,
      methodsRegistered: [...u.mfa.methodsRegistered],
      userType: u.userType === 'Guest' ? 'guest' : 'member',
      lastUpdatedDateTime: u.mfa.lastUpdatedDateTime,
    };
  }
  for (const g of t.groups)
    yield {
      kind: 'group',
      id: g.id,
      displayName: g.displayName,
      mail: g.mail,
      description: g.description || null,
      mailEnabled: g.mailEnabled,
      securityEnabled: g.securityEnabled,
      groupTypes: [...g.groupTypes],
      visibility: g.visibility,
      createdDateTime: g.createdDateTime,
      onPremisesSyncEnabled: null,
    };
  for (const g of t.groups)
    for (const m of t.transitiveMembers(g.idx)) {
      if (m.kind === 'group') {
        const sub = t.groupById.get(m.id) as (typeof t.groups)[number];
        yield {
          kind: 'member',
          groupId: g.id,
          memberId: m.id,
          memberType: 'group',
          displayName: sub.displayName,
          userPrincipalName: null,
          mail: sub.mail,
        };
      } else {
        const u = t.userById.get(m.id) as SimUser;
        yield {
          kind: 'member',
          groupId: g.id,
          memberId: m.id,
          memberType: 'user',
          displayName: u.displayName,
          userPrincipalName: u.userPrincipalName,
          mail: u.mail,
        };
      }
    }
  for (const u of t.users) if (!u.deleted && u.driveIdx < 0) yield { kind: 'noDrive', userId: u.id };
  for (const u of t.users) {
    if (u.deleted) continue;
    const provisioned = u.driveIdx >= 0;
    yield {
      kind: 'userDrive',
      userId: u.id,
      driveId: provisioned ? t.drives[u.driveIdx].id : null,
      provisioned,
      statusCode: provisioned ? null : 'ResourceNotFound',
    };
  }
}

function* driveRecords(t: Tenant, d: SimDrive): Generator<TruthRecord> {
  const owner = t.users[d.ownerIdx];
  yield {
    kind: 'drive',
    id: d.id,
    ownerId: owner.id,
    driveType: 'business',
    quotaTotal: d.quotaTotal,
    quotaUsed: d.quotaUsed,
    quotaRemaining: Math.max(0, d.quotaTotal - d.quotaUsed),
    quotaDeleted: d.quotaDeleted,
    quotaState: t.quotaState(d),
    owner: identityOf(t, owner),
    name: 'OneDrive',
    webUrl: d.webUrl,
    createdDateTime: iso(d.createdMs),
    lastModifiedDateTime: iso(d.lastModifiedMs),
    siteId: d.siteId,
    siteUrl: d.siteUrl,
  };
  const it = t.items;
  const byIdx = (idx: number) => identityOf(t, t.users[idx] ?? t.users[0]);
  for (const i of d.items) {
    if (it.isDeleted(i)) continue;
    const root = it.isRoot(i);
    const folder = it.isFolder(i);
    const explicit = t.perms.get(i) ?? [];
    const accessRoot = accessRootOf(t, i);
    yield {
      kind: 'item',
      driveId: d.id,
      id: t.itemId(i),
      parentId: root ? null : t.itemId(it.parent[i]),
      name: root ? 'root' : it.name[i],
      path: t.pathOf(i),
      isFolder: folder,
      size: it.size[i],
      lastModifiedDateTime: iso(it.modified[i]),
      sharedScope: t.servedSharedScope(i, true),
      isRoot: root,
      mimeType: folder ? null : mimeTypeFor(it.name[i]),
      childCount: folder ? it.childCount[i] : null,
      createdDateTime: iso(it.created[i]),
      createdBy: byIdx(it.createdBy[i]),
      lastModifiedBy: byIdx(it.modifiedBy[i]),
      webUrl: itemWebUrl(t, i),
      sharedDateTime: explicit.length > 0 ? iso(Math.max(...explicit.map((p) => p.sharedMs))) : null,
      accessRootId: accessRoot < 0 ? null : t.itemId(accessRoot),
      exposure: exposureOf(t, accessRoot),
    };
  }
  // Permissions (and grants) are stored for the sharing roots: owner entry, own, then inherited.
  for (const i of d.items) {
    if (it.isDeleted(i) || !t.hasExplicit(i)) continue;
    const itemId = t.itemId(i);
    const perms = [ownerRecord(t, d, itemId)];
    for (const { on, perm } of t.effectivePermissions(i))
      perms.push(permissionRecord(t, d, itemId, on, perm));
    yield* perms;
    for (const p of perms) yield* grantRecords(p);
  }
}

/** Every truth record, lazily, in a stable order (see TruthRecord). */
export function* truthRecords(t: Tenant): Generator<TruthRecord> {
  yield* directoryRecords(t);
  for (const d of t.liveDrives()) yield* driveRecords(t, d);
  for (const n of t.activityNotifications)
    yield {
      kind: 'activityNotification',
      userId: n.userId,
      userPrincipalName: t.userById.get(n.userId)?.userPrincipalName ?? '',
      activityType: n.activityType,
      topic: n.topic,
      previewText: n.previewText,
      templateParameters: n.templateParameters,
      at: n.at,
    };
}
