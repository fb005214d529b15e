import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { GRAPH_ERROR_SHAPE, startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { sleep } from '../../test/support/wait.ts';

let ts: TestSim;
let driveId: string;
before(async () => {
  ts = await startTestSim({ users: 10, items: 200, ruBudgetPerMinute: 40, timeScale: 30 });
  driveId = (await ts.admin.drives())[0].id;
});
after(() => ts.close());

test('RU budget: priced per request, RateLimit headers near the limit, 429 with Retry-After, requests during Retry-After counted', async () => {
  await sleep(2100); // a fresh budget window (a "minute" lasts 2 s at timeScale 30)
  await ts.admin.resetCounters();
  const single = await ts.get(`/drives/${driveId}`);
  assert.equal(single.status, 200);
  assert.equal((await ts.admin.counters()).ruSpent, 1);
  await ts.get(`/drives/${driveId}/root/delta`); // 2
  const root = (await ts.admin.drives())[0].rootId;
  await ts.get(`/drives/${driveId}/items/${root}/permissions`); // 5
  assert.equal((await ts.admin.counters()).ruSpent, 8);
  let sawHeaders = false;
  let throttled: Awaited<ReturnType<TestSim['get']>> | undefined;
  for (let k = 0; k < 40 && !throttled; k++) {
    const r = await ts.get(`/drives/${driveId}/items/${root}/permissions`);
    if (r.headers['ratelimit-limit']) sawHeaders = true;
    if (r.status === 429) throttled = r;
  }
  assert.ok(sawHeaders, 'RateLimit-* headers near the limit');
  assert.ok(throttled, 'throttled once over budget');
  assert.ok(GRAPH_ERROR_SHAPE(throttled.body));
  const ra = Number(throttled.headers['retry-after']);
  assert.ok(ra > 0 && ra <= 2.1, `Retry-After ${throttled.headers['retry-after']}`);
  await ts.get(`/drives/${driveId}`);
  const c = await ts.admin.counters();
  assert.ok(c.throttledResponses >= 1);
  assert.ok(c.requestsDuringRetryAfter >= 1);
  assert.ok(c.requestsByEndpoint['GET /drives/{id}/items/{id}/permissions'] >= 2);
  await sleep(ra * 1000 + 50);
  assert.equal((await ts.get(`/drives/${driveId}`)).status, 200);
});

test('batch sub-requests are throttled and priced individually, each 429 with its own Retry-After', async () => {
  await sleep(2100);
  const root = (await ts.admin.drives())[0].rootId;
  const r = await ts.call('POST', '/$batch', {
    requests: Array.from({ length: 12 }, (_, k) => ({
      id: String(k),
      method: 'GET',
      url: `/drives/${driveId}/items/${root}/permissions`,
    })),
  });
  assert.equal(r.status, 200);
  const codes = r.body.responses.map((x: { status: number }) => x.status);
  assert.ok(codes.includes(200) && codes.includes(429), codes.join(','));
  for (const x of r.body.responses.filter((y: { status: number }) => y.status === 429))
    assert.ok(Number(x.headers['Retry-After']) > 0);
  await sleep(2100);
});

test('faults: 429 with decimal Retry-After, 503, 504, 401 expired, 403 per resource type', async () => {
  await ts.admin.setFaults([{ kind: 'throttle429', atRequest: 1, pathPattern: '/users$' }]);
  await ts.admin.resetCounters();
  const t = await ts.get('/users');
  assert.equal(t.status, 429);
  assert.equal(t.body.error.code, 'TooManyRequests');
  assert.match(String(t.headers['retry-after']), /^\d+(\.\d+)?$/);
  assert.equal((await ts.get('/users')).status, 200, 'atRequest fires once');
  assert.equal((await ts.admin.counters()).faultsServed.throttle429, 1);
  // decimal Retry-After appears
  await ts.admin.setFaults([{ kind: 'throttle429', rate: 1, pathPattern: '/groups$' }]);
  const seen = new Set<string>();
  for (let k = 0; k < 12; k++) seen.add(String((await ts.get('/groups')).headers['retry-after']));
  assert.ok(
    [...seen].some((v) => v.includes('.')),
    [...seen].join(' '),
  );
  await ts.admin.setFaults([
    { kind: 'unavailable503', atRequest: 1, pathPattern: '/users$' },
    { kind: 'gatewayTimeout504', atRequest: 2, pathPattern: '/users$' },
    { kind: 'expiredToken401', atRequest: 3, pathPattern: '/users$' },
    { kind: 'forbidden403', resourceType: 'signInActivity' },
  ]);
  assert.equal((await ts.get('/users')).status, 503);
  assert.equal((await ts.get('/users')).status, 504);
  const e401 = await ts.get('/users');
  assert.equal(e401.status, 401);
  assert.equal(e401.body.error.code, 'InvalidAuthenticationToken');
  const f = await ts.get('/users?$select=id,signInActivity');
  assert.equal(f.status, 403);
  assert.equal(f.body.error.code, 'Authorization_RequestDenied');
  assert.equal((await ts.get('/users?$select=id')).status, 200);
  await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'permissions' }]);
  const root = (await ts.admin.drives())[0].rootId;
  const p = await ts.get(`/drives/${driveId}/items/${root}/permissions`);
  assert.equal(p.status, 403);
  assert.equal(p.body.error.code, 'accessDenied');
  await ts.admin.setFaults([]);
  await assert.rejects(ts.admin.setFaults([{ kind: 'nope' as never }]), /kind must be one of/);
});

test('faults: hang (client timeout fires), reset, truncated JSON', async () => {
  await ts.admin.setFaults([{ kind: 'hang', atRequest: 1, pathPattern: '/drives/' }]);
  const token = await ts.token();
  await assert.rejects(
    request(`${ts.sim.graphBaseUrl}/drives/${driveId}`, {
      dispatcher: ts.agent,
      headers: { authorization: `Bearer ${token}` },
      headersTimeout: 300,
    }),
    /timeout/i,
  );
  await ts.admin.setFaults([{ kind: 'reset', atRequest: 1, pathPattern: '/drives/' }]);
  await assert.rejects(ts.get(`/drives/${driveId}`), /socket|other side closed|ECONNRESET/i);
  await ts.admin.setFaults([{ kind: 'truncated', atRequest: 1, pathPattern: '/drives/' }]);
  const cut = await ts.get(`/drives/${driveId}`);
  assert.equal(cut.status, 200);
  assert.throws(() => JSON.parse(cut.text));
  assert.equal((await ts.get(`/drives/${driveId}`)).status, 200);
  await ts.admin.setFaults([]);
});

test('faults: gone410 only on delta with a token, once per drive when asked', async () => {
  const drives = await ts.admin.drives();
  await ts.admin.setFaults([{ kind: 'gone410', rate: 1, oncePerDrive: true }]);
  assert.equal((await ts.get(`/drives/${driveId}/root/delta`)).status, 200, 'no token: no 410');
  const link = (await ts.get(`/drives/${driveId}/root/delta?token=latest`)).body['@odata.deltaLink'];
  const gone = await ts.get(link);
  assert.equal(gone.status, 410);
  assert.equal(gone.body.error.code, 'resyncRequired');
  assert.ok(gone.headers.location);
  assert.equal((await ts.get(link)).status, 200, 'once per drive');
  const other = drives[1].id;
  const link2 = (await ts.get(`/drives/${other}/root/delta?token=latest`)).body['@odata.deltaLink'];
  assert.equal((await ts.get(link2)).status, 410);
  await ts.admin.setFaults([]);
});

test('tokens expire on the simulated clock (advanceClock)', async () => {
  const fresh = await ts.tokenRequest({
    client_id: ts.sim.clientId,
    client_secret: ts.sim.clientSecret,
    grant_type: 'client_credentials',
    scope: 'https://graph.microsoft.com/.default',
  });
  const auth = { authorization: `Bearer ${fresh.body.access_token}` };
  assert.equal((await ts.get('/groups', auth)).status, 200);
  await ts.admin.mutate({ op: 'advanceClock', seconds: 3600 });
  const expired = await ts.get('/groups', auth);
  assert.equal(expired.status, 401);
  assert.match(expired.body.error.message, /expired/);
});
