/**
 * The write endpoints remediation uses, as Microsoft documents them (v1.0): DELETE of a
 * permission (Files.ReadWrite.All, 204, 404 when gone, inherited ones refused on the child),
 * PATCH of a permission (only `roles`), PATCH /admin/sharepoint/settings
 * (SharePointTenantSettings.ReadWrite.All, 200 with the settings).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GRAPH_ERROR_SHAPE, startTestSim, type TestSim } from '../../test/support/simulator.ts';
import type { TruthRecord } from '../contracts.ts';

type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;
let ts: TestSim;
before(async () => {
  ts = await startTestSim({ users: 10, items: 600, anonymousRatio: 0.05 });
});
after(() => ts.close());

async function anonymousLinks(): Promise<PermTruth[]> {
  const truth = await ts.admin.truthArray();
  return truth.filter((r): r is PermTruth => r.kind === 'permission' && r.linkScope === 'anonymous');
}

test('DELETE a permission needs Files.ReadWrite.All: 403 without it (reads still work), then 204, then 404', async () => {
  const [link] = await anonymousLinks();
  assert.ok(link, 'the tenant has an Anyone link');
  const url = `/drives/${link.driveId}/items/${link.itemId}/permissions/${link.id}`;
  await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'permissionsWrite' }]);
  const denied = await ts.call('DELETE', url);
  assert.equal(denied.status, 403);
  assert.equal(denied.body.error.code, 'accessDenied');
  assert.equal((await ts.get(`/drives/${link.driveId}/items/${link.itemId}/permissions`)).status, 200);
  assert.ok(
    (await anonymousLinks()).some((p) => p.id === link.id),
    'a refused DELETE changes nothing',
  );
  await ts.admin.setFaults([]);
  assert.equal((await ts.call('DELETE', url)).status, 204);
  assert.ok(!(await anonymousLinks()).some((p) => p.id === link.id), 'gone from the ground truth');
  const again = await ts.call('DELETE', url);
  assert.equal(again.status, 404);
  assert.ok(GRAPH_ERROR_SHAPE(again.body));
});

test('PATCH of a permission changes roles only; expirationDateTime is refused (400) and nothing changes', async () => {
  const [link] = await anonymousLinks();
  const url = `/drives/${link.driveId}/items/${link.itemId}/permissions/${link.id}`;
  const expiry = await ts.call('PATCH', url, { expirationDateTime: '2026-02-01T00:00:00Z' });
  assert.equal(expiry.status, 400);
  assert.match(expiry.body.error.message, /Only the roles property/);
  const same = (await anonymousLinks()).find((p) => p.id === link.id);
  assert.equal(same?.expirationDateTime, link.expirationDateTime);
  const roles = await ts.call('PATCH', url, { roles: ['read'] });
  assert.equal(roles.status, 200);
  assert.deepEqual(roles.body.roles, ['read']);
  assert.equal(roles.body.link.type, 'view');
});

test('PATCH /admin/sharepoint/settings: 200 with the whole object, GET sees it; 403 without ReadWrite; bad input 400', async () => {
  const before = (await ts.get('/admin/sharepoint/settings')).body;
  assert.equal(before.isResharingByExternalUsersEnabled, false, 'the mixed preset');
  await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'tenantSettingsWrite' }]);
  const denied = await ts.call('PATCH', '/admin/sharepoint/settings', { sharingCapability: 'disabled' });
  assert.equal(denied.status, 403);
  assert.equal((await ts.get('/admin/sharepoint/settings')).status, 200, 'reading still works');
  await ts.admin.setFaults([]);
  const patched = await ts.call('PATCH', '/admin/sharepoint/settings', {
    sharingCapability: 'existingExternalUserSharingOnly',
    sharingDomainRestrictionMode: 'allowList',
    sharingAllowedDomainList: ['fabrikam.test'],
  });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.sharingCapability, 'existingExternalUserSharingOnly');
  assert.equal(patched.body.tenantDefaultTimezone, before.tenantDefaultTimezone, 'the whole object');
  const after = (await ts.get('/admin/sharepoint/settings')).body;
  assert.deepEqual(after.sharingAllowedDomainList, ['fabrikam.test']);
  for (const bad of [
    { sharingCapability: 'everyone' },
    { noSuchSetting: true },
    { availableManagedPathsForSiteCreation: ['/x/'] },
  ]) {
    const res = await ts.call('PATCH', '/admin/sharepoint/settings', bad);
    assert.equal(res.status, 400, JSON.stringify(bad));
    assert.ok(GRAPH_ERROR_SHAPE(res.body));
  }
  assert.equal((await ts.get('/admin/sharepoint/settings')).body.sharingCapability, after.sharingCapability);
});
