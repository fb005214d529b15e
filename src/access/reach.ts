import { type Kysely, sql } from 'kysely';
import type { Exposure } from '../resources/grant.ts';
import { decodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';

/**
 * The two questions every access rule and review asks, answered from the derived access
 * columns and the grants table (src/store/access.ts keeps them exact):
 *  - whoCanReach: everyone who can open an item, groups expanded through transitive
 *    membership, links named for what they are;
 *  - whatCanReach: every sharing root (and so every item) a principal can open: directly,
 *    through its groups, through organization links (members only), optionally Anyone
 *    links, and the drives it owns.
 * Both use indexes only (drive_items_access, grants_recipient_*, group_members_member).
 */

export type Via = 'owner' | 'direct' | 'group' | 'organization_link' | 'anyone_link' | 'link';

export interface Accessor {
  /** user, group member kinds (user, group, …), guest, external, anyone, organization, … */
  kind: string;
  id: string | null;
  email: string | null;
  name: string | null;
  via: Via;
  /** The group the access comes through (via = group). */
  groupId: string | null;
  groupName: string | null;
  audience: string;
  roles: string[];
  permissionId: string | null;
  linkType: string | null;
  linkScope: string | null;
  expiration: string | null;
}

export interface ItemReach {
  driveId: string;
  itemId: string;
  path: string | null;
  exposure: Exposure | null;
  /** The sharing root whose permissions apply; null: none, the owner alone. */
  accessRootId: string | null;
  accessors: Accessor[];
}

export class NotFoundError extends Error {}

/** The partial index grants_link's condition, spelled as it is (SQLite uses a partial index only for a query naming its terms). */
const LINK_KINDS = sql<boolean>`recipient_kind in ('organization', 'anyone')`;

const roleList = (v: unknown): string[] => {
  const r = decodeValue('json', v);
  return Array.isArray(r) ? r.map(String) : [];
};

function linkVia(kind: string): Via {
  if (kind === 'anyone') return 'anyone_link';
  if (kind === 'organization') return 'organization_link';
  if (kind === 'existing_access' || kind === 'link') return 'link';
  return 'direct';
}

/** Who can reach one item: its access root's grants (owner entry included), groups expanded. */
export async function whoCanReach(
  db: Kysely<Database>,
  integrationId: string,
  driveId: string,
  itemId: string,
): Promise<ItemReach> {
  const item = await db
    .selectFrom('drive_items')
    .select(['path', 'access_root_id', 'exposure'])
    .where('integration_id', '=', integrationId)
    .where('drive_id', '=', driveId)
    .where('id', '=', itemId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  if (!item) throw new NotFoundError(`no live item ${itemId} in drive ${driveId}`);
  const reach: ItemReach = {
    driveId,
    itemId,
    path: item.path,
    exposure: item.exposure as Exposure | null,
    accessRootId: item.access_root_id,
    accessors: [],
  };
  if (item.access_root_id === null) {
    // No sharing root above it: the drive's owner only.
    const drive = await db
      .selectFrom('drives')
      .select(['owner_id', 'owner_kind', 'owner_email', 'owner_name'])
      .where('integration_id', '=', integrationId)
      .where('id', '=', driveId)
      .executeTakeFirst();
    if (drive?.owner_id || drive?.owner_email)
      reach.accessors.push({
        kind: drive.owner_kind ?? 'user',
        id: drive.owner_id,
        email: drive.owner_email,
        name: drive.owner_name,
        via: 'owner',
        groupId: null,
        groupName: null,
        audience: 'none',
        roles: ['owner'],
        permissionId: null,
        linkType: null,
        linkScope: null,
        expiration: null,
      });
    return reach;
  }
  const grants = await db
    .selectFrom('grants')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('drive_id', '=', driveId)
    .where('item_id', '=', item.access_root_id)
    .orderBy('permission_id')
    .orderBy('recipient_key')
    .execute();
  const groupIds = grants
    .filter((g) => g.recipient_kind === 'group' && g.recipient_id)
    .map((g) => g.recipient_id as string);
  const members =
    groupIds.length === 0
      ? []
      : await db
          .selectFrom('group_members')
          .select(['group_id', 'id', 'member_type', 'display_name', 'user_principal_name', 'mail'])
          .where('integration_id', '=', integrationId)
          .where('group_id', 'in', groupIds)
          .where('deleted_at', 'is', null)
          .orderBy('group_id')
          .orderBy('id')
          .execute();
  for (const g of grants) {
    const base = {
      audience: g.audience,
      roles: roleList(g.roles),
      permissionId: g.permission_id,
      linkType: g.link_type,
      linkScope: g.link_scope,
      expiration: g.expiration,
    };
    reach.accessors.push({
      kind: g.recipient_kind,
      id: g.recipient_id,
      email: g.recipient_email,
      name: g.recipient_name,
      via: decodeValue('boolean', g.is_owner) ? 'owner' : linkVia(g.recipient_kind),
      groupId: null,
      groupName: null,
      ...base,
    });
    if (g.recipient_kind !== 'group') continue;
    for (const m of members) {
      if (m.group_id !== g.recipient_id) continue;
      reach.accessors.push({
        kind: m.member_type ?? 'user',
        id: m.id,
        email: (m.mail ?? m.user_principal_name)?.toLowerCase() ?? null,
        name: m.display_name,
        via: 'group',
        groupId: g.recipient_id,
        groupName: g.recipient_name,
        ...base,
      });
    }
  }
  return reach;
}

export interface PrincipalReach {
  /** What the principal was resolved to. */
  principal: {
    kind: 'user' | 'group' | 'address';
    id: string | null;
    email: string | null;
    isGuest: boolean;
  };
  /** Groups the principal belongs to (transitively). */
  groups: string[];
  /** Each sharing root reachable, and how; drives owned appear with rootId null. */
  roots: Array<{
    driveId: string;
    rootId: string | null;
    via: Via;
    groupId: string | null;
    roles: string[];
    linkScope: string | null;
    permissionId: string | null;
  }>;
  /**
   * Sharing roots reachable through links every member (organization) or anyone (Anyone)
   * can use: counted, and listed in `roots` only with `listLinkRoots` (a tenant can have
   * tens of thousands; they are the same for every member).
   */
  linkRoots: { organization: number; anyone: number };
  /** Up to `limit` reachable live items (the roots' items first, then owned drives', then links'). */
  items: Array<{ driveId: string; id: string; path: string | null; exposure: string | null; via: Via }>;
  /** More items are reachable than were listed. */
  truncated: boolean;
}

export interface WhatCanReachOptions {
  /** Count Anyone links as reachable (anyone who has the link can open them). Default false. */
  includeAnyoneLinks?: boolean;
  /** Count organization links for tenant members. Default true. */
  includeOrganizationLinks?: boolean;
  /** List the roots reached through organization and Anyone links in `roots` too. Default false. */
  listLinkRoots?: boolean;
  /** Items listed at most. Default 1,000. */
  limit?: number;
}

/**
 * What a principal can reach: a user by id, UPN or e-mail; a group by id or e-mail; or any
 * other address (an outside recipient).
 */
export async function whatCanReach(
  db: Kysely<Database>,
  integrationId: string,
  principal: string,
  opts: WhatCanReachOptions = {},
): Promise<PrincipalReach> {
  const limit = opts.limit ?? 1000;
  const key = principal.trim();
  const lower = key.toLowerCase();
  const user = await db
    .selectFrom('users')
    .select(['id', 'user_principal_name', 'mail', 'is_guest'])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .where((eb) => eb.or([eb('id', '=', key), eb('user_principal_name', '=', key), eb('mail', '=', lower)]))
    .executeTakeFirst();
  const group = user
    ? undefined
    : await db
        .selectFrom('groups')
        .select(['id', 'mail'])
        .where('integration_id', '=', integrationId)
        .where('deleted_at', 'is', null)
        .where((eb) => eb.or([eb('id', '=', key), eb('mail', '=', lower)]))
        .executeTakeFirst();
  const id = user?.id ?? group?.id ?? null;
  const emails = [
    ...new Set(
      [user?.mail, user?.user_principal_name, group?.mail, user || group ? null : lower]
        .filter((e): e is string => !!e)
        .map((e) => e.toLowerCase()),
    ),
  ];
  const isGuest = user ? decodeValue('boolean', user.is_guest) === true : !group;
  const out: PrincipalReach = {
    principal: { kind: user ? 'user' : group ? 'group' : 'address', id, email: emails[0] ?? null, isGuest },
    groups: [],
    roots: [],
    linkRoots: { organization: 0, anyone: 0 },
    items: [],
    truncated: false,
  };
  if (id)
    out.groups = (
      await db
        .selectFrom('group_members')
        .select('group_id')
        .where('integration_id', '=', integrationId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .execute()
    ).map((r) => r.group_id);

  type GrantPick = {
    drive_id: string;
    item_id: string;
    recipient_kind: string;
    recipient_id: string | null;
    roles: unknown;
    link_scope: string | null;
    permission_id: string;
  };
  const seen = new Set<string>();
  const addGrants = (rows: GrantPick[], via: (g: GrantPick) => Via) => {
    for (const g of rows) {
      const k = `${g.drive_id}\u0000${g.item_id}\u0000${g.permission_id}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const v = via(g);
      out.roots.push({
        driveId: g.drive_id,
        rootId: g.item_id,
        via: v,
        groupId: v === 'group' ? g.recipient_id : null,
        roles: roleList(g.roles),
        linkScope: g.link_scope,
        permissionId: g.permission_id,
      });
    }
  };
  const cols = [
    'drive_id',
    'item_id',
    'recipient_kind',
    'recipient_id',
    'roles',
    'link_scope',
    'permission_id',
  ] as const;
  // The owner entries are every root of the owner's own drives: those come from `drives` below.
  const base = () =>
    db
      .selectFrom('grants')
      .select(cols)
      .where('integration_id', '=', integrationId)
      .where(sql<boolean>`not is_owner`);
  if (id) addGrants(await base().where('recipient_id', '=', id).execute(), () => 'direct');
  if (emails.length > 0)
    addGrants(await base().where('recipient_email', 'in', emails).execute(), () => 'direct');
  if (out.groups.length > 0)
    addGrants(await base().where('recipient_id', 'in', out.groups).execute(), () => 'group');
  const linkKinds: Array<['organization' | 'anyone', Via]> = [];
  if ((opts.includeOrganizationLinks ?? true) && user && !isGuest)
    linkKinds.push(['organization', 'organization_link']);
  if (opts.includeAnyoneLinks) linkKinds.push(['anyone', 'anyone_link']);
  for (const [kind, via] of linkKinds) {
    if (opts.listLinkRoots)
      addGrants(await base().where('recipient_kind', '=', kind).where(LINK_KINDS).execute(), () => via);
    const counted = await db
      .selectFrom('grants')
      .select((eb) => eb.fn.count<number>('item_id').as('n'))
      .where('integration_id', '=', integrationId)
      .where('recipient_kind', '=', kind)
      .where(LINK_KINDS)
      .executeTakeFirst();
    out.linkRoots[kind] = Number(counted?.n ?? 0);
  }

  const owned = id
    ? await db
        .selectFrom('drives')
        .select('id')
        .where('integration_id', '=', integrationId)
        .where('owner_id', '=', id)
        .where('deleted_at', 'is', null)
        .execute()
    : [];
  for (const d of owned)
    out.roots.push({
      driveId: d.id,
      rootId: null,
      via: 'owner',
      groupId: null,
      roles: ['owner'],
      linkScope: null,
      permissionId: null,
    });

  // Items: per root through the access index, then owned drives, until the limit.
  const listed = new Set<string>();
  for (const r of out.roots) {
    if (out.items.length > limit) break;
    let q = db
      .selectFrom('drive_items')
      .select(['drive_id', 'id', 'path', 'exposure'])
      .where('integration_id', '=', integrationId)
      .where('drive_id', '=', r.driveId)
      .where('deleted_at', 'is', null);
    if (r.rootId !== null) q = q.where('access_root_id', '=', r.rootId);
    const rows = await q.limit(limit + 1 - out.items.length).execute();
    for (const row of rows) {
      const k = `${row.drive_id}\u0000${row.id}`;
      if (listed.has(k)) continue;
      listed.add(k);
      out.items.push({
        driveId: row.drive_id,
        id: row.id,
        path: row.path,
        exposure: row.exposure,
        via: r.via,
      });
    }
  }
  // Then the items of link roots (unless listed above), in one join per link kind.
  for (const [kind, via] of opts.listLinkRoots ? [] : linkKinds) {
    if (out.items.length > limit) break;
    const rows = await db
      .selectFrom('grants as g')
      .innerJoin('drive_items as i', (j) =>
        j
          .onRef('i.integration_id', '=', 'g.integration_id')
          .onRef('i.drive_id', '=', 'g.drive_id')
          .onRef('i.access_root_id', '=', 'g.item_id'),
      )
      .select(['i.drive_id', 'i.id', 'i.path', 'i.exposure'])
      .where('g.integration_id', '=', integrationId)
      .where('g.recipient_kind', '=', kind)
      .where(sql<boolean>`g.recipient_kind in ('organization', 'anyone')`)
      .where('i.deleted_at', 'is', null)
      .limit(limit + 1 - out.items.length)
      .execute();
    for (const row of rows) {
      const k = `${row.drive_id}\u0000${row.id}`;
      if (listed.has(k)) continue;
      listed.add(k);
      out.items.push({ driveId: row.drive_id, id: row.id, path: row.path, exposure: row.exposure, via });
    }
  }
  if (out.items.length > limit) {
    out.items.length = limit;
    out.truncated = true;
  }
  return out;
}
