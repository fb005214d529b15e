import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { simCredentials } from '../../../../sim/connection.ts';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { startTestSim, type TestSim } from '../../../../test/support/simulator.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { syncIntegration } from '../../../collect/sync.ts';

/** Follows one redirect of the simulator's consent page (its CA) without following further. */
async function consentRedirect(sim: TestSim, url: string): Promise<URL> {
  const res = await request(url, { dispatcher: sim.agent });
  await res.body.dump();
  assert.equal(res.statusCode, 302, `the consent endpoint answered ${res.statusCode}`);
  return new URL(String(res.headers.location));
}

/** The callback as the browser makes it: no token, no cookie; the answer is a redirect to the web app. */
async function callback(api: TestApi, url: URL): Promise<URLSearchParams> {
  const res = await fetch(new URL(`${url.pathname}${url.search}`, api.url), { redirect: 'manual' });
  assert.equal(res.status, 302, await res.text());
  const location = String(res.headers.get('location'));
  assert.match(location, /^\/integrations\?/);
  return new URL(location, api.url).searchParams;
}

for (const dialect of testDialects()) {
  describe(`integrations API (${dialect})`, () => {
    let sim: TestSim;
    let api: TestApi;
    const added: string[] = [];
    const removed: string[] = [];
    const creds = () => simCredentials(sim.sim);

    before(async () => {
      sim = await startTestSim({ users: 8, items: 120 });
      api = await startTestApi({
        dialect,
        hooks: {
          integrationAdded: (id) => void added.push(id),
          integrationRemoved: (id) => void removed.push(id),
        },
        config: {
          connect: {
            clientId: sim.sim.clientId,
            clientSecret: sim.sim.clientSecret,
            authority: sim.sim.authorityUrl,
            graphBaseUrl: sim.sim.graphBaseUrl,
            managementBaseUrl: sim.sim.managementBaseUrl,
            caFile: sim.sim.caCertPath,
          },
        },
      });
    });
    after(async () => {
      await api?.close();
      await sim?.close();
    });

    test('anonymous callers get 401, viewers 403 on every change', async () => {
      assert.equal((await api.anon.get('/api/v1/integrations')).status, 401);
      assert.equal((await api.anon.post('/api/v1/integrations', { ...creds(), name: 'x' })).status, 401);
      assert.equal((await api.anon.get('/api/v1/connect/microsoft/start')).status, 401);
      const v = api.viewer;
      assert.equal((await v.post('/api/v1/integrations', { ...creds(), name: 'x' })).status, 403);
      assert.equal((await v.post('/api/v1/integrations/x/disable')).status, 403);
      assert.equal((await v.post('/api/v1/integrations/x/enable')).status, 403);
      assert.equal((await v.post('/api/v1/integrations/x/probe')).status, 403);
      assert.equal((await v.delete('/api/v1/integrations/x?confirm=x')).status, 403);
      assert.equal((await v.get('/api/v1/connect/microsoft/start')).status, 403);
      assert.equal((await v.get('/api/v1/integrations')).status, 200);
    });

    test('bad input is refused naming the field; bad credentials are refused by the probe, nothing stored', async () => {
      const noClient = await api.admin.post('/api/v1/integrations', { ...creds(), clientId: 'nope' });
      assert.equal(noClient.status, 400);
      assert.match(noClient.body.error.message, /clientId/);
      const { clientSecret: _, ...noSecret } = creds();
      const secretless = await api.admin.post('/api/v1/integrations', noSecret);
      assert.equal(secretless.status, 400);
      assert.match(secretless.body.error.message, /clientSecret/);

      const bad = await api.admin.post('/api/v1/integrations', {
        ...creds(),
        name: 'wrong-secret',
        clientSecret: 'not-the-secret',
      });
      assert.equal(bad.status, 422, bad.text);
      assert.equal(bad.body.error.code, 'credentials_rejected');
      assert.match(
        bad.body.error.message,
        new RegExp(`do not work for tenant ${sim.sim.tenantId}: invalid_client`),
      );
      const list = await api.admin.get('/api/v1/integrations');
      assert.ok(!list.body.items.some((i: { name: string }) => i.name === 'wrong-secret'));
      assert.ok(!added.length, 'nothing to collect');
    });

    test('add with credentials: 201 with the probe per permission, collected, listed with its health', async () => {
      // One permission missing: the probe says which and what it unlocks, the integration is added anyway.
      await sim.admin.setFaults([{ kind: 'forbidden403', resourceType: 'mfa' }]);
      const res = await api.admin.post('/api/v1/integrations', {
        ...creds(),
        name: 'contoso',
        verifiedDomains: sim.sim.verifiedDomains,
      });
      await sim.admin.setFaults([]);
      assert.equal(res.status, 201, res.text);
      const { integration, probe } = res.body;
      assert.equal(integration.name, 'contoso');
      assert.equal(integration.tenantId, sim.sim.tenantId);
      assert.equal(integration.enabled, true);
      assert.ok(!('clientSecret' in integration) && !res.text.includes(sim.sim.clientSecret));
      assert.deepEqual(added, [integration.id], 'the service is asked to collect it');
      const mfa = probe.find((p: { capability: string }) => p.capability === 'user_mfa');
      assert.equal(mfa.granted, false);
      assert.equal(mfa.status, 'missing');
      assert.equal(mfa.permission, 'AuditLog.Read.All');
      assert.ok(
        mfa.unlocks.length > 0 && /accessDenied|Forbidden|Authorization/i.test(mfa.detail),
        mfa.detail,
      );
      const users = probe.find((p: { capability: string }) => p.capability === 'user');
      assert.equal(users.granted, true);

      const before = await api.viewer.get(`/api/v1/integrations/${integration.id}`);
      assert.equal(before.status, 200);
      assert.equal(before.body.status, 'pending');
      assert.equal(before.body.items, 0);
      assert.deepEqual(before.body.missingPermissions, ['AuditLog.Read.All']);
      assert.deepEqual(before.body.verifiedDomains, sim.sim.verifiedDomains);

      // What the service's start-up collection does (service.test.ts proves the service runs it).
      const stored = await api.app.integrations.getWithCredentials(integration.id);
      const client = api.app.graphClientFor(stored);
      try {
        await syncIntegration(
          { store: api.app.store, client, integration: stored, concurrency: 2 },
          { mode: 'full' },
        );
      } finally {
        await client.close();
      }
      const liveItems = await api.app.store.db
        .selectFrom('drive_items')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('integration_id', '=', integration.id)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      const list = await api.viewer.get('/api/v1/integrations');
      assert.equal(list.status, 200);
      const row = list.body.items.find((i: { id: string }) => i.id === integration.id);
      assert.equal(row.items, Number(liveItems.n));
      assert.ok(row.items > 0 && row.drives > 0, JSON.stringify(row));
      assert.ok(row.lastSyncAt && Date.parse(row.lastSyncAt) > Date.now() - 120_000, row.lastSyncAt);
      assert.ok(['ok', 'degraded'].includes(row.status), row.status);
      if (row.status === 'degraded') assert.ok(row.lastError.code, JSON.stringify(row.lastError));

      const dup = await api.admin.post('/api/v1/integrations', { ...creds(), name: 'contoso' });
      assert.equal(dup.status, 409);
      assert.match(dup.body.error.message, /already exists/);
    });

    test('probe again, disable and enable', async () => {
      const id = (await api.app.integrations.get('contoso'))?.id as string;
      const probed = await api.admin.post(`/api/v1/integrations/${id}/probe`);
      assert.equal(probed.status, 200, probed.text);
      assert.ok(
        probed.body.probe.every(
          (p: { granted: boolean; status: string }) => p.granted || p.status === 'skipped',
        ),
      );
      assert.deepEqual((await api.viewer.get(`/api/v1/integrations/${id}`)).body.missingPermissions, []);

      const off = await api.admin.post(`/api/v1/integrations/${id}/disable`);
      assert.equal(off.status, 200, off.text);
      assert.equal(off.body.integration.enabled, false);
      assert.deepEqual(removed, [id]);
      const listed = await api.viewer.get(`/api/v1/integrations/${id}`);
      assert.equal(listed.body.enabled, false);
      assert.equal(listed.body.status, 'disabled');

      added.length = 0;
      const on = await api.admin.post(`/api/v1/integrations/${id}/enable`);
      assert.equal(on.status, 200);
      assert.equal(on.body.integration.enabled, true);
      assert.deepEqual(added, [id], 'enabling asks the service to collect it again');
      assert.notEqual((await api.viewer.get(`/api/v1/integrations/${id}`)).body.status, 'disabled');
      assert.equal(
        (await api.admin.post('/api/v1/integrations/00000000-0000-0000-0000-000000000000/enable')).status,
        404,
      );
    });

    test('list pages by name with a cursor', async () => {
      for (const name of ['b-page', 'a-page', 'c-page'])
        await api.app.integrations.create({ ...creds(), name });
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: {
          status: number;
          text: string;
          body: { items: Array<{ name: string }>; nextCursor: string | null };
        } = await api.viewer.get(
          `/api/v1/integrations?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        assert.equal(res.status, 200, res.text);
        assert.ok(res.body.items.length <= 2);
        seen.push(...res.body.items.map((i: { name: string }) => i.name));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      assert.deepEqual(seen, ['a-page', 'b-page', 'c-page', 'contoso']);
      assert.equal(pages, 2);
      const desc = await api.viewer.get('/api/v1/integrations?sort=-name&limit=1');
      assert.equal(desc.body.items[0].name, 'contoso');
      assert.equal((await api.viewer.get('/api/v1/integrations?sort=bogus')).status, 400);
      assert.equal((await api.viewer.get('/api/v1/integrations?limit=0')).status, 400);
    });

    test('delete shows what it purges and needs the name as confirm', async () => {
      const id = (await api.app.integrations.get('contoso'))?.id as string;
      const preview = await api.viewer.get(`/api/v1/integrations/${id}/purge-preview`);
      assert.equal(preview.status, 200);
      assert.equal(preview.body.name, 'contoso');
      assert.ok(preview.body.tables.drive_items > 0 && preview.body.tables.users > 0, preview.text);
      assert.equal(
        preview.body.totalRows,
        Object.values(preview.body.tables as Record<string, number>).reduce((a, b) => a + b, 0),
      );

      const missing = await api.admin.delete(`/api/v1/integrations/${id}`);
      assert.equal(missing.status, 400);
      assert.match(missing.body.error.message, /confirm/);
      const wrong = await api.admin.delete(`/api/v1/integrations/${id}?confirm=contos`);
      assert.equal(wrong.status, 400);
      assert.match(wrong.body.error.message, /^confirm: .*"contoso"/);
      assert.ok((await api.app.integrations.get(id))?.id, 'still there');

      const done = await api.admin.delete(`/api/v1/integrations/${id}?confirm=contoso`);
      assert.equal(done.status, 200, done.text);
      assert.equal(done.body.rowsPurged, preview.body.totalRows);
      assert.equal((await api.viewer.get(`/api/v1/integrations/${id}`)).status, 404);
      assert.equal((await api.viewer.get(`/api/v1/integrations/${id}/purge-preview`)).status, 404);
      const left = await api.app.store.db
        .selectFrom('drive_items')
        .select('id')
        .where('integration_id', '=', id)
        .limit(1)
        .execute();
      assert.equal(left.length, 0);
    });

    test('Connect with Microsoft: start → consent → callback adds and probes the tenant; the state is single use', async () => {
      assert.deepEqual((await api.viewer.get('/api/v1/connect/microsoft')).body, {
        configured: true,
        clientId: sim.sim.clientId,
      });
      const start = await api.admin.get('/api/v1/connect/microsoft/start');
      assert.equal(start.status, 200, start.text);
      const consent = new URL(start.body.redirectUrl);
      assert.equal(
        consent.origin + consent.pathname,
        `${sim.sim.authorityUrl}/organizations/v2.0/adminconsent`,
      );
      assert.equal(consent.searchParams.get('client_id'), sim.sim.clientId);
      assert.equal(consent.searchParams.get('scope'), 'https://graph.microsoft.com/.default');
      assert.equal(consent.searchParams.get('redirect_uri'), `${api.url}/api/v1/connect/microsoft/callback`);
      assert.ok((consent.searchParams.get('state') ?? '').length >= 40);

      const back = await consentRedirect(sim, start.body.redirectUrl);
      assert.equal(back.searchParams.get('tenant'), sim.sim.tenantId);
      added.length = 0;
      const answer = await callback(api, back);
      const id = answer.get('added');
      assert.ok(id, `callback said ${answer.toString()}`);
      const stored = await api.app.integrations.get(id);
      assert.equal(stored?.tenantId, sim.sim.tenantId);
      assert.equal(stored?.clientId, sim.sim.clientId);
      assert.ok(stored?.probedAt, 'probed');
      assert.equal((stored?.probe as Record<string, string> | undefined)?.user, 'granted');
      assert.deepEqual(added, [id]);

      // Replayed, or with a state never given out: refused, nothing added.
      const replay = await callback(api, back);
      assert.match(String(replay.get('error')), /unknown, expired or already used/);
      const forged = new URL(back);
      forged.searchParams.set('state', 'made-up');
      assert.match(String((await callback(api, forged)).get('error')), /unknown, expired or already used/);
      assert.equal(
        (await api.app.integrations.list()).filter(
          (i) => i.tenantId === sim.sim.tenantId && i.name === sim.sim.tenantId,
        ).length,
        1,
      );
    });

    test('Connect with Microsoft: a declined consent comes back with Microsoft’s error text', async () => {
      const start = await api.admin.get('/api/v1/connect/microsoft/start');
      const back = await consentRedirect(sim, `${start.body.redirectUrl}&sim_decision=decline`);
      const answer = await callback(api, back);
      assert.equal(answer.get('added'), null);
      assert.match(String(answer.get('error')), /Microsoft refused: access_denied: AADSTS65004/);
    });
  });
}

test('Connect with Microsoft without an app registration configured: 409 naming the settings', async () => {
  const api = await startTestApi();
  try {
    assert.deepEqual((await api.viewer.get('/api/v1/connect/microsoft')).body, {
      configured: false,
      clientId: null,
    });
    const res = await api.admin.get('/api/v1/connect/microsoft/start');
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, 'connect_not_configured');
    assert.match(res.body.error.message, /DW_CONNECT_CLIENT_ID/);
  } finally {
    await api.close();
  }
});
