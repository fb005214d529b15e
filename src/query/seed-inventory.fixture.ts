/**
 * A small inventory for the query console's tests, written the way the collector writes
 * (resource mappers, upsertRows, applyItemsPage: grants and exposure derived as in
 * production), so every expected row below is known by construction:
 *
 * - users alice, bob, carol (members), gina@fabrikam.test and hal@partner.test (guests);
 *   group Sales = bob + hal.
 * - alice's drive (900 of 1000 bytes): /Plans (folder, Anyone view link) holding q1.docx
 *   (modified 2024-01-01); /Budget.xlsx (modified 2025-12-01) shared with ext@gmail.com
 *   and with the guest gina; /Notes.txt (private).
 * - bob's drive (500 of 1000): /Deck.pptx shared with Sales (edit); /Old.docx (Anyone edit
 *   link, modified 2023-06-01); /Team (folder) shared with alice (read) holding spec.md.
 * - carol's drive (10 of 1000): /private.txt.
 * - the integration's sealed secret and a subscription's client state (the console must
 *   never show them).
 */

import { drive } from '../resources/drive.ts';
import { driveItem, type GraphDriveItem } from '../resources/drive-item.ts';
import { group } from '../resources/group.ts';
import { groupMember } from '../resources/group-member.ts';
import { type GraphPermission, permission } from '../resources/permission.ts';
import type { ResourceRow, RowContext } from '../resources/types.ts';
import { user } from '../resources/user.ts';
import { type ApplyContext, upsertRows } from '../store/apply.ts';
import { applyItemsPage } from '../store/items.ts';
import type { Store } from '../store/store.ts';

export const SEED = {
  integrationId: 'int-q',
  tenantId: 'tenant-q',
  domains: ['contoso.test'],
  secret: 'SEALED-CLIENT-SECRET-0123456789',
  certificate: 'SEALED-CERTIFICATE-PEM',
  clientState: 'CLIENT-STATE-abcdefghijklmnopqrstuvwxyz',
  /** The time the tests run the examples at (`:now`). */
  now: '2026-03-01T00:00:00.000Z',
} as const;

const ctxRow = (scope: Record<string, string> = {}): RowContext => ({
  integrationId: SEED.integrationId,
  tenantId: SEED.tenantId,
  verifiedDomains: SEED.domains,
  scope,
});

const person = (id: string, email: string, name: string, guest = false) => ({
  id,
  displayName: name,
  mail: email,
  userPrincipalName: guest ? `${email.replace('@', '_')}#EXT#@contoso.onmicrosoft.test` : email,
  userType: guest ? 'Guest' : 'Member',
  accountEnabled: true,
});

const USERS = [
  person('u-alice', 'alice@contoso.test', 'Alice'),
  person('u-bob', 'bob@contoso.test', 'Bob'),
  person('u-carol', 'carol@contoso.test', 'Carol'),
  person('u-gina', 'gina@fabrikam.test', 'Gina', true),
  person('u-hal', 'hal@partner.test', 'Hal', true),
];

const owner = (id: string, email: string): GraphPermission => ({
  id: `owner-${id}`,
  roles: ['owner'],
  grantedToV2: { user: { id, email } },
});
const anyoneLink = (id: string, type: 'view' | 'edit'): GraphPermission => ({
  id,
  roles: [type === 'edit' ? 'write' : 'read'],
  link: { type, scope: 'anonymous' },
});

interface SeedItem {
  id: string;
  name: string;
  parent: string | null;
  folder?: boolean;
  modified?: string;
  permissions?: GraphPermission[];
}

const DRIVES: Array<{ id: string; owner: (typeof USERS)[number]; used: number; items: SeedItem[] }> = [
  {
    id: 'd-alice',
    owner: USERS[0],
    used: 900,
    items: [
      { id: 'a-root', name: 'root', parent: null, folder: true },
      {
        id: 'a-plans',
        name: 'Plans',
        parent: 'a-root',
        folder: true,
        permissions: [owner('u-alice', 'alice@contoso.test'), anyoneLink('p-a-anyone', 'view')],
      },
      { id: 'a-q1', name: 'q1.docx', parent: 'a-plans', modified: '2024-01-01T00:00:00.000Z' },
      {
        id: 'a-budget',
        name: 'Budget.xlsx',
        parent: 'a-root',
        modified: '2025-12-01T00:00:00.000Z',
        permissions: [
          owner('u-alice', 'alice@contoso.test'),
          {
            id: 'p-a-ext',
            roles: ['read'],
            grantedToV2: {
              user: { email: 'ext@gmail.com', displayName: 'Ext' },
              siteUser: { loginName: 'i:0#.f|membership|urn:spo:guest#ext@gmail.com' },
            },
            invitation: { email: 'ext@gmail.com', signInRequired: true },
          },
          {
            id: 'p-a-gina',
            roles: ['read'],
            grantedToV2: {
              user: { id: 'u-gina', email: 'gina@fabrikam.test', displayName: 'Gina' },
              siteUser: { loginName: 'i:0#.f|membership|gina_fabrikam.test#ext#@contoso.onmicrosoft.test' },
            },
          },
        ],
      },
      { id: 'a-notes', name: 'Notes.txt', parent: 'a-root', modified: '2025-01-01T00:00:00.000Z' },
    ],
  },
  {
    id: 'd-bob',
    owner: USERS[1],
    used: 500,
    items: [
      { id: 'b-root', name: 'root', parent: null, folder: true },
      {
        id: 'b-deck',
        name: 'Deck.pptx',
        parent: 'b-root',
        modified: '2025-11-01T00:00:00.000Z',
        permissions: [
          owner('u-bob', 'bob@contoso.test'),
          {
            id: 'p-b-sales',
            roles: ['write'],
            grantedToV2: { group: { id: 'g-sales', email: 'sales@contoso.test', displayName: 'Sales' } },
          },
        ],
      },
      {
        id: 'b-old',
        name: 'Old.docx',
        parent: 'b-root',
        modified: '2023-06-01T00:00:00.000Z',
        permissions: [owner('u-bob', 'bob@contoso.test'), anyoneLink('p-b-anyone', 'edit')],
      },
      {
        id: 'b-team',
        name: 'Team',
        parent: 'b-root',
        folder: true,
        permissions: [
          owner('u-bob', 'bob@contoso.test'),
          {
            id: 'p-b-alice',
            roles: ['read'],
            grantedToV2: { user: { id: 'u-alice', email: 'alice@contoso.test' } },
          },
        ],
      },
      { id: 'b-spec', name: 'spec.md', parent: 'b-team', modified: '2025-02-01T00:00:00.000Z' },
    ],
  },
  {
    id: 'd-carol',
    owner: USERS[2],
    used: 10,
    items: [
      { id: 'c-root', name: 'root', parent: null, folder: true },
      { id: 'c-private', name: 'private.txt', parent: 'c-root', modified: '2020-01-01T00:00:00.000Z' },
    ],
  },
];

function itemRow(driveId: string, x: SeedItem): ResourceRow {
  const g: GraphDriveItem = {
    id: x.id,
    name: x.name,
    lastModifiedDateTime: x.modified ?? '2025-06-01T00:00:00.000Z',
    ...(x.parent ? { parentReference: { id: x.parent, driveId } } : { root: {} }),
    ...(x.folder ? { folder: { childCount: 0 } } : { file: { mimeType: 'application/octet-stream' } }),
    ...(x.permissions ? { shared: { scope: 'users' } } : {}),
  };
  return driveItem.toRow(g, ctxRow({ drive_id: driveId }));
}

/** Writes the inventory (and the secrets) into a fresh, migrated store. */
export async function seedInventory(store: Store): Promise<void> {
  const bool = (v: boolean) => (store.dialect === 'sqlite' ? (v ? 1 : 0) : v);
  await store.db
    .insertInto('integrations')
    .values({
      id: SEED.integrationId,
      name: 'contoso',
      tenant_id: SEED.tenantId,
      client_id: 'client-q',
      secret_enc: SEED.secret,
      certificate_enc: SEED.certificate,
      graph_base_url: null,
      authority_url: null,
      management_base_url: null,
      ca_pem: null,
      verified_domains: JSON.stringify(SEED.domains),
      enabled: bool(true),
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
      probe: null,
      probed_at: null,
    })
    .execute();
  await store.db
    .insertInto('graph_subscriptions')
    .values({
      id: 'sub-1',
      integration_id: SEED.integrationId,
      tenant_id: SEED.tenantId,
      resource: '/drives/d-alice/root',
      change_type: 'updated',
      client_state: SEED.clientState,
      notification_url: 'https://dw.example/webhooks/graph',
      expiration: '2026-03-02T00:00:00.000Z',
      created_at: '2026-03-01T00:00:00.000Z',
      last_renewed_at: null,
      status: 'active',
      last_error: null,
      last_error_at: null,
    })
    .execute();
  await store.db.transaction().execute(async (trx) => {
    const ctx: ApplyContext = {
      db: trx,
      dialect: store.dialect,
      integrationId: SEED.integrationId,
      tenantId: SEED.tenantId,
      source: 'full',
      now: '2026-02-01T00:00:00.000Z',
      verifiedDomains: SEED.domains,
    };
    await upsertRows(
      ctx,
      user,
      USERS.map((u) => user.toRow(u, ctxRow())),
    );
    await upsertRows(ctx, group, [
      group.toRow(
        { id: 'g-sales', displayName: 'Sales', mail: 'sales@contoso.test', securityEnabled: true },
        ctxRow(),
      ),
    ]);
    await upsertRows(
      ctx,
      groupMember,
      [USERS[1], USERS[4]].map((u) =>
        groupMember.toRow(
          {
            id: u.id,
            '@odata.type': '#microsoft.graph.user',
            displayName: u.displayName,
            userPrincipalName: u.userPrincipalName,
            mail: u.mail,
          },
          ctxRow({ group_id: 'g-sales' }),
        ),
      ),
    );
    for (const d of DRIVES) {
      await upsertRows(ctx, drive, [
        drive.toRow(
          {
            id: d.id,
            name: 'OneDrive',
            driveType: 'business',
            owner: { user: { id: d.owner.id, email: d.owner.mail, displayName: d.owner.displayName } },
            quota: { total: 1000, used: d.used, remaining: 1000 - d.used, deleted: 0, state: 'normal' },
          },
          ctxRow(),
        ),
      ]);
      const sharing = new Map<string, ResourceRow[] | null>();
      for (const x of d.items)
        sharing.set(
          x.id,
          x.permissions
            ? x.permissions.map((p) => permission.toRow(p, ctxRow({ drive_id: d.id, item_id: x.id })))
            : null,
        );
      await applyItemsPage(ctx, {
        driveId: d.id,
        entries: d.items.map((x) => ({ id: x.id, row: itemRow(d.id, x) })),
        sharing,
      });
    }
  });
}

/** Everything an attack could change, as one comparable value: row counts and the secrets. */
export async function inventorySnapshot(store: Store): Promise<Record<string, unknown>> {
  const tables = [
    'integrations',
    'graph_subscriptions',
    'users',
    'groups',
    'group_members',
    'drives',
    'drive_items',
    'permissions',
    'grants',
    'changes',
    'saved_queries',
  ] as const;
  // Every count in one statement: the attack suites take a snapshot after each attack, and on
  // PostgreSQL each round trip counts (14 statements: 12 ms a snapshot; 4: 5 ms, loaded machine).
  const counts = await store.db
    .selectNoFrom((eb) =>
      tables.map((t) =>
        eb
          .selectFrom(t)
          .select((c) => c.fn.countAll<number>().as('n'))
          .as(t),
      ),
    )
    .executeTakeFirstOrThrow();
  const out: Record<string, unknown> = {};
  for (const t of tables) out[t] = Number(counts[t]);
  out.secrets = await store.db.selectFrom('integrations').select(['secret_enc', 'certificate_enc']).execute();
  out.clientStates = await store.db.selectFrom('graph_subscriptions').select(['client_state']).execute();
  out.paths = (await store.db.selectFrom('drive_items').select('path').orderBy('id').execute()).map(
    (r) => r.path,
  );
  return out;
}
