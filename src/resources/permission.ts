import { z } from 'zod';
import { type IdentitySet, identitySetSchema } from './identity.ts';
import { domainOf, isGuestLogin, isoOrNull, type ResourceDef, type RowContext, strOrNull } from './types.ts';

export const permissionSchema = z
  .object({
    id: z.string().min(1),
    roles: z.array(z.string()).nullish(),
    link: z
      .object({
        type: z.string().nullish(),
        scope: z.string().nullish(),
        webUrl: z.string().nullish(),
        preventsDownload: z.boolean().nullish(),
      })
      .passthrough()
      .nullish(),
    grantedToV2: identitySetSchema.nullish(),
    grantedToIdentitiesV2: z.array(identitySetSchema).nullish(),
    grantedTo: identitySetSchema.nullish(),
    grantedToIdentities: z.array(identitySetSchema).nullish(),
    invitation: z
      .object({ email: z.string().nullish(), signInRequired: z.boolean().nullish() })
      .passthrough()
      .nullish(),
    inheritedFrom: z.object({ id: z.string().nullish() }).passthrough().nullish(),
    shareId: z.string().nullish(),
    expirationDateTime: z.string().nullish(),
    hasPassword: z.boolean().nullish(),
  })
  .passthrough();

export type GraphPermission = z.infer<typeof permissionSchema>;

type RecipientKind = 'user' | 'group' | 'siteUser' | 'siteGroup' | 'application' | 'device';

interface Recipient {
  kind: RecipientKind;
  id: string | null;
  email: string | null;
  loginName: string | null;
  name: string | null;
}

/**
 * The identity sets a permission names: grantedToV2 and grantedToIdentitiesV2, or the deprecated
 * grantedTo / grantedToIdentities when the V2 ones are missing (the list: or empty while the old
 * one is not).
 */
export function identitySetsOf(p: GraphPermission): Array<IdentitySet | null | undefined> {
  const identities = p.grantedToIdentitiesV2?.length
    ? p.grantedToIdentitiesV2
    : (p.grantedToIdentities ?? []);
  return [p.grantedToV2 ?? p.grantedTo, ...identities];
}

/** One recipient per identity set, named by its most specific identity (user, group, siteUser, …). */
function recipientsOf(sets: Array<IdentitySet | null | undefined>): Recipient[] {
  const out: Recipient[] = [];
  const seen = new Set<string>();
  for (const set of sets) {
    if (!set) continue;
    for (const kind of ['user', 'group', 'siteUser', 'siteGroup', 'application', 'device'] as const) {
      const who = set[kind];
      if (!who) continue;
      const email = (who.email ?? who.userPrincipalName ?? null)?.toLowerCase() ?? null;
      // A set naming a user and its SharePoint view: keep the login name (#ext#, urn:spo:guest) too.
      const site = set.siteUser ?? set.siteGroup;
      const loginName = who.loginName ?? site?.loginName ?? null;
      const r: Recipient = { kind, id: who.id ?? null, email, loginName, name: who.displayName ?? null };
      const key = `${r.email ?? ''}|${r.loginName ?? ''}|${r.id ?? ''}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(r);
      }
      break;
    }
  }
  return out;
}

/**
 * Every address a permission names, lower case: the e-mail of users and groups, the login
 * name of SharePoint users and groups (so #ext# and urn:spo:guest stay visible).
 */
function addressesOf(sets: Array<IdentitySet | null | undefined>): string[] {
  const out: string[] = [];
  for (const set of sets) {
    if (!set) continue;
    const candidates = [
      set.user?.email ?? set.user?.userPrincipalName,
      set.group?.email,
      set.siteUser?.loginName,
      set.siteGroup?.loginName,
    ];
    for (const c of candidates) {
      const v = c?.toLowerCase();
      if (v && !out.includes(v)) out.push(v);
    }
  }
  return out;
}

/**
 * An e-mail address hidden in a SharePoint login name: "i:0#.f|membership|bob_x.com#ext#@t.onmicrosoft.com"
 * (B2B guest), "i:0#.f|membership|urn:spo:guest#bob@x.com" (one-time-passcode guest).
 */
export function emailFromLogin(login: string | null): string | null {
  if (!login) return null;
  const last = (login.split('|').pop() ?? '').replace(/^urn:spo:guest#/i, '');
  if (/#ext#/i.test(last)) {
    const local = last.split(/#ext#/i)[0];
    const i = local.lastIndexOf('_');
    if (i > 0) return `${local.slice(0, i)}@${local.slice(i + 1)}`.toLowerCase();
  }
  return last.includes('@') ? last.toLowerCase() : null;
}

/** An address outside the tenant: a guest login marker, or a domain not among the verified ones (nor their subdomains). */
export function isExternalAddress(
  email: string | null,
  login: string | null,
  verified: readonly string[],
): boolean {
  if (isGuestLogin(login) || isGuestLogin(email)) return true;
  const domain = domainOf(email ?? emailFromLogin(login));
  if (!domain) return false;
  return !verified.some((d) => domain === d || domain.endsWith(`.${d}`));
}

export const permission = {
  type: 'permission',
  table: 'permissions',
  description:
    'Sharing permissions of the items that are roots of a sharing hierarchy (links, direct grants, invitations, owner).',
  kind: 'state',
  graph: {
    endpoint: '/drives/{id}/items/{id}/permissions',
    select: null,
    permissions: [{ permission: 'Files.Read.All', neededFor: 'sharing permissions of each shared item' }],
  },
  collection: 'per-sharing-root',
  schema: permissionSchema,
  key: ['drive_id', 'item_id', 'id'] as const,
  keyDescriptions: {
    drive_id: 'Graph id of the drive holding the item.',
    item_id: 'Graph id of the shared item.',
  },
  columns: {
    roles: { kind: 'json', description: 'Roles granted (JSON array): read, write, owner, …' },
    link_type: {
      kind: 'text',
      description: 'Sharing link type: view, edit or embed; null for direct grants.',
    },
    link_scope: {
      kind: 'text',
      description:
        'Sharing link scope: anonymous ("Anyone"), organization, existingAccess or users; null for direct grants.',
    },
    link_web_url: { kind: 'text', description: 'URL of the sharing link.' },
    expiration: { kind: 'timestamp', description: 'When the permission expires; null when it never does.' },
    prevents_download: { kind: 'boolean', description: 'Link blocks downloads (view-only in the browser).' },
    has_password: { kind: 'boolean', description: 'Link is password-protected (OneDrive personal only).' },
    recipient_kind: {
      kind: 'text',
      description:
        'Kind of the first recipient: user, group, siteUser, siteGroup, application, link (no recipient), invitation or owner.',
    },
    recipient_id: { kind: 'text', description: 'Graph id of the first recipient.' },
    recipient_email: {
      kind: 'text',
      description: 'E-mail (or SharePoint login name) of the first recipient, lower case.',
    },
    recipient_domain: { kind: 'text', description: 'Domain of recipient_email, lower case.' },
    recipient_name: { kind: 'text', description: 'Display name of the first recipient.' },
    recipients: {
      kind: 'json',
      description:
        'Every address the permission names (JSON array, lower case): e-mails of users and groups, login names of SharePoint users and groups.',
    },
    recipient_count: { kind: 'integer', description: 'Number of recipients (identity sets) granted.' },
    is_external: {
      kind: 'boolean',
      description:
        "Some recipient is outside the tenant: domain not among the integration's verified domains, #ext# or urn:spo:guest.",
    },
    is_guest: {
      kind: 'boolean',
      description: 'Some recipient is a guest account (#ext# / urn:spo:guest login).',
    },
    inherited: {
      kind: 'boolean',
      description: 'Inherited from an ancestor (inheritedFrom; not returned by OneDrive for Business).',
    },
    invitation_email: { kind: 'text', description: 'E-mail the sharing invitation was sent to.' },
    share_id: { kind: 'text', description: 'Share id usable with /shares.' },
  },
  toRow(p, ctx: RowContext) {
    const driveId = ctx.scope?.drive_id;
    const itemId = ctx.scope?.item_id;
    if (!driveId || !itemId) throw new Error('permission mapped without drive_id/item_id scope');
    const roles = p.roles ?? [];
    const sets = identitySetsOf(p);
    const recipients = recipientsOf(sets);
    const invitationEmail = p.invitation?.email?.toLowerCase() ?? null;
    const addresses = addressesOf(sets);
    if (invitationEmail && addresses.length === 0) addresses.push(invitationEmail);
    const first = recipients[0];
    let kind: string;
    if (roles.includes('owner')) kind = 'owner';
    else if (first) kind = first.kind;
    else if (invitationEmail) kind = 'invitation';
    else kind = 'link';
    const firstEmail = first
      ? (first.email ?? emailFromLogin(first.loginName) ?? first.loginName?.toLowerCase() ?? null)
      : invitationEmail;
    const verified = ctx.verifiedDomains;
    const external =
      recipients.some((r) => isExternalAddress(r.email, r.loginName, verified)) ||
      (invitationEmail !== null && isExternalAddress(invitationEmail, null, verified));
    const guest = recipients.some((r) => isGuestLogin(r.loginName) || isGuestLogin(r.email));
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      drive_id: driveId,
      item_id: itemId,
      id: p.id,
      roles,
      link_type: strOrNull(p.link?.type),
      link_scope: strOrNull(p.link?.scope),
      link_web_url: strOrNull(p.link?.webUrl),
      expiration: isoOrNull(p.expirationDateTime),
      prevents_download: p.link?.preventsDownload ?? false,
      has_password: p.hasPassword ?? false,
      recipient_kind: kind,
      recipient_id: first?.id ?? null,
      recipient_email: firstEmail,
      recipient_domain: domainOf(firstEmail),
      recipient_name: first?.name ?? null,
      recipients: addresses,
      recipient_count: recipients.length || (invitationEmail ? 1 : 0),
      is_external: external,
      is_guest: guest,
      inherited: p.inheritedFrom?.id != null,
      invitation_email: invitationEmail,
      share_id: strOrNull(p.shareId),
      raw: p,
    };
  },
} satisfies ResourceDef<GraphPermission>;
