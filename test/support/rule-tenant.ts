/**
 * A small tenant for the built-in rule tests, written through the store's real write path
 * (resource mappings, upsertRows, applyItemsPage), so exposure, access roots and grants are
 * computed as the collector computes them. Every id is readable: drives `d-<owner>`, items
 * `i-<name>`, permissions `p-<what>`. `RULE_NOW` is the evaluation time the tests bind as :now.
 */
import { drive, type GraphDrive } from '../../src/resources/drive.ts';
import { driveItem, type GraphDriveItem } from '../../src/resources/drive-item.ts';
import { type GraphPermission, permission } from '../../src/resources/permission.ts';
import type { ResourceDef, ResourceRow, RowContext } from '../../src/resources/types.ts';
import { type GraphUser, user } from '../../src/resources/user.ts';
import { type GraphUserMfa, userMfa } from '../../src/resources/user-mfa.ts';
import { type ApplyContext, upsertRows } from '../../src/store/apply.ts';
import { applyItemsPage } from '../../src/store/items.ts';
import type { Store } from '../../src/store/store.ts';

export const RULE_INTEGRATION = 'int-rules';
export const RULE_NOW = '2026-01-01T00:00:00.000Z';
const TENANT = 'tenant-rules';
const DOMAIN = 'contoso.com';
const VERIFIED = [DOMAIN, 'contoso.onmicrosoft.com'];

// ---------- directory ----------

const member = (name: string, extra: Partial<GraphUser> = {}): GraphUser => ({
  id: `u-${name}`,
  userPrincipalName: `${name}@${DOMAIN}`,
  displayName: name,
  mail: `${name}@${DOMAIN}`,
  accountEnabled: true,
  userType: 'Member',
  createdDateTime: '2023-01-01T00:00:00Z',
  signInActivity: { lastSignInDateTime: '2025-12-20T08:00:00Z' },
  ...extra,
});

const guest = (name: string, state: string | null, since: string | null): GraphUser => ({
  id: `g-${name}`,
  userPrincipalName: `${name}_fabrikam.com#EXT#@contoso.onmicrosoft.com`,
  displayName: `${name} (Fabrikam)`,
  mail: `${name}@fabrikam.com`,
  accountEnabled: true,
  userType: 'Guest',
  creationType: 'Invitation',
  externalUserState: state,
  createdDateTime: since,
  externalUserStateChangeDateTime: since,
});

export const USERS: GraphUser[] = [
  member('alice'),
  member('bob', { accountEnabled: false }),
  member('carol', { signInActivity: { lastSignInDateTime: '2025-06-01T00:00:00Z' } }),
  member('dave', { signInActivity: { lastSignInDateTime: '2025-05-01T00:00:00Z' } }),
  // Neither an enabled state, nor a sign-in, nor a creation time.
  member('erin', { accountEnabled: null, signInActivity: null, createdDateTime: null }),
  // Never signed in, created long ago: inactive.
  member('frank', { signInActivity: { lastSignInDateTime: null }, createdDateTime: '2024-01-01T00:00:00Z' }),
  guest('gina', 'PendingAcceptance', '2025-09-01T00:00:00Z'),
  guest('hank', 'PendingAcceptance', '2025-12-20T00:00:00Z'),
  guest('ivy', 'Accepted', '2024-05-01T00:00:00Z'),
  guest('jack', 'PendingAcceptance', null),
];

const mfa = (name: string, registered: boolean | null): GraphUserMfa => ({
  id: `u-${name}`,
  userPrincipalName: `${name}@${DOMAIN}`,
  isMfaRegistered: registered,
});

/** Dave is missing from the report; Frank's entry does not say. */
export const MFA: GraphUserMfa[] = [mfa('alice', true), mfa('carol', false), mfa('frank', null)];

const quota = (state: string | null, used: number, total = 1_000_000) =>
  state === null ? undefined : { state, used, total, remaining: total - used, deleted: 0 };

const ownedDrive = (owner: string | null, q: GraphDrive['quota']): GraphDrive => ({
  id: `d-${owner ?? 'nobody'}`,
  name: 'OneDrive',
  driveType: 'business',
  webUrl: `https://contoso-my.sharepoint.com/personal/${owner ?? 'nobody'}/Documents`,
  ...(owner
    ? { owner: { user: { id: `u-${owner}`, email: `${owner}@${DOMAIN}`, displayName: owner } } }
    : {}),
  quota: q,
});

export const DRIVES: GraphDrive[] = [
  ownedDrive('alice', quota('normal', 100_000)),
  ownedDrive('bob', quota('nearing', 950_000)),
  ownedDrive('carol', quota('exceeded', 1_000_100)),
  ownedDrive('dave', null),
  ownedDrive('erin', quota('critical', 995_000)),
  // Owner not in the directory; a drive without an owner; a drive reporting bytes only.
  ownedDrive('ghost', quota('normal', 10)),
  ownedDrive(null, { used: 960_000, total: 1_000_000 }),
  ownedDrive('frank', quota('normal', 10)),
];

// ---------- permissions (Graph shapes) ----------

const owner = (name: string): GraphPermission => ({
  id: `p-owner-${name}`,
  roles: ['owner'],
  grantedToV2: {
    user: { id: `u-${name}`, email: `${name}@${DOMAIN}`, displayName: name },
    siteUser: { loginName: `i:0#.f|membership|${name}@${DOMAIN}` },
  },
});

const link = (
  id: string,
  scope: string,
  type: string | null,
  extra: { expiration?: string; preventsDownload?: boolean; roles?: string[] } = {},
): GraphPermission => ({
  id,
  roles: extra.roles ?? (type === 'edit' ? ['write'] : type === 'view' ? ['read'] : []),
  link: { scope, ...(type ? { type } : {}), preventsDownload: extra.preventsDownload ?? false },
  expirationDateTime: extra.expiration ?? '0001-01-01T00:00:00Z',
});

const person = (id: string, email: string | null, login: string, invitation = false): GraphPermission => ({
  id,
  roles: ['read'],
  grantedToV2: {
    user: { ...(email ? { email } : {}), displayName: email ?? login },
    siteUser: { loginName: login, ...(email ? { email } : {}) },
  },
  ...(invitation && email ? { invitation: { email, signInRequired: true } } : {}),
});

const EVERYONE = 'c:0(.s|true';
const EVERYONE_EXCEPT_EXTERNAL = 'c:0-.f|rolemanager|spo-grid-all-users/tenant-rules';

/** A grant to a SharePoint claim, named by Graph as a siteUser or a siteGroup. */
const claim = (id: string, login: string, identity: 'siteUser' | 'siteGroup'): GraphPermission => ({
  id,
  roles: ['read'],
  grantedToV2: { [identity]: { id: '4', displayName: 'Everyone', loginName: login } },
});

// ---------- Alice's drive ----------

interface Node {
  id: string;
  name: string;
  parent: string | null;
  folder?: boolean;
  modified?: string | null;
  /** Own permissions (besides the owner entry); a sharing root when given. */
  perms?: GraphPermission[];
}

const OLD = '2024-01-01T00:00:00Z';
const RECENT = '2025-12-01T00:00:00Z';

/** The folders and files of Alice's drive (i-root is the drive root). */
export const ALICE_ITEMS: Node[] = [
  { id: 'i-root', name: 'root', parent: null, folder: true },
  {
    id: 'i-public',
    name: 'Public',
    parent: 'i-root',
    folder: true,
    perms: [link('p-public-anyone', 'anonymous', 'view')],
  },
  { id: 'i-keys', name: 'Keys', parent: 'i-public', folder: true },
  { id: 'i-id_rsa', name: 'id_rsa', parent: 'i-keys', modified: OLD },
  { id: 'i-notes', name: 'notes.txt', parent: 'i-public', modified: RECENT },
  { id: 'i-undated', name: 'undated.txt', parent: 'i-public', modified: null },
  {
    id: 'i-partners',
    name: 'Partners',
    parent: 'i-root',
    folder: true,
    perms: [
      person(
        'p-partners-guest',
        'gina@fabrikam.com',
        'i:0#.f|membership|gina_fabrikam.com#ext#@contoso.onmicrosoft.com',
      ),
      person('p-partners-gmail', 'joe@gmail.com', 'i:0#.f|membership|urn:spo:guest#joe@gmail.com', true),
    ],
  },
  { id: 'i-pem', name: 'server.pem', parent: 'i-partners', modified: RECENT },
  {
    id: 'i-team',
    name: 'Team',
    parent: 'i-root',
    folder: true,
    perms: [
      link('p-team-org', 'organization', 'edit'),
      claim('p-team-members', EVERYONE_EXCEPT_EXTERNAL, 'siteGroup'),
      person('p-team-bob', `bob@${DOMAIN}`, `i:0#.f|membership|bob@${DOMAIN}`),
    ],
  },
  { id: 'i-kdbx', name: 'vault.kdbx', parent: 'i-team', modified: RECENT },
  { id: 'i-docs', name: 'Docs', parent: 'i-root', folder: true },
  {
    id: 'i-report',
    name: 'report.docx',
    parent: 'i-docs',
    modified: RECENT,
    perms: [link('p-report-anyone', 'anonymous', 'edit', { expiration: '2026-01-10T00:00:00Z' })],
  },
  {
    id: 'i-plan',
    name: 'plan.docx',
    parent: 'i-docs',
    modified: RECENT,
    perms: [
      link('p-plan-anyone', 'anonymous', 'view', {
        expiration: '2026-06-01T00:00:00Z',
        preventsDownload: true,
      }),
    ],
  },
  {
    id: 'i-expired',
    name: 'expired.docx',
    parent: 'i-docs',
    modified: RECENT,
    perms: [link('p-expired-anyone', 'anonymous', 'view', { expiration: '2025-11-01T00:00:00Z' })],
  },
  {
    id: 'i-odd',
    name: 'odd.txt',
    parent: 'i-docs',
    modified: RECENT,
    perms: [link('p-odd-anyone', 'anonymous', null), link('p-odd-org', 'organization', null)],
  },
  {
    id: 'i-everyone',
    name: 'everyone.txt',
    parent: 'i-docs',
    modified: RECENT,
    perms: [claim('p-everyone', EVERYONE, 'siteUser')],
  },
  {
    id: 'i-nodomain',
    name: 'nodomain.txt',
    parent: 'i-docs',
    modified: RECENT,
    perms: [person('p-nodomain', null, 'i:0#.f|membership|urn:spo:guest#anonymous')],
  },
  { id: 'i-env', name: '.env', parent: 'i-docs', modified: OLD },
  // Its parent never arrives: pending, exposure unknown.
  { id: 'i-orphan-key', name: 'id_ed25519', parent: 'i-missing', modified: RECENT },
];

/** Carol shares one file inside the organization; Dave shares nothing. */
const CAROL_ITEMS: Node[] = [
  { id: 'i-root', name: 'root', parent: null, folder: true },
  {
    id: 'i-carol-doc',
    name: 'minutes.docx',
    parent: 'i-root',
    modified: OLD,
    perms: [link('p-carol-org', 'organization', 'view')],
  },
];
const PLAIN_ITEMS: Node[] = [
  { id: 'i-root', name: 'root', parent: null, folder: true },
  { id: 'i-file', name: 'todo.txt', parent: 'i-root', modified: OLD },
];

// ---------- writing ----------

const rowCtx = (scope?: Record<string, string>): RowContext => ({
  integrationId: RULE_INTEGRATION,
  tenantId: TENANT,
  verifiedDomains: VERIFIED,
  ...(scope ? { scope } : {}),
});

function graphItem(n: Node, driveId: string): GraphDriveItem {
  return {
    id: n.id,
    name: n.name,
    ...(n.parent === null ? { root: {} } : { parentReference: { id: n.parent, driveId } }),
    ...(n.folder
      ? { folder: { childCount: 0 } }
      : { file: { mimeType: 'application/octet-stream' }, size: 100 }),
    ...(n.modified ? { lastModifiedDateTime: n.modified } : {}),
    ...(n.perms ? { shared: { scope: 'users' } } : {}),
  };
}

/** Items of a drive with their parents' permissions inherited, as Graph lists a sharing root's. */
function itemsPage(driveId: string, ownerName: string, nodes: Node[]) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const sharing = new Map<string, ResourceRow[] | null>();
  for (const n of nodes) {
    if (!n.perms) {
      sharing.set(n.id, null);
      continue;
    }
    const inherited: GraphPermission[] = [];
    for (let p = n.parent ? byId.get(n.parent) : undefined; p; p = p.parent ? byId.get(p.parent) : undefined)
      inherited.push(...(p.perms ?? []));
    const scope = { drive_id: driveId, item_id: n.id };
    sharing.set(
      n.id,
      [owner(ownerName), ...n.perms, ...inherited].map((g) => permission.toRow(g, rowCtx(scope))),
    );
  }
  return {
    driveId,
    entries: nodes.map((n) => ({
      id: n.id,
      row: driveItem.toRow(graphItem(n, driveId), rowCtx({ drive_id: driveId })),
    })),
    sharing,
  };
}

const def = <G>(d: ResourceDef<G>) => d as unknown as ResourceDef<unknown>;

/** Writes the whole tenant into an empty store. */
export async function seedRuleTenant(store: Store): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    const ctx: ApplyContext = {
      db: trx,
      dialect: store.dialect,
      integrationId: RULE_INTEGRATION,
      tenantId: TENANT,
      source: 'full',
      now: '2025-12-31T00:00:00.000Z',
      verifiedDomains: VERIFIED,
    };
    await upsertRows(
      ctx,
      def(user),
      USERS.map((u) => user.toRow(u, rowCtx())),
    );
    await upsertRows(
      ctx,
      def(userMfa),
      MFA.map((m) => userMfa.toRow(m, rowCtx())),
    );
    await upsertRows(
      ctx,
      def(drive),
      DRIVES.map((d) => drive.toRow(d, rowCtx())),
    );
    await applyItemsPage(ctx, itemsPage('d-alice', 'alice', ALICE_ITEMS));
    await applyItemsPage(ctx, itemsPage('d-carol', 'carol', CAROL_ITEMS));
    await applyItemsPage(ctx, itemsPage('d-dave', 'dave', PLAIN_ITEMS));
    await applyItemsPage(
      ctx,
      itemsPage('d-frank', 'frank', [
        PLAIN_ITEMS[0],
        {
          id: 'i-frank-doc',
          name: 'cv.docx',
          parent: 'i-root',
          modified: OLD,
          perms: [link('p-frank-org', 'organization', 'view')],
        },
      ]),
    );
  });
}
