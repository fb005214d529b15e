import type { IdentitySet } from './identity.ts';
import { emailFromLogin, type GraphPermission, identitySetsOf, isExternalAddress } from './permission.ts';
import { type ColumnDef, domainOf, isoOrNull, strOrNull } from './types.ts';

/**
 * Grants: one row per permission and recipient, derived from the permissions of sharing
 * roots. A permission names its recipients in identity sets (or, for a link without
 * recipients, names nobody: the link itself is the audience). Each grant says who that
 * recipient is (kind, id, e-mail, domain) and how far outside the tenant it reaches
 * (audience), so "who can reach X" is a lookup instead of a walk over JSON.
 */

/** Who a grant is to. */
export type RecipientKind =
  | 'user' // an internal user
  | 'group' // an Entra ID group (expanded through group_members)
  | 'guest' // a B2B guest account (#ext#)
  | 'external' // an outside address without a tenant account (urn:spo:guest, other domains)
  | 'anyone' // an "Anyone" link
  | 'organization' // an organization-wide link
  | 'existing_access' // a link for people who already have access
  | 'link' // a link of unknown scope without recipients
  | 'site_user' // a SharePoint user known only by its login name
  | 'site_group' // a SharePoint group
  | 'application'
  | 'device';

/** How far a grant reaches, widest first; `none` widens nothing (the owner, existing-access links). */
export type Audience = 'public' | 'external' | 'guest' | 'internal' | 'none';

/** The exposure of an item: the widest audience of its access root's grants. */
export type Exposure = 'public' | 'external' | 'internal' | 'private';

export interface GrantRow {
  integration_id: string;
  tenant_id: string;
  drive_id: string;
  item_id: string;
  permission_id: string;
  recipient_key: string;
  recipient_kind: RecipientKind;
  recipient_id: string | null;
  recipient_email: string | null;
  recipient_domain: string | null;
  recipient_name: string | null;
  login_name: string | null;
  audience: Audience;
  is_owner: boolean;
  roles: string[];
  link_type: string | null;
  link_scope: string | null;
  expiration: string | null;
  invitation_email: string | null;
}

/** Columns of the grants table, for the generated reference (docs/tables.md). */
export const GRANT_COLUMNS: Record<keyof GrantRow, ColumnDef> = {
  integration_id: { kind: 'text', description: 'The drivewarden integration the row belongs to.' },
  tenant_id: { kind: 'text', description: 'Microsoft Entra tenant id.' },
  drive_id: { kind: 'text', description: 'Graph id of the drive holding the sharing root.' },
  item_id: {
    kind: 'text',
    description: 'Graph id of the sharing root (an item with permissions of its own).',
  },
  permission_id: { kind: 'text', description: 'Graph id of the permission (permissions.id).' },
  recipient_key: {
    kind: 'text',
    description: 'Identifies the recipient within the permission (kind and id, e-mail or login name).',
  },
  recipient_kind: {
    kind: 'text',
    description:
      'user, group, guest (B2B #ext# account), external (outside address, urn:spo:guest), anyone (Anyone link), organization (organization link), existing_access, link (unknown scope), site_user, site_group, application or device.',
  },
  recipient_id: {
    kind: 'text',
    description: 'Graph id of the user, group or application, when Graph gives one.',
  },
  recipient_email: { kind: 'text', description: 'E-mail or UPN of the recipient, lower case.' },
  recipient_domain: { kind: 'text', description: 'Domain of recipient_email, lower case.' },
  recipient_name: { kind: 'text', description: 'Display name of the recipient.' },
  login_name: { kind: 'text', description: 'SharePoint login name (shows #ext# and urn:spo:guest).' },
  audience: {
    kind: 'text',
    description:
      'How far the grant reaches: public (Anyone link), external (outside address), guest (B2B guest), internal (tenant users, groups, organization links) or none (the owner entry, existing-access links).',
  },
  is_owner: { kind: 'boolean', description: "The drive owner's own entry (roles contain owner)." },
  roles: { kind: 'json', description: 'Roles granted (JSON array): read, write, owner.' },
  link_type: {
    kind: 'text',
    description: 'view, edit or embed for link permissions; null for direct grants.',
  },
  link_scope: { kind: 'text', description: 'anonymous, organization, existingAccess or users for links.' },
  expiration: { kind: 'timestamp', description: 'When the permission expires; null when it never does.' },
  invitation_email: { kind: 'text', description: 'E-mail the sharing invitation was sent to.' },
};

const AUDIENCE_RANK: Record<Audience, number> = { public: 3, external: 2, guest: 2, internal: 1, none: 0 };

/** The widest exposure a set of grants gives (the owner alone: private). */
export function exposureOf(grants: Iterable<{ audience: Audience | string }>): Exposure {
  let rank = 0;
  for (const g of grants) rank = Math.max(rank, AUDIENCE_RANK[g.audience as Audience] ?? 0);
  return rank === 3 ? 'public' : rank === 2 ? 'external' : rank === 1 ? 'internal' : 'private';
}

/** SharePoint claims that mean every account, guests included, or every member. */
const EVERYONE = /^c:0\(\.s\|true$/i;
const EVERYONE_EXCEPT_EXTERNAL = /^c:0-\.f\|rolemanager\|spo-grid-all-users/i;

/** The audience of a SharePoint Everyone claim; null for any other login name. */
function claimAudience(login: string): Audience | null {
  if (EVERYONE.test(login)) return 'external';
  if (EVERYONE_EXCEPT_EXTERNAL.test(login)) return 'internal';
  return null;
}

interface Recipient {
  kind: RecipientKind;
  audience: Audience;
  id: string | null;
  email: string | null;
  name: string | null;
  login: string | null;
}

/** A person or group from one identity set, classified against the tenant's verified domains. */
function recipientOf(set: IdentitySet, verified: readonly string[]): Recipient | null {
  const site = set.siteUser ?? set.siteGroup ?? null;
  const login = site?.loginName ?? set.user?.loginName ?? null;
  // The Everyone claims, whether Graph names them as a siteGroup or as a siteUser.
  const claim = login ? claimAudience(login) : null;
  if (claim) {
    const name = (set.siteGroup ?? set.siteUser ?? set.group ?? set.user)?.displayName ?? null;
    return { kind: 'site_group', audience: claim, id: set.group?.id ?? null, email: null, name, login };
  }
  if (set.user || set.siteUser) {
    const who = set.user ?? set.siteUser;
    const email =
      (who?.email ?? who?.userPrincipalName ?? set.siteUser?.email ?? null)?.toLowerCase() ??
      emailFromLogin(login);
    const base = { id: set.user?.id ?? null, email, name: who?.displayName ?? null, login };
    const marker = `${login ?? ''} ${email ?? ''}`.toLowerCase();
    if (marker.includes('#ext#')) return { kind: 'guest', audience: 'guest', ...base };
    if (marker.includes('urn:spo:guest') || isExternalAddress(email, null, verified))
      return { kind: 'external', audience: 'external', ...base };
    return { kind: set.user ? 'user' : 'site_user', audience: 'internal', ...base };
  }
  if (set.group || set.siteGroup) {
    const who = set.group ?? set.siteGroup;
    const email = (set.group?.email ?? null)?.toLowerCase() ?? null;
    const base = { id: set.group?.id ?? null, email, name: who?.displayName ?? null, login };
    return { kind: set.group ? 'group' : 'site_group', audience: 'internal', ...base };
  }
  const other = set.application ?? set.device;
  if (other) {
    return {
      kind: set.application ? 'application' : 'device',
      audience: 'internal',
      id: other.id ?? null,
      email: null,
      name: other.displayName ?? null,
      login,
    };
  }
  return null;
}

/** The audience of a link that names no recipients, by its scope. */
function linkRecipient(scope: string | null): Recipient {
  const none = { id: null, email: null, name: null, login: null };
  switch (scope) {
    case 'anonymous':
      return { kind: 'anyone', audience: 'public', ...none };
    case 'organization':
      return { kind: 'organization', audience: 'internal', ...none };
    case 'existingAccess':
      return { kind: 'existing_access', audience: 'none', ...none };
    case 'users':
      // A specific-people link whose people Graph did not list: it reaches no one we can name.
      return { kind: 'link', audience: 'none', ...none };
    default:
      // Unknown scope: someone holds a link; count it as reaching the organization.
      return { kind: 'link', audience: 'internal', ...none };
  }
}

export interface GrantContext {
  integrationId: string;
  tenantId: string;
  driveId: string;
  itemId: string;
  verifiedDomains: readonly string[];
}

/** Every grant one permission makes (at least one: a permission always reaches someone or is a link). */
export function grantsOf(p: GraphPermission, ctx: GrantContext): GrantRow[] {
  const roles = (p.roles ?? []).map(String);
  const isOwner = roles.includes('owner');
  const scope = strOrNull(p.link?.scope);
  const sets = identitySetsOf(p);
  const recipients: Recipient[] = [];
  for (const set of sets) {
    const r = set ? recipientOf(set, ctx.verifiedDomains) : null;
    if (r) recipients.push(r);
  }
  const invitation = p.invitation?.email?.toLowerCase() ?? null;
  if (recipients.length === 0 && invitation) {
    const external = isExternalAddress(invitation, null, ctx.verifiedDomains);
    recipients.push({
      kind: external ? 'external' : 'user',
      audience: external ? 'external' : 'internal',
      id: null,
      email: invitation,
      name: null,
      login: null,
    });
  }
  // Anyone and organization links reach their whole audience, whoever Graph lists as having used them.
  if (p.link && (recipients.length === 0 || scope === 'anonymous' || scope === 'organization'))
    recipients.unshift(linkRecipient(scope));
  if (recipients.length === 0) recipients.push({ ...linkRecipient('users'), kind: 'link' });

  const out: GrantRow[] = [];
  const keys = new Set<string>();
  for (const r of recipients) {
    let key = `${r.kind}:${r.id ?? r.email ?? r.login ?? ''}`;
    for (let n = 2; keys.has(key); n++) key = `${r.kind}:${r.id ?? r.email ?? r.login ?? ''}#${n}`;
    keys.add(key);
    out.push({
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      drive_id: ctx.driveId,
      item_id: ctx.itemId,
      permission_id: p.id,
      recipient_key: key,
      recipient_kind: r.kind,
      recipient_id: r.id,
      recipient_email: r.email,
      recipient_domain: domainOf(r.email),
      recipient_name: r.name,
      login_name: r.login,
      audience: isOwner ? 'none' : r.audience,
      is_owner: isOwner,
      roles,
      link_type: strOrNull(p.link?.type),
      link_scope: scope,
      expiration: isoOrNull(p.expirationDateTime),
      invitation_email: invitation,
    });
  }
  return out;
}
