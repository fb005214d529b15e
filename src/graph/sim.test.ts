/** The Graph client against the real simulator (sim/): token, /users paging, a $batch of permission calls. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { SimAdminClient } from '../../sim/admin-client.ts';
import type { SimHandle } from '../../sim/contracts.ts';
import { simCredentials, startSimulator } from '../../sim/index.ts';
import { createGraphClient } from './client.ts';
import { GraphError } from './errors.ts';
import type { GraphClient, GraphClientOptions } from './types.ts';

let sim: SimHandle;
let admin: SimAdminClient;
const clients: GraphClient[] = [];

function client(extra: Partial<GraphClientOptions> = {}): GraphClient {
  const c = createGraphClient({
    ...simCredentials(sim),
    label: 'sim',
    retryBaseMs: 20,
    retryMaxDelayMs: 200,
    ...extra,
  });
  clients.push(c);
  return c;
}

before(async () => {
  sim = await startSimulator({ seed: 7, users: 30, items: 400, sharedRatio: 0.1, timeScale: 10 });
  admin = new SimAdminClient(sim);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await admin?.close();
  await sim?.close();
});

describe('against the simulator', () => {
  it('pages /users and batches permission calls, RU matching the simulator', async () => {
    const c = client();
    await admin.resetCounters();
    const ids: string[] = [];
    let pages = 0;
    for await (const page of c.pages<{ id: string }>({ url: '/users?$top=7&$select=id,userPrincipalName' })) {
      pages++;
      ids.push(...page.value.map((u) => u.id));
    }
    const truth = await admin.truthArray();
    const users = truth.filter((r) => r.kind === 'user');
    assert.equal(ids.length, users.length);
    assert.deepEqual(new Set(ids), new Set(users.map((u) => u.id)));
    assert.ok(pages >= 5, `${pages} pages of 7`);

    const perms = truth.filter((r) => r.kind === 'permission');
    const items = [...new Map(perms.map((p) => [`${p.driveId}/${p.itemId}`, p])).values()].slice(0, 20);
    assert.ok(items.length >= 5, 'the tenant has shared items');
    const out = await c.batch<{ value: Array<{ id: string }> }>(
      items.map((p, i) => ({ id: String(i + 1), url: `/drives/${p.driveId}/items/${p.itemId}/permissions` })),
    );
    assert.deepEqual(
      out.map((r) => r.id),
      items.map((_, i) => String(i + 1)),
    );
    for (const [i, r] of out.entries()) {
      assert.equal(r.status, 200);
      const want = perms
        .filter((p) => p.driveId === items[i].driveId && p.itemId === items[i].itemId)
        .map((p) => p.id);
      assert.deepEqual(new Set(r.body.value.map((v) => v.id)), new Set(want));
    }
    const counters = await admin.counters();
    assert.equal(c.stats().ruSpent, counters.ruSpent, 'the client prices requests like the simulator');
    assert.equal(counters.requestsDuringRetryAfter, 0);
  });

  it('a wrong secret against the simulator is invalid_client without the secret', async () => {
    const c = client({ clientSecret: 'not-the-secret-123' });
    await assert.rejects(c.request({ url: '/users' }), (err: unknown) => {
      assert.ok(err instanceof GraphError);
      assert.equal(err.code, 'invalid_client');
      assert.ok(!err.message.includes('not-the-secret-123'));
      assert.match(err.message, /AADSTS7000215/);
      return true;
    });
  });

  it('authenticates with the certificate the simulator registered', async () => {
    assert.ok(sim.clientCertificatePath, 'the simulator exposes its client certificate');
    const c = client({
      clientSecret: undefined,
      certificatePem: readFileSync(sim.clientCertificatePath, 'utf8'),
    });
    const res = await c.request({ url: '/users?$top=1' });
    assert.equal(res.status, 200);
  });

  it('survives scripted 429/503/504/reset/truncated faults without requests during Retry-After', async () => {
    const c = client({ timeoutMs: 2_000 });
    await admin.resetCounters();
    await admin.setFaults([
      { kind: 'throttle429', atRequest: 2, pathPattern: '^/v1.0/users' },
      { kind: 'unavailable503', atRequest: 4, pathPattern: '^/v1.0/users' },
      { kind: 'gatewayTimeout504', atRequest: 5, pathPattern: '^/v1.0/users' },
      { kind: 'reset', atRequest: 6, pathPattern: '^/v1.0/users' },
      { kind: 'truncated', atRequest: 7, pathPattern: '^/v1.0/users' },
    ]);
    try {
      let n = 0;
      for await (const page of c.pages<{ id: string }>({ url: '/users?$top=5' })) n += page.value.length;
      assert.equal(n, 30);
      const counters = await admin.counters();
      assert.equal(counters.requestsDuringRetryAfter, 0);
      const served = Object.values(counters.faultsServed).reduce((a, b) => a + b, 0);
      assert.ok(served >= 4, `faults served: ${JSON.stringify(counters.faultsServed)}`);
      assert.equal(c.stats().retries, served, 'one retry per fault');
      assert.equal(c.stats().throttledResponses, 2, 'the 429 and the 503');
    } finally {
      await admin.setFaults([]);
    }
  });
});

describe('against a simulator with a small RU budget', () => {
  let small: SimHandle;
  let smallAdmin: SimAdminClient;
  before(async () => {
    small = await startSimulator({
      seed: 3,
      users: 20,
      items: 300,
      sharedRatio: 0.2,
      ruBudgetPerMinute: 100,
      timeScale: 60,
    });
    smallAdmin = new SimAdminClient(small);
  });
  after(async () => {
    await smallAdmin?.close();
    await small?.close();
  });

  it('a paced client spends 2 windows of budget without one 429', async () => {
    const c = createGraphClient({
      tenantId: small.tenantId,
      clientId: small.clientId,
      clientSecret: small.clientSecret,
      graphBaseUrl: small.graphBaseUrl,
      authorityUrl: small.authorityUrl,
      caPem: readFileSync(small.caCertPath, 'utf8'),
      ruBudgetPerMinute: 100,
      timeScale: 60,
    });
    clients.push(c);
    const perms = (await smallAdmin.truthArray()).filter((r) => r.kind === 'permission');
    const items = [...new Map(perms.map((p) => [`${p.driveId}/${p.itemId}`, p])).values()];
    assert.ok(items.length >= 40, `${items.length} shared items`);
    const t = Date.now();
    const batches = [items.slice(0, 20), items.slice(20, 40), items.slice(40, 50)];
    for (const b of batches) {
      const out = await c.batch(
        b.map((p, i) => ({ id: String(i), url: `/drives/${p.driveId}/items/${p.itemId}/permissions` })),
      );
      assert.ok(out.every((r) => r.status === 200));
    }
    const counters = await smallAdmin.counters();
    assert.equal(counters.throttledResponses, 0);
    assert.equal(c.stats().throttledResponses, 0);
    const ru = 5 * batches.reduce((n, b) => n + b.length, 0);
    assert.ok(ru > 200, `${ru} RU: more than two windows of budget`);
    assert.equal(counters.ruSpent, ru);
    assert.equal(c.stats().ruSpent, ru);
    const elapsed = Date.now() - t;
    // Paced over more than two windows, and windows of a second (timeScale), not of a minute;
    // the pacer's exact timing is tested on a simulated clock in ru.test.ts.
    assert.ok(elapsed >= 2_000 && elapsed < 30_000, `${ru} RU at 100 RU/s took ${elapsed} ms`);
  });

  it('a token refused inside a $batch fails the whole batch with 401 (as Graph), and the client refreshes once', async () => {
    const c = client();
    const truth = await admin.truthArray();
    const perms = truth.filter((r) => r.kind === 'permission');
    const items = [...new Map(perms.map((p) => [`${p.driveId}/${p.itemId}`, p])).values()].slice(0, 5);
    await admin.setFaults([{ kind: 'expiredToken401', atRequest: 2, pathPattern: '/permissions' }]);
    await admin.resetCounters();
    try {
      const out = await c.batch(
        items.map((p, i) => ({
          id: String(i + 1),
          url: `/drives/${p.driveId}/items/${p.itemId}/permissions`,
        })),
      );
      assert.deepEqual(
        out.map((r) => r.status),
        items.map(() => 200),
        'every sub-request answered after one refresh',
      );
      const counters = await admin.counters();
      assert.equal(counters.faultsServed.expiredToken401, 1);
      assert.equal(counters.requestsByEndpoint['POST /$batch'], 2, 'the batch was sent again once');
    } finally {
      await admin.setFaults([]);
    }
  });
});
