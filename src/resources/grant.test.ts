import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type GrantContext, grantsOf } from './grant.ts';
import type { GraphPermission } from './permission.ts';

/** SharePoint's Everyone claims: recognised by login name whether Graph names them as a siteGroup or a siteUser. */

const ctx: GrantContext = {
  integrationId: 'int-1',
  tenantId: 'tenant-1',
  driveId: 'drive-1',
  itemId: 'item-1',
  verifiedDomains: ['contoso.com'],
};

const EVERYONE = 'c:0(.s|true';
const EVERYONE_EXCEPT_EXTERNAL = 'c:0-.f|rolemanager|spo-grid-all-users/6f2c1a4e-0000-4000-8000-000000000001';

const CASES: Array<[string, GraphPermission, string]> = [
  [
    'Everyone as a siteGroup',
    {
      id: 'p1',
      roles: ['read'],
      grantedToV2: { siteGroup: { id: '4', displayName: 'Everyone', loginName: EVERYONE } },
    },
    'site_group/external',
  ],
  [
    'Everyone as a siteUser',
    {
      id: 'p2',
      roles: ['read'],
      grantedToV2: { siteUser: { id: '4', displayName: 'Everyone', loginName: EVERYONE } },
    },
    'site_group/external',
  ],
  [
    'Everyone except external users as a siteGroup',
    {
      id: 'p3',
      roles: ['write'],
      grantedToV2: {
        siteGroup: {
          id: '5',
          displayName: 'Everyone except external users',
          loginName: EVERYONE_EXCEPT_EXTERNAL,
        },
      },
    },
    'site_group/internal',
  ],
  [
    'Everyone except external users as a siteUser',
    {
      id: 'p4',
      roles: ['read'],
      grantedToV2: {
        siteUser: {
          id: '5',
          displayName: 'Everyone except external users',
          loginName: EVERYONE_EXCEPT_EXTERNAL,
        },
      },
    },
    'site_group/internal',
  ],
  [
    'an ordinary SharePoint user stays a site user',
    {
      id: 'p5',
      roles: ['read'],
      grantedToV2: {
        siteUser: { id: '11', displayName: 'Adele', loginName: 'i:0#.f|membership|adele@contoso.com' },
      },
    },
    'site_user/internal',
  ],
];

for (const [name, permission, expected] of CASES) {
  test(`grants: ${name} → ${expected}`, () => {
    const grants = grantsOf(permission, ctx);
    assert.equal(grants.length, 1);
    const [g] = grants;
    assert.equal(`${g.recipient_kind}/${g.audience}`, expected);
    assert.equal(g.recipient_email, expected.startsWith('site_group') ? null : 'adele@contoso.com');
    assert.ok(g.login_name && g.recipient_name, 'login and display name kept');
  });
}
