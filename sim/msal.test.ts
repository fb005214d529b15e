import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import {
  ConfidentialClientApplication,
  type INetworkModule,
  type NetworkRequestOptions,
} from '@azure/msal-node';
import { Agent, request } from 'undici';
import { startTestSim, type TestSim } from '../test/support/simulator.ts';
import type { SimConnectionInfo } from './contracts.ts';

let ts: TestSim;
before(async () => {
  ts = await startTestSim({ users: 5, items: 30 });
});
after(() => ts.close());

/** A network client for msal that trusts the simulator's CA (certificate checks stay on). */
function caNetworkClient(caPem: string): INetworkModule & { close(): Promise<void> } {
  const agent = new Agent({ connect: { ca: caPem } });
  const send = async (method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions) => {
    const res = await request(url, {
      method,
      dispatcher: agent,
      headers: options?.headers,
      body: options?.body,
    });
    const text = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = String(v);
    // biome-ignore lint/suspicious/noExplicitAny: msal's generic body
    return { status: res.statusCode, headers, body: (text ? JSON.parse(text) : {}) as any };
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
    close: () => agent.close(),
  };
}

test('msal-node acquires a token with a client secret through a CA-carrying network client', async () => {
  const net = caNetworkClient(readFileSync(ts.sim.caCertPath, 'utf8'));
  const host = new URL(ts.sim.authorityUrl).host;
  const app = new ConfidentialClientApplication({
    auth: {
      clientId: ts.sim.clientId,
      clientSecret: ts.sim.clientSecret,
      authority: `${ts.sim.authorityUrl}/${ts.sim.tenantId}`,
      knownAuthorities: [host],
    },
    system: { networkClient: net },
  });
  const res = await app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
  assert.ok(res?.accessToken);
  const users = await ts.get('/users?$top=1', { authorization: `Bearer ${res.accessToken}` });
  assert.equal(users.status, 200);
  const bad = new ConfidentialClientApplication({
    auth: {
      clientId: ts.sim.clientId,
      clientSecret: 'wrong',
      authority: `${ts.sim.authorityUrl}/${ts.sim.tenantId}`,
      knownAuthorities: [host],
    },
    system: { networkClient: net },
  });
  await assert.rejects(
    bad.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] }),
    /AADSTS7000215/,
  );
  await net.close();
});

test('msal-node acquires a token with the registered certificate (client_assertion)', async () => {
  const net = caNetworkClient(readFileSync(ts.sim.caCertPath, 'utf8'));
  const pem = readFileSync(ts.sim.clientCertificatePath!, 'utf8');
  const privateKey = pem.slice(0, pem.indexOf('-----BEGIN CERTIFICATE-----'));
  const app = new ConfidentialClientApplication({
    auth: {
      clientId: ts.sim.clientId,
      authority: `${ts.sim.authorityUrl}/${ts.sim.tenantId}`,
      knownAuthorities: [new URL(ts.sim.authorityUrl).host],
      clientCertificate: { thumbprint: ts.sim.clientCertificateThumbprint!, privateKey },
    },
    system: { networkClient: net },
  });
  const res = await app.acquireTokenByClientCredential({ scopes: ['https://manage.office.com/.default'] });
  assert.ok(res?.accessToken);
  await net.close();
});

test('admin consent redirects back with tenant and admin_consent=True, or with an error when declined', async () => {
  const base = `${ts.sim.authorityUrl}/organizations/v2.0/adminconsent?client_id=${ts.sim.clientId}&scope=https://graph.microsoft.com/.default&redirect_uri=${encodeURIComponent('https://app.example/callback')}&state=xyz`;
  const ok = await request(base, { dispatcher: ts.agent });
  assert.equal(ok.statusCode, 302);
  const loc = new URL(String(ok.headers.location));
  assert.equal(loc.searchParams.get('tenant'), ts.sim.tenantId);
  assert.equal(loc.searchParams.get('admin_consent'), 'True');
  assert.equal(loc.searchParams.get('state'), 'xyz');
  await ok.body.dump();
  const no = await request(`${base}&sim_decision=decline`, { dispatcher: ts.agent });
  const nloc = new URL(String(no.headers.location));
  assert.equal(nloc.searchParams.get('error'), 'access_denied');
  assert.ok(nloc.searchParams.get('error_description'));
  await no.body.dump();
});

test('admin consent refuses a redirect URI Entra ID would not accept, without redirecting', async () => {
  const consent = (redirect: string) =>
    `${ts.sim.authorityUrl}/organizations/v2.0/adminconsent?client_id=${ts.sim.clientId}&scope=https://graph.microsoft.com/.default&redirect_uri=${encodeURIComponent(redirect)}&state=s`;
  const plain = await request(consent('http://dw.example/api/v1/connect/microsoft/callback'), {
    dispatcher: ts.agent,
  });
  assert.equal(plain.statusCode, 400);
  assert.equal(plain.headers.location, undefined);
  assert.match(await plain.body.text(), /AADSTS50011/);
  const loopback = await request(consent('http://127.0.0.1:8080/api/v1/connect/microsoft/callback'), {
    dispatcher: ts.agent,
  });
  assert.equal(loopback.statusCode, 302);
  await loopback.body.dump();
});

test('sim/main.ts prints one JSON line; msal-node in a process with NODE_EXTRA_CA_CERTS gets a token', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'sim/main.ts', '--seed', '3', '--users', '5', '--items', '40'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      child.stderr.on('data', (c) => {
        err += c;
      });
      child.on('exit', (code) => reject(new Error(`sim/main.ts exited ${code}: ${err}`)));
    });
    const info = JSON.parse(line) as SimConnectionInfo;
    assert.match(info.graphBaseUrl, /^https:\/\/127\.0\.0\.1:\d+\/v1\.0$/);
    const script = `
      import { ConfidentialClientApplication } from '@azure/msal-node';
      const app = new ConfidentialClientApplication({ auth: { clientId: ${JSON.stringify(info.clientId)}, clientSecret: ${JSON.stringify(info.clientSecret)},
        authority: ${JSON.stringify(`${info.authorityUrl}/${info.tenantId}`)}, knownAuthorities: [${JSON.stringify(new URL(info.authorityUrl).host)}] } });
      const r = await app.acquireTokenByClientCredential({ scopes: ['https://graph.microsoft.com/.default'] });
      process.stdout.write(r.accessToken ? 'TOKEN_OK' : 'NO_TOKEN');`;
    const out = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: info.caCertPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let s = '';
      c.stdout.on('data', (d) => {
        s += d;
      });
      c.stderr.on('data', (d) => {
        s += d;
      });
      c.on('exit', () => resolve(s));
    });
    assert.equal(out.trim(), 'TOKEN_OK', out);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }
});
