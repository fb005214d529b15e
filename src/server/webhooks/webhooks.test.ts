import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { quietLogger } from '../../../test/support/logger.ts';
import { subscriptionRow } from '../../../test/support/realtime.ts';
import { openTestStore } from '../../../test/support/store.ts';
import { getRealtimeStatus } from '../../collect/realtime/status.ts';
import { loadConfig } from '../../config/config.ts';
import type { Database } from '../../store/schema.ts';
import { clientStateDigest, SubscriptionCache } from '../../store/subscription-cache.ts';
import { createServer } from '../app.ts';
import { WebhookReceiver } from './receiver.ts';

const TENANT = '11111111-2222-3333-4444-555555555555';
const SECRET = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA';

async function setup(bodyLimit?: number, extra: { requestTimeoutMs?: number } = {}) {
  const { db } = await openTestStore('sqlite', { file: ':memory:' });
  const now = new Date().toISOString();
  const row = {
    id: 'sub-drive-1',
    integration_id: 'int-1',
    tenant_id: TENANT,
    resource: '/drives/d1/root',
    change_type: 'updated',
    client_state: clientStateDigest(SECRET),
    notification_url: 'https://example.test/webhooks/graph',
    expiration: new Date(Date.now() + 86_400_000).toISOString(),
    created_at: now,
    last_renewed_at: null,
    status: 'active',
    last_error: null,
    last_error_at: null,
  };
  await db
    .insertInto('graph_subscriptions')
    .values([row, { ...row, id: 'sub-users', resource: 'users', change_type: 'updated,deleted' }])
    .execute();
  const cache = new SubscriptionCache(db);
  await cache.load();
  let wakes = 0;
  const receiver = new WebhookReceiver({
    db,
    cache,
    logger: quietLogger,
    onPersisted: () => wakes++,
    flushIntervalMs: 60_000,
  });
  const config = loadConfig({ DW_DATA_DIR: '/tmp/dw-test' });
  const app = await createServer({
    config,
    store: { db },
    logger: quietLogger,
    deps: { receiver, webhookBodyLimit: bodyLimit, requestTimeoutMs: extra.requestTimeoutMs },
  });
  await app.listen({ host: '0.0.0.0', port: 0 });
  const address = app.server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return { db, cache, receiver, app, base, wakes: () => wakes };
}

const entry = (over: Record<string, unknown> = {}) => ({
  subscriptionId: 'sub-drive-1',
  subscriptionExpirationDateTime: new Date(Date.now() + 86_400_000).toISOString(),
  clientState: SECRET,
  changeType: 'updated',
  resource: 'drives/d1/root',
  tenantId: TENANT,
  resourceData: null,
  ...over,
});

const post = (url: string, body: unknown, contentType = 'application/json') =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('webhook receiver (real server)', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  let db: Kysely<Database>;
  let app: FastifyInstance;
  before(async () => {
    ctx = await setup();
    db = ctx.db;
    app = ctx.app;
  });
  after(async () => {
    await app.close();
    await ctx.receiver.close();
    await db.destroy();
  });
  beforeEach(async () => {
    await db.deleteFrom('webhook_inbox').execute();
    await db.deleteFrom('webhook_rejections').execute();
  });

  it('answers the validation handshake on both URLs with the URL-decoded token as text/plain', async () => {
    const token = 'Validation: Token+a/b?c=d&e 100%';
    for (const path of ['/webhooks/graph', '/webhooks/graph/lifecycle']) {
      const res = await fetch(`${ctx.base}${path}?validationToken=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
      });
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
      assert.equal(await res.text(), token);
    }
    // Graph sends no body, and may send no content type at all.
    const bare = await fetch(`${ctx.base}/webhooks/graph?validationToken=abc%20def`, { method: 'POST' });
    assert.equal(await bare.text(), 'abc def');
    assert.equal((await db.selectFrom('webhook_inbox').select('id').execute()).length, 0);
  });

  it('persists a valid batch of several entries in the inbox and answers 202', async () => {
    const res = await post(`${ctx.base}/webhooks/graph`, {
      value: [
        entry(),
        entry(),
        entry({ subscriptionId: 'sub-users', resource: 'Users/abc', changeType: 'deleted' }),
      ],
    });
    assert.equal(res.status, 202);
    const rows = await db.selectFrom('webhook_inbox').selectAll().orderBy('id').execute();
    assert.equal(rows.length, 3);
    assert.deepEqual(
      rows.map((r) => [r.integration_id, r.subscription_id, r.resource, r.change_type, r.processed_at]),
      [
        ['int-1', 'sub-drive-1', '/drives/d1/root', 'updated', null],
        ['int-1', 'sub-drive-1', '/drives/d1/root', 'updated', null],
        ['int-1', 'sub-users', 'users', 'deleted', null],
      ],
    );
    assert.ok(ctx.wakes() > 0, 'the inbox worker is woken after commit');
  });

  it('persists lifecycle events with their event name', async () => {
    const res = await post(`${ctx.base}/webhooks/graph/lifecycle`, {
      value: [entry({ lifecycleEvent: 'reauthorizationRequired', changeType: undefined })],
    });
    assert.equal(res.status, 202);
    const rows = await db.selectFrom('webhook_inbox').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0].lifecycle_event, 'reauthorizationRequired');
  });

  it('drops forged, unknown and wrong-tenant entries, counts them per reason, stores nothing', async () => {
    const res = await post(`${ctx.base}/webhooks/graph`, {
      value: [
        entry({ clientState: 'forged' }),
        entry({ clientState: `${SECRET.slice(0, -1)}X` }), // same length, one byte off
        entry({ subscriptionId: 'no-such-subscription' }),
        entry({ tenantId: '99999999-2222-3333-4444-555555555555' }),
        entry({ clientState: undefined }),
        // What the store holds is a digest: presenting it (a stolen database) forges nothing.
        entry({ clientState: clientStateDigest(SECRET) }),
        42,
      ],
    });
    assert.equal(res.status, 202);
    assert.equal((await db.selectFrom('webhook_inbox').select('id').execute()).length, 0);
    await ctx.receiver.flushRejections();
    const status = await getRealtimeStatus(db);
    const int1 = status.integrations.find((i) => i.integrationId === 'int-1');
    assert.deepEqual(int1?.rejected, { client_state_mismatch: 4, tenant_mismatch: 1 });
    assert.deepEqual(status.rejectedUnattributed, { unknown_subscription: 1, malformed_entry: 1 });
    // counters accumulate in the table
    await post(`${ctx.base}/webhooks/graph`, { value: [entry({ clientState: 'forged again' })] });
    await ctx.receiver.flushRejections();
    const again = await getRealtimeStatus(db);
    assert.equal(
      again.integrations.find((i) => i.integrationId === 'int-1')?.rejected.client_state_mismatch,
      5,
    );
    // and the secret is in none of it
    assert.ok(!JSON.stringify(again).includes(SECRET));
  });

  it('keeps the valid entries of a mixed batch and drops the rest', async () => {
    const res = await post(`${ctx.base}/webhooks/graph`, {
      value: [entry(), entry({ clientState: 'x' }), entry()],
    });
    assert.equal(res.status, 202);
    assert.equal((await db.selectFrom('webhook_inbox').select('id').execute()).length, 2);
  });

  it('rejects non-JSON and malformed bodies with 400 and a clear message', async () => {
    const cases: Array<[string, string]> = [
      ['{not json', 'application/json'],
      ['hello', 'text/plain'],
      ['{"values":[]}', 'application/json'],
      ['{"value":{}}', 'application/json'],
      ['[1,2]', 'application/json'],
      ['null', 'application/json'],
    ];
    for (const [body, type] of cases) {
      const res = await post(`${ctx.base}/webhooks/graph`, body, type);
      assert.equal(res.status, 400, body);
      const json = (await res.json()) as { message: string };
      assert.match(json.message, /JSON|value/);
    }
    const empty = await fetch(`${ctx.base}/webhooks/graph`, { method: 'POST' });
    assert.equal(empty.status, 400);
    assert.equal((await db.selectFrom('webhook_inbox').select('id').execute()).length, 0);
  });

  it('rejects an oversized body with 413', async () => {
    const big = { value: Array.from({ length: 6000 }, () => entry()) }; // ≈ 1.6 MB
    const res = await post(`${ctx.base}/webhooks/graph`, big);
    assert.equal(res.status, 413);
    assert.equal((await db.selectFrom('webhook_inbox').select('id').execute()).length, 0);
  });

  it('serves /healthz', async () => {
    const res = await fetch(`${ctx.base}/healthz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: string; database: string };
    assert.equal(body.status, 'ok');
    assert.equal(body.database, 'ok');
  });

  it('accepts a subscription created by another process after a cache reload', async () => {
    await db
      .insertInto('graph_subscriptions')
      .values(
        subscriptionRow({
          id: 'sub-late',
          integration_id: 'int-2',
          tenant_id: TENANT,
          resource: '/drives/d9/root',
          client_state: 'late-secret',
          notification_url: 'x',
        }),
      )
      .execute();
    await new Promise((r) => setTimeout(r, 1050)); // past the reload rate limit
    const res = await post(`${ctx.base}/webhooks/graph`, {
      value: [entry({ subscriptionId: 'sub-late', clientState: 'late-secret' })],
    });
    assert.equal(res.status, 202);
    const rows = await db.selectFrom('webhook_inbox').selectAll().execute();
    assert.deepEqual(
      rows.map((r) => [r.integration_id, r.resource]),
      [['int-2', '/drives/d9/root']],
    );
  });
});

describe('webhook receiver when the inbox cannot persist', () => {
  it('answers 5xx so Graph retries', async () => {
    const ctx = await setup();
    try {
      await ctx.db.schema.dropTable('webhook_inbox').execute();
      const res = await post(`${ctx.base}/webhooks/graph`, { value: [entry()] });
      assert.equal(res.status, 503);
      // the handshake still works
      const hs = await fetch(`${ctx.base}/webhooks/graph?validationToken=t`, { method: 'POST' });
      assert.equal(hs.status, 200);
    } finally {
      await ctx.app.close();
      await ctx.receiver.close();
      await ctx.db.destroy();
    }
  });
});

/** A POST from a chosen loopback source address (127.0.0.x), for per-source limits. */
function postFrom(source: string, url: string, body: unknown): Promise<number> {
  const target = new URL(url);
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        path: target.pathname,
        method: 'POST',
        localAddress: source,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

describe('webhook receiver under hostile traffic', () => {
  it('refuses a source flooding forged entries (429 before reading its body) while another source is still acknowledged', async () => {
    const ctx = await setup();
    try {
      const forged = { value: Array.from({ length: 50 }, () => entry({ clientState: 'forged' })) };
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push(await postFrom('127.0.0.9', `${ctx.base}/webhooks/graph`, forged));
      assert.deepEqual(statuses, [202, 202, 202, 202, 202, 429], 'blocked once past 200 rejected entries');
      assert.equal(await postFrom('127.0.0.9', `${ctx.base}/webhooks/graph`, { value: [entry()] }), 429);
      // Graph, from another address, is unaffected.
      assert.equal(await postFrom('127.0.0.1', `${ctx.base}/webhooks/graph`, { value: [entry()] }), 202);
      assert.equal((await ctx.db.selectFrom('webhook_inbox').select('id').execute()).length, 1);
    } finally {
      await ctx.app.close();
      await ctx.receiver.close();
      await ctx.db.destroy();
    }
  });

  it('drops a slow body once the request timeout passes, and refuses bodies over 256 KiB by default', async () => {
    const ctx = await setup(undefined, { requestTimeoutMs: 500 });
    try {
      const port = new URL(ctx.base).port;
      const started = Date.now();
      const answer = await new Promise<string>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write(
            'POST /webhooks/graph HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"va',
          );
        });
        let got = '';
        socket.on('data', (d) => {
          got += d;
        });
        socket.on('close', () => resolve(got));
        // One byte a while: a slow-loris body never completes.
        const drip = setInterval(() => socket.writable && socket.write(' '), 100);
        socket.on('close', () => clearInterval(drip));
      });
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
      const big = { value: [entry({ padding: 'x'.repeat(300 * 1024) })] };
      assert.equal((await post(`${ctx.base}/webhooks/graph`, big)).status, 413);
    } finally {
      await ctx.app.close();
      await ctx.receiver.close();
      await ctx.db.destroy();
    }
  });
});
