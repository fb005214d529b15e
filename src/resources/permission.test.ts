import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GraphPermission, permission, permissionSchema } from './permission.ts';
import type { RowContext } from './types.ts';

/** Table-driven tests of the permission mapping: each Graph shape and the columns it must give. */

const ctx: RowContext = {
  integrationId: 'int-1',
  tenantId: 'tenant-1',
  verifiedDomains: ['contoso.com', 'contoso.onmicrosoft.com'],
  scope: { drive_id: 'drive-1', item_id: 'item-1' },
};

const member = (email: string, id = 'u-1') => ({
  user: { id, displayName: 'Adele Vance', email },
  siteUser: { id: '11', displayName: 'Adele Vance', email, loginName: `i:0#.f|membership|${email}` },
});

interface Case {
  name: string;
  graph: Record<string, unknown>;
  row: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    name: 'direct grant to a member',
    graph: { id: 'p1', roles: ['write'], grantedToV2: member('AdeleV@contoso.com') },
    row: {
      recipient_kind: 'user',
      recipient_id: 'u-1',
      recipient_email: 'adelev@contoso.com',
      recipient_domain: 'contoso.com',
      recipient_name: 'Adele Vance',
      recipients: ['adelev@contoso.com', 'i:0#.f|membership|adelev@contoso.com'],
      recipient_count: 1,
      is_external: false,
      is_guest: false,
      invitation_email: null,
      link_type: null,
      link_scope: null,
    },
  },
  {
    name: 'B2B guest: #ext# login and an outside e-mail',
    graph: {
      id: 'p2',
      roles: ['read'],
      grantedToV2: {
        user: { id: 'g-1', displayName: 'Bob (Fabrikam)', email: 'bob@fabrikam.com' },
        siteUser: {
          id: '12',
          displayName: 'Bob (Fabrikam)',
          email: 'bob@fabrikam.com',
          loginName: 'i:0#.f|membership|bob_fabrikam.com#ext#@contoso.onmicrosoft.com',
        },
      },
    },
    row: {
      recipient_kind: 'user',
      recipient_email: 'bob@fabrikam.com',
      recipient_domain: 'fabrikam.com',
      is_external: true,
      is_guest: true,
    },
  },
  {
    name: '#ext# login alone: the address is read from the login name',
    graph: {
      id: 'p3',
      roles: ['read'],
      grantedToV2: {
        siteUser: {
          id: '13',
          displayName: 'Bob',
          loginName: 'i:0#.f|membership|bob.smith_fabrikam.com#EXT#@contoso.onmicrosoft.com',
        },
      },
    },
    row: {
      recipient_kind: 'siteUser',
      recipient_email: 'bob.smith@fabrikam.com',
      recipient_domain: 'fabrikam.com',
      recipients: ['i:0#.f|membership|bob.smith_fabrikam.com#ext#@contoso.onmicrosoft.com'],
      is_external: true,
      is_guest: true,
    },
  },
  {
    name: 'one-time-passcode guest: urn:spo:guest login with an e-mail',
    graph: {
      id: 'p4',
      roles: ['read'],
      grantedToV2: {
        user: { displayName: 'alice@gmail.com', email: 'alice@gmail.com' },
        siteUser: {
          id: '14',
          displayName: 'alice@gmail.com',
          email: 'alice@gmail.com',
          loginName: 'i:0#.f|membership|urn:spo:guest#alice@gmail.com',
        },
      },
      invitation: { email: 'alice@gmail.com', signInRequired: true },
    },
    row: {
      recipient_kind: 'user',
      recipient_id: null,
      recipient_email: 'alice@gmail.com',
      recipient_domain: 'gmail.com',
      recipients: ['alice@gmail.com', 'i:0#.f|membership|urn:spo:guest#alice@gmail.com'],
      is_external: true,
      is_guest: true,
      invitation_email: 'alice@gmail.com',
    },
  },
  {
    name: 'urn:spo:guest login alone: the address is read from the login name',
    graph: {
      id: 'p5',
      roles: ['read'],
      grantedToV2: {
        siteUser: {
          id: '15',
          displayName: 'Alice',
          loginName: 'i:0#.f|membership|urn:spo:guest#Alice@Gmail.com',
        },
      },
    },
    row: {
      recipient_kind: 'siteUser',
      recipient_email: 'alice@gmail.com',
      recipient_domain: 'gmail.com',
      is_external: true,
      is_guest: true,
    },
  },
  {
    name: 'a subdomain of a verified domain is inside the tenant',
    graph: { id: 'p6', roles: ['read'], grantedToV2: member('megan@eu.contoso.com') },
    row: { recipient_domain: 'eu.contoso.com', is_external: false, is_guest: false },
  },
  {
    name: 'a look-alike domain is outside',
    graph: { id: 'p7', roles: ['read'], grantedToV2: { user: { email: 'megan@evilcontoso.com' } } },
    row: { recipient_domain: 'evilcontoso.com', is_external: true, is_guest: false },
  },
  {
    name: 'a verified domain as a prefix of an outside one is outside',
    graph: { id: 'p8', roles: ['read'], grantedToV2: { user: { email: 'megan@contoso.com.evil.io' } } },
    row: { recipient_domain: 'contoso.com.evil.io', is_external: true },
  },
  {
    name: 'invitation without a recipient yet',
    graph: { id: 'p9', roles: ['read'], invitation: { email: 'Carol@Fabrikam.com', signInRequired: true } },
    row: {
      recipient_kind: 'invitation',
      recipient_id: null,
      recipient_email: 'carol@fabrikam.com',
      recipient_domain: 'fabrikam.com',
      recipients: ['carol@fabrikam.com'],
      recipient_count: 1,
      invitation_email: 'carol@fabrikam.com',
      is_external: true,
      is_guest: false,
    },
  },
  {
    name: 'invitation to an address inside the tenant',
    graph: { id: 'p10', roles: ['read'], invitation: { email: 'new.hire@contoso.com' } },
    row: { recipient_kind: 'invitation', invitation_email: 'new.hire@contoso.com', is_external: false },
  },
  {
    name: 'link without a scope',
    graph: { id: 'p11', roles: ['read'], link: { type: 'view', webUrl: 'https://x/y' } },
    row: {
      recipient_kind: 'link',
      recipient_email: null,
      recipient_domain: null,
      recipients: [],
      recipient_count: 0,
      link_type: 'view',
      link_scope: null,
      link_web_url: 'https://x/y',
      is_external: false,
      is_guest: false,
      prevents_download: false,
    },
  },
  {
    name: 'Anyone link',
    graph: {
      id: 'p12',
      roles: ['write'],
      link: { type: 'edit', scope: 'anonymous', preventsDownload: false },
      expirationDateTime: '2030-01-02T03:04:05Z',
      hasPassword: true,
    },
    row: {
      recipient_kind: 'link',
      link_scope: 'anonymous',
      link_type: 'edit',
      expiration: '2030-01-02T03:04:05.000Z',
      has_password: true,
      is_external: false,
    },
  },
  {
    name: 'existing-access link',
    graph: { id: 'p13', roles: ['read'], link: { type: 'view', scope: 'existingAccess' } },
    row: { recipient_kind: 'link', link_scope: 'existingAccess', recipients: [], is_external: false },
  },
  {
    name: 'organization link that blocks downloads',
    graph: {
      id: 'p14',
      roles: ['read'],
      link: { type: 'view', scope: 'organization', preventsDownload: true },
      expirationDateTime: '0001-01-01T00:00:00Z',
    },
    row: { link_scope: 'organization', prevents_download: true, expiration: null, is_external: false },
  },
  {
    name: 'specific-people link naming a member and an outsider',
    graph: {
      id: 'p15',
      roles: ['read'],
      link: { type: 'view', scope: 'users' },
      grantedToIdentitiesV2: [
        member('adelev@contoso.com'),
        { user: { email: 'eve@tailspin.io', displayName: 'Eve' } },
      ],
    },
    row: {
      recipient_kind: 'user',
      recipient_email: 'adelev@contoso.com',
      recipients: ['adelev@contoso.com', 'i:0#.f|membership|adelev@contoso.com', 'eve@tailspin.io'],
      recipient_count: 2,
      is_external: true,
      is_guest: false,
    },
  },
  {
    name: 'deprecated grantedTo',
    graph: {
      id: 'p16',
      roles: ['write'],
      grantedTo: { user: { id: 'u-9', displayName: 'Old Shape', email: 'Old.Shape@Fabrikam.com' } },
    },
    row: {
      recipient_kind: 'user',
      recipient_id: 'u-9',
      recipient_email: 'old.shape@fabrikam.com',
      recipient_name: 'Old Shape',
      recipients: ['old.shape@fabrikam.com'],
      recipient_count: 1,
      is_external: true,
    },
  },
  {
    name: 'deprecated grantedToIdentities on a link',
    graph: {
      id: 'p17',
      roles: ['read'],
      link: { type: 'view', scope: 'users' },
      grantedToIdentities: [
        { user: { id: 'u-1', email: 'adelev@contoso.com' } },
        { user: { email: 'x@fabrikam.com' } },
      ],
    },
    row: {
      recipient_kind: 'user',
      recipients: ['adelev@contoso.com', 'x@fabrikam.com'],
      recipient_count: 2,
      is_external: true,
    },
  },
  {
    name: 'the V2 shape wins over the deprecated one',
    graph: {
      id: 'p18',
      roles: ['read'],
      grantedToV2: member('adelev@contoso.com'),
      grantedTo: { user: { email: 'stale@fabrikam.com' } },
    },
    row: { recipient_email: 'adelev@contoso.com', is_external: false },
  },
  {
    name: 'an empty V2 list next to a filled deprecated one: the deprecated one counts',
    graph: {
      id: 'p25',
      roles: ['read'],
      link: { type: 'view', scope: 'users' },
      grantedToIdentitiesV2: [],
      grantedToIdentities: [{ user: { email: 'x@fabrikam.com' } }],
    },
    row: { recipients: ['x@fabrikam.com'], recipient_count: 1, is_external: true },
  },
  {
    name: 'owner entry',
    graph: { id: 'p19', roles: ['owner'], grantedToV2: member('owner@contoso.com', 'u-owner') },
    row: {
      recipient_kind: 'owner',
      recipient_id: 'u-owner',
      recipient_email: 'owner@contoso.com',
      is_external: false,
      is_guest: false,
    },
  },
  {
    name: 'group with its SharePoint group claim',
    graph: {
      id: 'p20',
      roles: ['read'],
      grantedToV2: {
        group: { id: 'grp-1', displayName: 'Finance', email: 'finance@contoso.com' },
        siteGroup: {
          id: '5',
          displayName: 'Finance',
          loginName: 'c:0o.c|federateddirectoryclaimprovider|grp-1',
        },
      },
    },
    row: {
      recipient_kind: 'group',
      recipient_id: 'grp-1',
      recipient_email: 'finance@contoso.com',
      recipients: ['finance@contoso.com', 'c:0o.c|federateddirectoryclaimprovider|grp-1'],
      is_external: false,
    },
  },
  {
    name: 'SharePoint group without an e-mail',
    graph: {
      id: 'p21',
      roles: ['read'],
      grantedToV2: { siteGroup: { id: '3', displayName: 'Contoso Members', loginName: 'Contoso Members' } },
    },
    row: { recipient_kind: 'siteGroup', recipient_domain: null, is_external: false, is_guest: false },
  },
  {
    name: 'application',
    graph: {
      id: 'p22',
      roles: ['write'],
      grantedToV2: { application: { id: 'app-1', displayName: 'Backup' } },
    },
    row: {
      recipient_kind: 'application',
      recipient_id: 'app-1',
      recipient_email: null,
      recipient_name: 'Backup',
      is_external: false,
    },
  },
  {
    name: 'user known by its principal name only',
    graph: {
      id: 'p23',
      roles: ['read'],
      grantedToV2: { user: { id: 'u-3', userPrincipalName: 'Lee@Contoso.com' } },
    },
    row: { recipient_email: 'lee@contoso.com', recipients: ['lee@contoso.com'], is_external: false },
  },
  {
    name: 'inheritedFrom marks an inherited permission',
    graph: {
      id: 'p24',
      roles: ['read'],
      link: { type: 'view', scope: 'organization' },
      inheritedFrom: { id: 'parent' },
    },
    row: { inherited: true },
  },
];

for (const c of CASES)
  test(`permission mapping: ${c.name}`, () => {
    const parsed = permissionSchema.parse(c.graph) as GraphPermission;
    const row: Record<string, unknown> = permission.toRow(parsed, ctx);
    const picked = Object.fromEntries(Object.keys(c.row).map((k) => [k, row[k]]));
    assert.deepEqual(picked, c.row);
    assert.equal(row.id, c.graph.id);
    assert.equal(row.drive_id, 'drive-1');
    assert.equal(row.item_id, 'item-1');
  });

test('permission mapping: every typed column is set by toRow', () => {
  for (const c of CASES) {
    const row = permission.toRow(permissionSchema.parse(c.graph) as GraphPermission, ctx);
    for (const col of Object.keys(permission.columns)) assert.ok(col in row, `${c.name}: ${col}`);
  }
});
