import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GRAPH_ERROR_SHAPE, startTestSim, type TestSim } from '../../test/support/simulator.ts';

let ts: TestSim;
before(async () => {
  ts = await startTestSim({ users: 150, items: 600 });
});
after(() => ts.close());

test('token endpoint: client secret works; wrong secret and unknown tenant answer the AADSTS shapes', async () => {
  const ok = await ts.tokenRequest({
    client_id: ts.sim.clientId,
    client_secret: ts.sim.clientSecret,
    grant_type: 'client_credentials',
    scope: 'https://graph.microsoft.com/.default',
  });
  assert.equal(ok.status, 200);
  assert.equal(ok.body.token_type, 'Bearer');
  assert.equal(ok.body.expires_in, 3599);
  assert.equal(ok.body.access_token.split('.').length, 3);
  const wrong = await ts.tokenRequest({
    client_id: ts.sim.clientId,
    client_secret: 'nope',
    grant_type: 'client_credentials',
    scope: 'https://graph.microsoft.com/.default',
  });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.error, 'invalid_client');
  assert.deepEqual(wrong.body.error_codes, [7000215]);
  assert.match(wrong.body.error_description, /^AADSTS7000215:/);
  const tenant = await ts.tokenRequest(
    {
      client_id: ts.sim.clientId,
      client_secret: ts.sim.clientSecret,
      grant_type: 'client_credentials',
      scope: 'https://graph.microsoft.com/.default',
    },
    '00000000-0000-0000-0000-000000000000',
  );
  assert.equal(tenant.status, 400);
  assert.deepEqual(tenant.body.error_codes, [90002]);
  const scope = await ts.tokenRequest({
    client_id: ts.sim.clientId,
    client_secret: ts.sim.clientSecret,
    grant_type: 'client_credentials',
    scope: 'https://graph.microsoft.com/User.Read',
  });
  assert.equal(scope.status, 400);
  assert.equal(scope.body.error, 'invalid_scope');
});

test('Graph needs a graph-audience bearer; a management token or none is 401 with the Graph error shape', async () => {
  const none = await ts.call('GET', '/users', undefined, { authorization: '' });
  assert.equal(none.status, 401);
  assert.ok(GRAPH_ERROR_SHAPE(none.body));
  assert.equal(none.body.error.code, 'InvalidAuthenticationToken');
  const mgmt = await ts.get('/users', { authorization: `Bearer ${await ts.token('management')}` });
  assert.equal(mgmt.status, 401);
  assert.ok(typeof none.headers['request-id'] === 'string');
});

test('/users: 11 default properties, $select, nextLink paging, no $skip, $top ≤ 999', async () => {
  const first = await ts.get('/users?$top=40');
  assert.equal(first.status, 200);
  assert.equal(first.body.value.length, 40);
  assert.deepEqual(Object.keys(first.body.value[0]).sort(), [
    'businessPhones',
    'displayName',
    'givenName',
    'id',
    'jobTitle',
    'mail',
    'mobilePhone',
    'officeLocation',
    'preferredLanguage',
    'surname',
    'userPrincipalName',
  ]);
  assert.equal(first.body.value[0].accountEnabled, undefined);
  let all = [...first.body.value];
  let next = first.body['@odata.nextLink'];
  while (next) {
    const p = await ts.get(next);
    all = all.concat(p.body.value);
    next = p.body['@odata.nextLink'];
  }
  assert.equal(new Set(all.map((u) => u.id)).size, 150);
  const sel = await ts.get(
    '/users?$select=id,accountEnabled,userType,createdDateTime,creationType,externalUserState,assignedLicenses&$top=999',
  );
  const guest = sel.body.value.find((u: { userType: string }) => u.userType === 'Guest');
  assert.equal(guest.creationType, 'Invitation');
  assert.ok(['PendingAcceptance', 'Accepted'].includes(guest.externalUserState));
  assert.ok(
    sel.body.value.some(
      (u: { assignedLicenses: Array<{ skuId: string; disabledPlans: string[] }> }) =>
        u.assignedLicenses.length > 0 && Array.isArray(u.assignedLicenses[0].disabledPlans),
    ),
  );
  assert.equal(Object.keys(sel.body.value[0]).length, 7);
  const skip = await ts.get('/users?$skip=10');
  assert.equal(skip.status, 400);
  assert.ok(GRAPH_ERROR_SHAPE(skip.body));
  const big = await ts.get('/users?$top=1000');
  assert.equal(big.status, 400);
  assert.equal(big.body.error.code, 'Request_BadRequest');
  const badSel = await ts.get('/users?$select=id,shoeSize');
  assert.equal(badSel.status, 400);
  assert.ok(GRAPH_ERROR_SHAPE(badSel.body));
  const badTop = await ts.get('/users?$top=abc');
  assert.equal(badTop.status, 400);
});

test('/users with signInActivity: at most 120 per page', async () => {
  const r = await ts.get('/users?$select=id,signInActivity&$top=999');
  assert.equal(r.status, 200);
  assert.equal(r.body.value.length, 120);
  assert.ok(r.body['@odata.nextLink']);
  const rest = await ts.get(r.body['@odata.nextLink']);
  assert.equal(rest.body.value.length, 30);
  assert.ok('lastSignInDateTime' in r.body.value[1].signInActivity);
});

test('$filter minimal and $expand=manager, /users/{id}/manager, unknown user 404', async () => {
  const guests = await ts.get(`/users?$filter=userType eq 'Guest'&$select=id,userType`);
  assert.equal(guests.status, 200);
  assert.ok(
    guests.body.value.length > 0 &&
      guests.body.value.every((u: { userType: string }) => u.userType === 'Guest'),
  );
  const unsupported = await ts.get(`/users?$filter=shoeSize eq 4`);
  assert.equal(unsupported.status, 400);
  const syntax = await ts.get(`/users?$filter=userType eqq 'Guest'`);
  assert.equal(syntax.status, 400);
  assert.ok(GRAPH_ERROR_SHAPE(syntax.body));
  const users = await ts.admin.users();
  const managed = users.find((u) => u.managerId)!;
  const expanded = await ts.get(`/users/${managed.id}?$expand=manager($select=id,displayName)`);
  assert.equal(expanded.body.manager.id, managed.managerId);
  const mgr = await ts.get(`/users/${managed.id}/manager`);
  assert.equal(mgr.body.id, managed.managerId);
  const byUpn = await ts.get(`/users/${encodeURIComponent(managed.userPrincipalName)}`);
  assert.equal(byUpn.body.id, managed.id);
  const unknown = await ts.get('/users/00000000-0000-0000-0000-000000000001');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'Request_ResourceNotFound');
  assert.ok(GRAPH_ERROR_SHAPE(unknown.body));
  const noMgr = users.find((u) => !u.managerId)!;
  assert.equal((await ts.get(`/users/${noMgr.id}/manager`)).status, 404);
});

test('/users/delta and /groups/delta: full, token, @removed and members@delta', async () => {
  const first = await ts.get('/users/delta?$select=id,displayName,accountEnabled');
  let next = first.body['@odata.nextLink'];
  let count = first.body.value.length;
  let deltaLink = first.body['@odata.deltaLink'];
  while (next) {
    const p = await ts.get(next);
    count += p.body.value.length;
    next = p.body['@odata.nextLink'];
    deltaLink = p.body['@odata.deltaLink'];
  }
  assert.equal(count, 150);
  assert.ok(deltaLink);
  const gFull = await ts.get('/groups/delta');
  let gLink = gFull.body['@odata.deltaLink'];
  let gNext = gFull.body['@odata.nextLink'];
  while (gNext) {
    const p = await ts.get(gNext);
    gNext = p.body['@odata.nextLink'];
    gLink = p.body['@odata.deltaLink'];
  }
  assert.ok(Array.isArray(gFull.body.value[0]['members@delta']));
  const users = await ts.admin.users();
  const victim = users.find((u) => u.userType === 'Guest')!;
  const target = users.find((u) => u.userType === 'Member' && u.accountEnabled && u.id !== users[0].id)!;
  await ts.admin.mutate({ op: 'disableUser', userId: target.id });
  const { userId: newGuest } = await ts.admin.mutate<{ userId: string }>({
    op: 'addGuest',
    email: 'new.person@fabrikam.example',
  });
  const groups = (await ts.get('/groups?$top=999')).body.value;
  await ts.admin.mutate({ op: 'addGroupMember', groupId: groups[1].id, memberId: victim.id });
  await ts.admin.mutate({ op: 'deleteUser', userId: victim.id });
  const changes = await ts.get(deltaLink);
  assert.equal(changes.status, 200);
  const byId = new Map(changes.body.value.map((u: { id: string }) => [u.id, u]));
  assert.equal((byId.get(target.id) as { accountEnabled: boolean }).accountEnabled, false);
  assert.ok(byId.has(newGuest));
  assert.deepEqual((byId.get(victim.id) as { '@removed': unknown })['@removed'], { reason: 'deleted' });
  const gChanges = await ts.get(gLink);
  const g1 = gChanges.body.value.find((g: { id: string }) => g.id === groups[1].id);
  const entries = g1['members@delta'].filter((m: { id: string }) => m.id === victim.id);
  assert.ok(entries.some((m: Record<string, unknown>) => !m['@removed']));
  assert.ok(entries.some((m: Record<string, unknown>) => m['@removed']));
  const latest = await ts.get('/users/delta?$deltatoken=latest');
  assert.deepEqual(latest.body.value, []);
  assert.ok(latest.body['@odata.deltaLink']);
});

test('/groups and transitiveMembers include nested members; truth agrees', async () => {
  const groups = (await ts.get('/groups?$top=999')).body.value;
  assert.ok(groups.length > 3);
  assert.ok('securityEnabled' in groups[0]);
  const truth = await ts.admin.truthArray();
  const all = groups.find((g: { displayName: string }) => g.displayName === 'All Company');
  const members: string[] = [];
  let url: string | undefined = `/groups/${all.id}/transitiveMembers?$top=20`;
  while (url) {
    const p = await ts.get(url);
    assert.equal(p.status, 200);
    members.push(
      ...p.body.value.map((m: { id: string; '@odata.type': string }) => `${m['@odata.type']}:${m.id}`),
    );
    url = p.body['@odata.nextLink'];
  }
  assert.ok(
    members.some((m) => m.startsWith('#microsoft.graph.group:')),
    'nested group listed',
  );
  const truthMembers = truth
    .filter((r) => r.kind === 'member' && r.groupId === all.id)
    .map((r) => (r as { memberId: string }).memberId);
  assert.deepEqual(members.map((m) => m.split(':')[1]).sort(), truthMembers.sort());
  assert.equal((await ts.get('/groups/nope/transitiveMembers')).status, 404);
});

test('userRegistrationDetails: no disabled users, only $filter/$orderby', async () => {
  const r = await ts.get('/reports/authenticationMethods/userRegistrationDetails');
  assert.equal(r.status, 200);
  const users = await ts.admin.users();
  const disabled = new Set(users.filter((u) => !u.accountEnabled).map((u) => u.id));
  assert.ok(disabled.size > 0);
  let rows = r.body.value;
  let next = r.body['@odata.nextLink'];
  while (next) {
    const p = await ts.get(next);
    rows = rows.concat(p.body.value);
    next = p.body['@odata.nextLink'];
  }
  assert.ok(rows.every((x: { id: string }) => !disabled.has(x.id)));
  assert.ok(rows.every((x: { userType: string }) => x.userType === 'member' || x.userType === 'guest'));
  assert.equal(rows.length, users.length - disabled.size);
  const filtered = await ts.get(
    `/reports/authenticationMethods/userRegistrationDetails?$filter=isMfaRegistered eq false&$orderby=userPrincipalName`,
  );
  assert.ok(filtered.body.value.every((x: { isMfaRegistered: boolean }) => x.isMfaRegistered === false));
  assert.equal(
    (await ts.get('/reports/authenticationMethods/userRegistrationDetails?$select=id')).status,
    400,
  );
  assert.equal((await ts.get('/reports/authenticationMethods/userRegistrationDetails?$top=5')).status, 400);
});

test('unknown segments and malformed URLs answer 400 BadRequest with the Graph shape, never a stack', async () => {
  const r = await ts.get('/nonsense/thing');
  assert.equal(r.status, 400);
  assert.ok(GRAPH_ERROR_SHAPE(r.body));
  assert.doesNotMatch(r.text, /at .*\.ts:\d+/);
  const dup = await ts.get('/users?$top=1&$top=2');
  assert.equal(dup.status, 400);
  assert.ok(GRAPH_ERROR_SHAPE(dup.body));
});

test('/groups: documented properties in $select (onPremisesSyncEnabled null for cloud groups)', async () => {
  const r = await ts.get(
    '/groups?$select=id,displayName,mail,securityEnabled,groupTypes,onPremisesSyncEnabled,securityIdentifier,proxyAddresses,membershipRule,renewedDateTime&$top=999',
  );
  assert.equal(r.status, 200, r.text);
  assert.ok(r.body.value.length > 3);
  for (const g of r.body.value) {
    assert.equal(g.onPremisesSyncEnabled, null);
    assert.equal(g.membershipRule, null);
    assert.match(g.securityIdentifier, /^S-1-12-1-\d+-\d+-\d+-\d+$/);
    assert.deepEqual(g.proxyAddresses, g.mail ? [`SMTP:${g.mail}`] : []);
    assert.equal(typeof g.renewedDateTime, 'string');
    assert.equal('description' in g, false, 'only what was selected');
  }
  // the collector's own selection plus the sync flag
  const collector = await ts.get(
    '/groups?$select=id,displayName,description,mail,mailEnabled,securityEnabled,groupTypes,visibility,createdDateTime,onPremisesSyncEnabled&$top=999',
  );
  assert.equal(collector.status, 200, collector.text);
  const one = r.body.value[0];
  const single = await ts.get(`/groups/${one.id}?$select=id,onPremisesSyncEnabled,hideFromOutlookClients`);
  assert.equal(single.status, 200, single.text);
  assert.equal(single.body.onPremisesSyncEnabled, null);
  assert.ok('hideFromOutlookClients' in single.body);
  // Exchange-backed properties only on GET /groups/{id}; unknown names stay 400
  assert.equal((await ts.get('/groups?$select=id,hideFromOutlookClients')).status, 400);
  const bad = await ts.get('/groups?$select=id,noSuchProperty');
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'Request_BadRequest');
  const delta = await ts.get('/groups/delta?$select=id,displayName,onPremisesSyncEnabled');
  assert.equal(delta.status, 200, delta.text);
  assert.equal(delta.body.value[0].onPremisesSyncEnabled, null);
});

test('/organization: the tenant with its verified domains; forbidden403 resourceType organization', async () => {
  const r = await ts.get('/organization?$select=id,verifiedDomains');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.value.length, 1);
  const org = r.body.value[0];
  assert.equal(org.id, ts.sim.tenantId);
  assert.deepEqual(Object.keys(org).sort(), ['id', 'verifiedDomains']);
  assert.deepEqual(
    org.verifiedDomains.map((d: { name: string }) => d.name),
    ts.sim.verifiedDomains,
  );
  for (const d of org.verifiedDomains) {
    assert.equal(d.type, 'Managed');
    assert.equal(typeof d.capabilities, 'string');
  }
  assert.deepEqual(
    org.verifiedDomains
      .filter((d: { isDefault: boolean }) => d.isDefault)
      .map((d: { name: string }) => d.name),
    ['contoso.test'],
  );
  assert.deepEqual(
    org.verifiedDomains
      .filter((d: { isInitial: boolean }) => d.isInitial)
      .map((d: { name: string }) => d.name),
    ['contoso.onmicrosoft.test'],
  );
  const full = await ts.get('/organization');
  assert.equal(full.status, 200);
  assert.equal(full.body.value[0].displayName, 'Contoso');
  assert.equal(full.body.value[0].tenantType, 'AAD');
  assert.equal(
    (await ts.get(`/organization/${ts.sim.tenantId}?$select=displayName`)).body.displayName,
    'Contoso',
  );
  assert.equal((await ts.get('/organization?$select=nope')).status, 400);
  await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'organization' }]);
  try {
    const denied = await ts.get('/organization?$select=id,verifiedDomains');
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
    assert.ok(GRAPH_ERROR_SHAPE(denied.body));
    assert.equal((await ts.get('/users?$top=1')).status, 200, 'only the organization is denied');
  } finally {
    await ts.admin.setFaults([]);
  }
});
