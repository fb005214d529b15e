import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import pino from 'pino';
import {
  type FakeGraph,
  graphError,
  json,
  makeClientCertificatePem,
  makePki,
  type Pki,
  startFakeGraph,
} from '../../test/support/fake-graph.ts';
import { waitFor } from '../../test/support/wait.ts';
import { USER_AGENT } from '../version.ts';
import { createGraphClient, safeUrl } from './client.ts';
import { GraphError } from './errors.ts';
import type { GraphClient, GraphClientOptions } from './types.ts';

let pki: Pki;
let fake: FakeGraph;
const clients: GraphClient[] = [];

function client(extra: Partial<GraphClientOptions> = {}): GraphClient {
  const c = createGraphClient({
    tenantId: fake.tenantId,
    clientId: fake.clientId,
    clientSecret: fake.clientSecret,
    graphBaseUrl: fake.graphBaseUrl,
    authorityUrl: fake.authorityUrl,
    managementBaseUrl: fake.managementBaseUrl,
    caPem: pki.caCert,
    label: 'contoso-test',
    retryBaseMs: 20,
    retryMaxDelayMs: 200,
    timeoutMs: 5_000,
    ...extra,
  });
  clients.push(c);
  return c;
}

async function rejects(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof GraphError, `expected a GraphError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the promise to reject');
}

before(async () => {
  pki = await makePki();
  fake = await startFakeGraph(pki);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await fake.close();
});

beforeEach(() => {
  fake.requests.length = 0;
  fake.count = 0;
  fake.tokenRequests.length = 0;
  fake.trustedClientCert = undefined;
  fake.handler = (req, res) => json(res, 200, { id: 'x', path: req.path });
});

describe('requests', () => {
  it('sends the decorated headers and parses JSON', async () => {
    const c = client();
    const res = await c.request<{ path: string }>({ url: '/users/u1', headers: { Prefer: 'x' } });
    assert.equal(res.status, 200);
    assert.equal(res.body.path, '/v1.0/users/u1');
    assert.ok(res.requestId);
    const h = fake.requests[0].headers;
    assert.equal(h['user-agent'], USER_AGENT);
    assert.match(String(h['client-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(h.accept, 'application/json');
    assert.equal(h.prefer, 'x');
    assert.match(String(h.authorization), /^Bearer tok-/);
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(fake.tokenRequests[0].scope, 'https://graph.microsoft.com/.default');
    // headers come back lower-cased
    assert.ok(Object.keys(res.headers).every((k) => k === k.toLowerCase()));
    assert.deepEqual(c.stats(), {
      requests: 1,
      ruSpent: 1,
      throttledResponses: 0,
      throttleWaitMs: 0,
      retries: 0,
    });
  });

  it('sends JSON bodies and returns 204 without a body', async () => {
    const c = client();
    fake.handler = (req, res) => {
      assert.equal(req.headers['content-type'], 'application/json');
      assert.deepEqual(JSON.parse(req.body), { a: 1 });
      res.writeHead(204).end();
    };
    const res = await c.request({ method: 'PATCH', url: '/subscriptions/s1', body: { a: 1 } });
    assert.equal(res.status, 204);
    assert.equal(res.body, undefined);
    assert.equal(c.stats().ruSpent, 2);
  });

  it('acquires one token for many concurrent first requests', async () => {
    const c = client();
    await Promise.all(Array.from({ length: 8 }, (_, i) => c.request({ url: `/users/u${i}` })));
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(fake.requests.length, 8);
  });

  it('refuses to send the token to a foreign host', async () => {
    const c = client();
    const err = await rejects(c.request({ url: 'https://evil.example/v1.0/users' }));
    assert.equal(err.code, 'foreignUrl');
    assert.equal(fake.requests.length, 0);
  });
});

describe('throttling and faults', () => {
  it('honours a decimal Retry-After and pauses the whole tenant', async () => {
    const c = client();
    let sent429At = 0;
    fake.handler = (req, res) => {
      if (req.path.endsWith('/first') && sent429At === 0) {
        sent429At = Date.now();
        graphError(res, 429, 'TooManyRequests', 'slow down', { 'retry-after': '0.35' });
        return;
      }
      json(res, 200, { ok: true });
    };
    await c.request({ url: '/users/warmup' }); // token acquired, connection open
    fake.requests.length = 0;
    const first = c.request({ url: '/users/first' });
    // fire the others once the client has seen the 429
    await waitFor('the 429', () => c.stats().throttledResponses > 0, { intervalMs: 5 });
    const others = Promise.all([c.request({ url: '/users/a' }), c.request({ url: '/users/b' })]);
    await Promise.all([first, others]);
    assert.ok(sent429At > 0);
    const later = fake.requests.filter((r) => r.at > sent429At);
    assert.equal(later.length, 3, 'the retry and the two others');
    for (const r of later) {
      assert.ok(
        r.at >= sent429At + 350,
        `${r.path} arrived ${r.at - sent429At} ms after the 429 (deadline 350 ms)`,
      );
    }
    const s = c.stats();
    assert.equal(s.throttledResponses, 1);
    assert.equal(s.retries, 1);
    assert.ok(s.throttleWaitMs >= 350, `throttleWaitMs ${s.throttleWaitMs}`);
  });

  it('retries 503, 504, a reset socket, a truncated body, a hang, then succeeds', async () => {
    // The timeout must fire on the hang only: generous enough that no other answer, on a busy
    // machine, takes as long (an extra attempt would change every count below).
    const c = client({ timeoutMs: 2_000 });
    const script = ['503', '504', 'reset', 'truncated', 'badjson', 'hang', 'ok'];
    fake.handler = (_req, res, n) => {
      const step = script[n - 1];
      if (step === '503') graphError(res, 503, 'serviceNotAvailable', 'busy');
      else if (step === '504') graphError(res, 504, 'gatewayTimeout', 'slow');
      else if (step === 'reset') res.socket?.destroy();
      else if (step === 'truncated') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"value":[{"id":');
        setTimeout(() => res.socket?.destroy(), 10);
      } else if (step === 'badjson') {
        const text = '{"value":[{"id":"1"},';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      } else if (step === 'hang') {
        // never answers: the client timeout must fire
      } else json(res, 200, { value: [{ id: '1' }] });
    };
    const res = await c.request<{ value: unknown[] }>({ url: '/users' });
    assert.deepEqual(res.body.value, [{ id: '1' }]);
    const s = c.stats();
    assert.equal(s.requests, 7);
    assert.equal(s.retries, 6);
    assert.equal(s.ruSpent, 14, 'every attempt of a list costs 2 RU');
    assert.equal(s.throttledResponses, 1, 'the 503');
  });

  it('backs off without Retry-After and gives up after maxRetries with the requestId', async () => {
    const c = client({ maxRetries: 3 });
    fake.handler = (_req, res, n) =>
      graphError(res, 429, 'activityLimitReached', 'throttled', { 'request-id': `rid-${n}` });
    const err = await rejects(c.request({ url: '/drives/d1/items/i1', resource: 'items' }));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'activityLimitReached');
    assert.equal(err.requestId, 'rid-4');
    assert.equal(err.resource, 'items');
    assert.match(err.message, /contoso-test/);
    assert.match(err.message, /after 4 attempts/);
    assert.equal(fake.requests.length, 4);
    const s = c.stats();
    assert.equal(s.retries, 3);
    assert.equal(s.throttledResponses, 4);
    // backoff caps: 20, 40, 80 ms max (+ the gate's 20 ms margin each) → the tenant was paused
    // under 200 ms: the client's own waits, counted without the machine's speed in them
    assert.ok(s.throttleWaitMs < 140 + 3 * 20, `paused ${s.throttleWaitMs} ms`);
  });

  it('takes the requestId from innerError when the header is missing', async () => {
    const c = client({ maxRetries: 0 });
    fake.handler = (_req, res) => {
      const text = JSON.stringify({
        error: { code: 'generalException', message: 'boom', innerError: { 'request-id': 'inner-1' } },
      });
      res.writeHead(500, { 'content-type': 'application/json' }).end(text);
    };
    const err = await rejects(c.request({ url: '/users/u1' }));
    assert.equal(err.status, 500);
    assert.equal(err.requestId, 'inner-1');
  });

  it('maps 403, 410, 404 and 400 to GraphError without retrying', async () => {
    const c = client();
    fake.handler = (req, res) => {
      if (req.path.includes('forbidden'))
        graphError(res, 403, 'accessDenied', 'Either scp or roles claim need to be present');
      else if (req.path.includes('delta'))
        graphError(res, 410, 'resyncRequired', 'Resync required', { location: 'x' });
      else if (req.path.includes('missing')) graphError(res, 404, 'itemNotFound', 'nope');
      else graphError(res, 400, 'invalidRequest', 'bad');
    };
    const e403 = await rejects(c.request({ url: '/users/forbidden', resource: 'users' }));
    assert.ok(e403.isAccessDenied);
    assert.equal(e403.code, 'accessDenied');
    const e410 = await rejects(c.request({ url: '/drives/d/root/delta?token=abc' }));
    assert.ok(e410.isResyncRequired);
    const e404 = await rejects(c.request({ url: '/users/missing/drive' }));
    assert.ok(e404.isNotFound);
    const e400 = await rejects(c.request({ url: '/users/bad' }));
    assert.equal(e400.status, 400);
    assert.equal(fake.requests.length, 4);
    assert.equal(c.stats().retries, 0);
  });

  it('slows down when RateLimit-Remaining says the budget is nearly spent', async () => {
    const c = client();
    let firstAt = 0;
    fake.handler = (_req, res, n) => {
      if (n === 1) {
        firstAt = Date.now();
        json(
          res,
          200,
          {},
          { 'ratelimit-limit': '1200', 'ratelimit-remaining': '3', 'ratelimit-reset': '0.3' },
        );
      } else json(res, 200, {});
    };
    await c.request({ url: '/users/u1' });
    await c.request({ url: '/users/u2' });
    assert.ok(
      fake.requests[1].at - firstAt >= 300,
      `second request after ${fake.requests[1].at - firstAt} ms`,
    );
  });
});

describe('auth', () => {
  it('refreshes the token once after a 401 (one refresh for many requests)', async () => {
    const c = client();
    await c.request({ url: '/users/u1' });
    assert.equal(fake.tokenRequests.length, 1);
    fake.validTokens.clear(); // every issued token is now "expired"
    await Promise.all(Array.from({ length: 5 }, (_, i) => c.request({ url: `/users/r${i}` })));
    assert.equal(fake.tokenRequests.length, 2, 'one refresh');
    assert.equal(
      fake.requests.filter((r) => r.path.includes('/users/r')).length,
      10,
      '5 refused + 5 retried',
    );
  });

  it('gives up with 401 when the refreshed token is refused too', async () => {
    const c = client();
    fake.handler = (_req, res) =>
      graphError(res, 401, 'InvalidAuthenticationToken', 'Access token validation failure.');
    const err = await rejects(c.request({ url: '/users/u1' }));
    assert.equal(err.status, 401);
    assert.equal(err.code, 'InvalidAuthenticationToken');
    assert.equal(fake.requests.length, 2);
    assert.equal(fake.tokenRequests.length, 2);
  });

  it('a wrong secret is a clear GraphError without the secret', async () => {
    const secret = 'Wr0ng~secret.value_123';
    const c = client({ clientSecret: secret });
    const err = await rejects(c.request({ url: '/users' }));
    assert.equal(err.status, 401);
    assert.equal(err.code, 'invalid_client');
    assert.match(err.message, new RegExp(fake.tenantId));
    assert.match(err.message, /contoso-test/);
    assert.match(err.message, /AADSTS7000215/);
    assert.ok(!err.message.includes(secret));
    assert.ok(!JSON.stringify(err).includes(secret));
    assert.equal(fake.requests.length, 0);
  });

  it('an unknown tenant is invalid_tenant', async () => {
    const c = client({ tenantId: '99999999-0000-0000-0000-000000000000' });
    const err = await rejects(c.request({ url: '/users' }));
    assert.equal(err.code, 'invalid_tenant');
    assert.match(err.message, /99999999-0000-0000-0000-000000000000/);
  });

  it('an unreachable authority is authority_unreachable (after retries)', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const c = client({ authorityUrl: `https://127.0.0.1:${port}`, maxRetries: 2 });
    const err = await rejects(c.request({ url: '/users' }));
    assert.equal(err.status, 401);
    assert.equal(err.code, 'authority_unreachable');
    assert.match(err.message, new RegExp(`127.0.0.1:${port}`));
    assert.equal(c.stats().retries, 2);
  });

  it('authenticates with a certificate (client assertion signed by its key)', async () => {
    const { pem, cert } = await makeClientCertificatePem();
    fake.trustedClientCert = cert;
    const c = client({ clientSecret: undefined, certificatePem: pem });
    const res = await c.request({ url: '/users/u1' });
    assert.equal(res.status, 200);
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(fake.tokenRequests[0].credential, 'assertion');
    // and a certificate the tenant does not know is refused
    const other = await makeClientCertificatePem();
    const c2 = client({ clientSecret: undefined, certificatePem: other.pem });
    const err = await rejects(c2.request({ url: '/users/u1' }));
    assert.equal(err.code, 'invalid_client');
  });

  it('trusts the local CA only through caPem', async () => {
    const c = client({ caPem: undefined, maxRetries: 1 });
    const err = await rejects(c.request({ url: '/users' }));
    assert.equal(err.code, 'tls_error');
    assert.match(err.message, /certificate/);
    assert.equal(fake.tokenRequests.length, 0);
  });

  it('uses the management scope and NextPageUri paging for api: management', async () => {
    const c = client();
    const base = `${fake.managementBaseUrl}/${fake.tenantId}/activity/feed/subscriptions/content`;
    fake.handler = (req, res) => {
      if (req.path.includes('page=2')) json(res, 200, [{ contentId: 'b' }]);
      else
        json(res, 200, [{ contentId: 'a' }], { NextPageUri: `${base}?contentType=Audit.SharePoint&page=2` });
    };
    const seen: string[] = [];
    const url = `/${fake.tenantId}/activity/feed/subscriptions/content?contentType=Audit.SharePoint`;
    for await (const page of c.pages<{ contentId: string }>({ url, api: 'management' })) {
      seen.push(...page.value.map((v) => v.contentId));
    }
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(fake.tokenRequests.length, 1);
    assert.equal(fake.tokenRequests[0].scope, 'https://manage.office.com/.default');
    assert.ok(fake.requests[0].path.startsWith('/api/v1.0/'));
    assert.equal(c.stats().ruSpent, 0);
  });
});

describe('paging', () => {
  it('follows opaque nextLinks over 3 pages and passes the deltaLink through', async () => {
    const c = client();
    const p2 = `${fake.graphBaseUrl}/drives/d1/root/microsoft.graph.delta(token='p2%3D')?$top=2`;
    const p3 = `${fake.graphBaseUrl}/drives/d1/root/delta?token=p3`;
    const delta = `${fake.graphBaseUrl}/drives/d1/root/delta?token=final`;
    fake.handler = (req, res) => {
      assert.equal(req.headers.prefer, 'hierarchicalsharing', 'Prefer is sent on every page');
      if (req.path.includes("token='p2%3D'"))
        json(res, 200, { value: [{ id: 3 }, { id: 4 }], '@odata.nextLink': p3 });
      else if (req.path.includes('token=p3'))
        json(res, 200, { value: [{ id: 5 }], '@odata.deltaLink': delta });
      else json(res, 200, { value: [{ id: 1 }, { id: 2 }], '@odata.nextLink': p2 });
    };
    const pages = [];
    for await (const page of c.pages<{ id: number }>({
      url: '/drives/d1/root/delta?$top=2',
      headers: { Prefer: 'hierarchicalsharing' },
    })) {
      pages.push(page);
    }
    assert.equal(pages.length, 3);
    assert.deepEqual(
      pages.flatMap((p) => p.value.map((v) => v.id)),
      [1, 2, 3, 4, 5],
    );
    assert.equal(pages[0].nextLink, p2);
    assert.equal(pages[2].nextLink, undefined);
    assert.equal(pages[2].deltaLink, delta);
    assert.ok(pages.every((p) => p.requestId));
    assert.equal(fake.requests[1].path, "/v1.0/drives/d1/root/microsoft.graph.delta(token='p2%3D')?$top=2");
    // delta without token 2 RU, then two pages with a token 1 RU each
    assert.equal(c.stats().ruSpent, 4);
  });

  it('a page without a value array is a GraphError', async () => {
    const c = client();
    fake.handler = (_req, res) => json(res, 200, { id: 'not a collection' });
    const it = c.pages({ url: '/users/u1' });
    const err = await rejects(it.next());
    assert.equal(err.code, 'invalidPage');
  });
});

describe('batch', () => {
  it('re-sends throttled sub-requests after their Retry-After and answers in input order', async () => {
    const c = client();
    const envelopes: Array<{ requests: Array<{ id: string; url: string; method: string }> }> = [];
    let throttledAt = 0;
    fake.handler = (req, res) => {
      assert.equal(req.path, '/v1.0/$batch');
      const env = JSON.parse(req.body);
      envelopes.push(env);
      const responses = env.requests.map((r: { id: string; url: string }) => {
        if (r.id === '2' && envelopes.length === 1) {
          throttledAt = Date.now();
          return {
            id: r.id,
            status: 429,
            headers: { 'Retry-After': '0.25' },
            body: { error: { code: 'TooManyRequests', message: 'slow' } },
          };
        }
        if (r.id === '3') {
          // body as base64 JSON, as Graph sometimes does
          return {
            id: r.id,
            status: 200,
            headers: { 'Content-Type': 'application/json' },
            body: Buffer.from(JSON.stringify({ value: [{ id: 'p3' }] })).toString('base64'),
          };
        }
        return {
          id: r.id,
          status: 200,
          headers: { 'Content-Type': 'application/json' },
          body: { value: [{ id: `p${r.id}` }] },
        };
      });
      json(res, 200, { responses: responses.reverse() });
    };
    const out = await c.batch<{ value: Array<{ id: string }> }>([
      { id: '1', url: '/drives/d/items/a/permissions' },
      { id: '2', url: `${fake.graphBaseUrl}/drives/d/items/b/permissions` },
      { id: '3', url: 'drives/d/items/c/permissions' },
    ]);
    assert.deepEqual(
      out.map((r) => r.id),
      ['1', '2', '3'],
    );
    assert.deepEqual(
      out.map((r) => r.status),
      [200, 200, 200],
    );
    assert.equal(out[2].body.value[0].id, 'p3', 'base64 body normalized');
    assert.equal(out[0].headers['content-type'], 'application/json', 'lower-cased header names');
    assert.equal(envelopes.length, 2);
    assert.deepEqual(
      envelopes[0].requests.map((r) => r.url),
      ['/drives/d/items/a/permissions', '/drives/d/items/b/permissions', '/drives/d/items/c/permissions'],
    );
    assert.deepEqual(
      envelopes[1].requests.map((r) => r.id),
      ['2'],
    );
    const second = fake.requests[1];
    assert.ok(second.at - throttledAt >= 250, `re-sent after ${second.at - throttledAt} ms`);
    const s = c.stats();
    assert.equal(s.throttledResponses, 1);
    assert.equal(s.requests, 2);
    assert.equal(s.ruSpent, 20, '3 + 1 permission calls at 5 RU, the envelope free');
  });

  it('returns a 424 as is, and keeps dependsOn', async () => {
    const c = client();
    fake.handler = (req, res) => {
      const env = JSON.parse(req.body);
      assert.deepEqual(env.requests[1].dependsOn, ['a']);
      assert.equal(env.requests[1].headers['Content-Type'], 'application/json');
      json(res, 200, {
        responses: [
          { id: 'a', status: 404, headers: {}, body: { error: { code: 'itemNotFound', message: 'x' } } },
          { id: 'b', status: 424, headers: {}, body: { error: { code: 'failedDependency', message: 'y' } } },
        ],
      });
    };
    const out = await c.batch([
      { id: 'a', url: '/drives/d/items/i' },
      { id: 'b', method: 'POST', url: '/subscriptions', body: { x: 1 }, dependsOn: ['a'] },
    ]);
    assert.deepEqual(
      out.map((r) => r.status),
      [404, 424],
    );
    assert.equal(c.stats().ruSpent, 3);
  });

  it('refuses more than 20 requests and maps an envelope 400 to GraphError', async () => {
    const c = client();
    const many = Array.from({ length: 21 }, (_, i) => ({ id: String(i), url: `/users/u${i}` }));
    const tooMany = await rejects(c.batch(many));
    assert.equal(tooMany.code, 'batchTooLarge');
    assert.match(tooMany.message, /at most 20/);
    assert.equal(fake.requests.length, 0);
    fake.handler = (_req, res) => graphError(res, 400, 'BadRequest', 'Invalid batch payload format.');
    const bad = await rejects(c.batch([{ id: '1', url: '/users' }]));
    assert.equal(bad.status, 400);
    assert.equal(bad.code, 'BadRequest');
  });
});

describe('pacing', () => {
  it('keeps a client under a small RU budget without being throttled', async () => {
    // Budget 30 RU per (scaled) minute of 1 s; the server throttles anything above it in any 1 s window.
    const budget = 30;
    const spent: Array<{ at: number; ru: number }> = [];
    let throttled = 0;
    fake.handler = (_req, res) => {
      const now = Date.now();
      const inWindow = spent.filter((s) => s.at > now - 1000).reduce((sum, s) => sum + s.ru, 0);
      spent.push({ at: now, ru: 5 });
      if (inWindow + 5 > budget) {
        throttled++;
        graphError(res, 429, 'TooManyRequests', 'over budget', { 'retry-after': '0.2' });
      } else json(res, 200, { value: [] });
    };
    const paced = client({ ruBudgetPerMinute: budget, timeScale: 60, maxConcurrency: 4 });
    const t = Date.now();
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => paced.request({ url: `/drives/d/items/i${i}/permissions` })),
    );
    const elapsed = Date.now() - t;
    assert.equal(throttled, 0, 'the paced client was never throttled');
    assert.equal(paced.stats().ruSpent, 60);
    assert.equal(paced.stats().throttledResponses, 0);
    // At least one window: the pacer held the second half back. Not a minute either: the window
    // follows timeScale. (That the pacer waits no longer than needed is timed exactly, on a
    // simulated clock, in ru.test.ts; a wall-clock bound here would fail on a busy machine.)
    assert.ok(elapsed >= 1000 && elapsed < 30_000, `60 RU at 30 RU/s took ${elapsed} ms`);

    // Control: the same load without pacing is throttled by the same server.
    spent.length = 0;
    const unpaced = client({ maxConcurrency: 4, maxRetries: 0 });
    await unpaced.request({ url: '/users/warmup' }).catch(() => {});
    spent.length = 0;
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => unpaced.request({ url: `/drives/d/items/i${i}/permissions` })),
    );
    assert.ok(throttled > 0 && results.some((r) => r.status === 'rejected'), 'unpaced load gets throttled');
  });
});

describe('logging', () => {
  it('logs each request at debug without secrets or tokens', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = pino({ level: 'debug' }, sink);
    const c = createGraphClient(
      {
        tenantId: fake.tenantId,
        clientId: fake.clientId,
        clientSecret: fake.clientSecret,
        graphBaseUrl: fake.graphBaseUrl,
        authorityUrl: fake.authorityUrl,
        caPem: pki.caCert,
        label: 'logged',
      },
      logger,
    );
    clients.push(c);
    await c.request({ url: '/drives/d/root/delta?token=SECRETDELTA' });
    const bad = createGraphClient(
      {
        tenantId: fake.tenantId,
        clientId: fake.clientId,
        clientSecret: 'Bad~Secret~42',
        authorityUrl: fake.authorityUrl,
        graphBaseUrl: fake.graphBaseUrl,
        caPem: pki.caCert,
      },
      logger,
    );
    clients.push(bad);
    await rejects(bad.request({ url: '/users' }));
    const text = lines.join('');
    const entries = lines.map((l) => JSON.parse(l));
    const req = entries.find((e) => e.msg === 'graph request');
    assert.ok(req, text);
    assert.equal(req.method, 'GET');
    assert.equal(req.status, 200);
    assert.equal(req.ru, 1);
    assert.equal(typeof req.ms, 'number');
    assert.match(req.url, /token=…/);
    const issued = [...fake.validTokens.keys()];
    assert.ok(issued.length > 0);
    for (const secret of [fake.clientSecret, 'Bad~Secret~42', 'SECRETDELTA', ...issued]) {
      assert.ok(!text.includes(secret), `the log holds ${secret}`);
    }
  });

  it('safeUrl hides token-like query values', () => {
    assert.equal(
      safeUrl("https://g/v1.0/drives/d/root/microsoft.graph.delta(token='abc')?$top=5&$skiptoken=xyz"),
      'https://g/v1.0/drives/d/root/microsoft.graph.delta(token=…)?$top=5&$skiptoken=…',
    );
    assert.equal(safeUrl('https://g/v1.0/users'), 'https://g/v1.0/users');
  });
});
