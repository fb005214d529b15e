/** The JSON Graph serves for permissions: the owner entry, links and grants with their identity sets. */
import { hash01 } from '../../model/prng.ts';
import type { SimDrive, SimPermission, SimRecipient, SimUser, Tenant } from '../../model/tenant.ts';
import { iso } from '../../model/time.ts';

const NO_EXPIRY = '0001-01-01T00:00:00Z';

function identityUser(_t: Tenant, u: SimUser) {
  return {
    '@odata.type': '#microsoft.graph.sharePointIdentity',
    id: u.id,
    displayName: u.displayName,
    email: u.mail ?? u.userPrincipalName,
  };
}

export function siteUserId(t: Tenant, key: string): string {
  return String(10 + Math.floor(hash01(t.seed, ...Buffer.from(key).subarray(0, 24)) * 5000));
}

/** The sharePointIdentitySet Graph puts in grantedToV2 / grantedToIdentitiesV2. */
export function identitySet(t: Tenant, r: SimRecipient): Record<string, unknown> {
  if (r.claim) {
    // A SharePoint claim (Everyone, Everyone except external users): no e-mail, no directory id.
    return {
      [r.claim.identity]: { displayName: r.displayName, id: r.claim.siteId, loginName: r.claim.loginName },
    };
  }
  if (r.kind === 'group') {
    const g = t.groups[r.groupIdx];
    return {
      group: {
        '@odata.type': '#microsoft.graph.sharePointIdentity',
        id: g.id,
        displayName: g.displayName,
        email: r.email,
      },
      siteGroup: {
        displayName: g.displayName,
        id: siteUserId(t, g.id),
        loginName: `c:0o.c|federateddirectoryclaimprovider|${g.id}`,
      },
    };
  }
  if (r.userIdx >= 0) {
    const u = t.users[r.userIdx];
    return {
      user: identityUser(t, u),
      siteUser: {
        displayName: u.displayName,
        email: r.email,
        id: siteUserId(t, u.id),
        loginName: t.loginNameOf(u),
      },
    };
  }
  return {
    user: {
      '@odata.type': '#microsoft.graph.sharePointIdentity',
      displayName: r.displayName,
      email: r.email,
    },
    siteUser: {
      displayName: r.displayName,
      email: r.email,
      id: siteUserId(t, r.email),
      loginName: `i:0#.f|membership|urn:spo:guest#${r.email}`,
    },
  };
}

export function ownerPermission(t: Tenant, d: SimDrive) {
  const o = t.users[d.ownerIdx];
  return {
    id: t.ownerPermissionId(d),
    roles: ['owner'],
    shareId: t.ownerPermissionId(d),
    expirationDateTime: NO_EXPIRY,
    grantedToV2: {
      user: identityUser(t, o),
      siteUser: {
        displayName: o.displayName,
        email: o.mail,
        id: siteUserId(t, o.id),
        loginName: t.loginNameOf(o),
      },
    },
  };
}

export function permissionJson(t: Tenant, d: SimDrive, onItem: number, p: SimPermission) {
  const o: Record<string, unknown> = {
    id: p.id,
    roles: [...p.roles],
    shareId: `u!${p.shareToken}`,
  };
  // "Never expires" comes as 0001-01-01 or not at all: the simulator serves both, half of the links each.
  if (p.expiresMs !== null) o.expirationDateTime = iso(p.expiresMs);
  else if (p.kind !== 'link' || p.shareToken.charCodeAt(1) % 2 === 0) o.expirationDateTime = NO_EXPIRY;
  if (p.kind === 'link') {
    const letter = t.items.isFolder(onItem) ? 'f' : 'w';
    o.link = {
      scope: p.linkScope,
      type: p.linkType,
      webUrl: `https://${t.mySiteHost}/:${letter}:/g/personal/${d.siteUrl.split('/personal/')[1]}/${p.shareToken}`,
      preventsDownload: p.preventsDownload,
    };
    o.grantedToIdentitiesV2 = p.recipients.map((r) => identitySet(t, r));
  } else {
    const r = p.recipients[0];
    o.grantedToV2 = identitySet(t, r);
    if (r.kind === 'guest' || r.kind === 'external' || r.kind === 'consumer')
      o.invitation = { email: r.email, signInRequired: true };
  }
  return o;
}

/** Every permission GET …/permissions returns for an item: owner, explicit, then inherited. */
export function itemPermissions(t: Tenant, i: number): Array<Record<string, unknown>> {
  const d = t.drives[t.items.drive[i]];
  const out: Array<Record<string, unknown>> = [ownerPermission(t, d)];
  for (const { on, perm } of t.effectivePermissions(i)) out.push(permissionJson(t, d, on, perm));
  return out;
}
