import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { quietLogger } from '../../../test/support/logger.ts';
import { FakeGraphSubscriptions, fetchGraphClient } from '../../../test/support/realtime.ts';
import { openTestStore } from '../../../test/support/store.ts';
import { loadConfig } from '../../config/config.ts';
import { createServer } from '../../server/app.ts';
import { WebhookReceiver } from '../../server/webhooks/receiver.ts';
import type { Database } from '../../store/schema.ts';
import { SubscriptionCache } from '../../store/subscription-cache.ts';
import { getRealtimeStatus } from './status.ts';
import { MAX_LIFETIME_MINUTES, SubscriptionManager } from './subscriptions.ts';

const DAY = 86_400_000;
const MIN = 60_000;

describe('subscription manager (against a local Graph /subscriptions that validates URLs)', () => {
  let db: Kysely<Database>;
  let graph: FakeGraphSubscriptions;
  let app: FastifyInstance;
  let cache: SubscriptionCache;
  let receiver: WebhookReceiver;
  let base: string;
  let clock = Date.now();
  const integration = { id: 'int-1', tenantId: '' };

  const manager = (publicUrl: string | null = base) =>
    new SubscriptionManager({
      db,
      cache,
      logger: quietLogger,
      publicUrl: publicUrl ?? undefined,
      pollIntervalSeconds: 900,
      graphClientFor: () => fetchGraphClient(graph.baseUrl),
      now: () => clock,
    });
  const graphCalls = (method: string) => graph.calls.filter((c) => c.method === method);

  before(async () => {
    graph = new FakeGraphSubscriptions();
    await graph.start();
    integration.tenantId = graph.tenantId;
    ({ db } = await openTestStore('sqlite', { file: ':memory:' }));
    cache = new SubscriptionCache(db);
    receiver = new WebhookReceiver({ db, cache, logger: quietLogger });
    app = await createServer({
      config: loadConfig({ DW_DATA_DIR: '/tmp/dw-test' }),
      store: { db },
      logger: quietLogger,
      deps: { receiver },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  });
  after(async () => {
    await app.close();
    await receiver.close();
    await graph.close();
    await db.destroy();
  });
  beforeEach(async () => {
    clock = Date.now();
    await manager().removeAll('int-1');
    graph.subscriptions.clear();
    graph.calls.length = 0;
    graph.refuse = [];
    graph.gone.clear();
    await db.deleteFrom('webhook_inbox').execute();
  });

  it('creates one subscription per drive root and one for users, with fresh client states', async () => {
    const report = await manager().ensure(integration, ['d1', 'd2']);
    assert.equal(report.webhooks, 'on');
    assert.equal(report.created.length, 3);
    assert.deepEqual(report.errors, []);
    const subs = [...graph.subscriptions.values()].sort((a, b) => a.resource.localeCompare(b.resource));
    assert.deepEqual(
      subs.map((s) => [s.resource, s.changeType]),
      [
        ['/drives/d1/root', 'updated'],
        ['/drives/d2/root', 'updated'],
        ['users', 'updated,deleted'],
      ],
    );
    for (const s of subs) {
      assert.equal(s.notificationUrl, `${base}webhooks/graph`);
      assert.equal(s.lifecycleNotificationUrl, `${base}webhooks/graph/lifecycle`);
      assert.match(s.clientState, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
      const minutes = (Date.parse(s.expirationDateTime) - clock) / MIN;
      const max = s.resource === 'users' ? MAX_LIFETIME_MINUTES.users : MAX_LIFETIME_MINUTES.driveRoot;
      assert.ok(minutes <= max && minutes >= max - 120, `${s.resource}: ${minutes} min`);
    }
    assert.equal(new Set(subs.map((s) => s.clientState)).size, 3);
    // Graph validated both URLs of every subscription against our server
    assert.equal(cache.size, 3);
    const rows = await db.selectFrom('graph_subscriptions').selectAll().execute();
    assert.ok(rows.every((r) => r.status === 'active'));

    // idempotent: nothing to do the second time
    graph.calls.length = 0;
    const again = await manager().ensure(integration, ['d1', 'd2']);
    assert.deepEqual([again.created, again.renewed, again.deleted], [[], [], []]);
    assert.equal(graph.calls.length, 0);

    // a notification Graph sends with the client state it was given is accepted
    assert.equal(await graph.notify(subs[0].id), 202);
    const inbox = await db.selectFrom('webhook_inbox').selectAll().execute();
    assert.deepEqual(
      inbox.map((r) => r.resource),
      ['/drives/d1/root'],
    );
  });

  it('renews only when less than a third of the lifetime remains (simulated clock)', async () => {
    const m = manager();
    await m.ensure(integration, ['d1']);
    const before = new Map([...graph.subscriptions.values()].map((s) => [s.id, s.expirationDateTime]));
    clock += 10 * DAY;
    assert.deepEqual(await m.renewDue(), { renewed: [], failed: [] });
    assert.equal(graphCalls('PATCH').length, 0);
    clock += 10 * DAY; // 20 days in: ~9.3 of ~29.3 days left
    const result = await m.renewDue();
    assert.equal(result.renewed.length, 2);
    assert.equal(graphCalls('PATCH').length, 2);
    for (const s of graph.subscriptions.values()) {
      assert.ok(Date.parse(s.expirationDateTime) > Date.parse(before.get(s.id) ?? ''), 'expiry moved');
      assert.ok(Date.parse(s.expirationDateTime) - clock > 28 * DAY);
    }
    const rows = await db.selectFrom('graph_subscriptions').selectAll().execute();
    assert.ok(rows.every((r) => r.last_renewed_at === new Date(clock).toISOString()));
    // ensure() renews due ones too, and re-creates one Graph lost (404 on PATCH)
    clock += 20 * DAY;
    const lost = [...graph.subscriptions.values()].find((s) => s.resource === 'users');
    graph.gone.add(lost?.id ?? '');
    const report = await m.ensure(integration, ['d1']);
    assert.equal(report.renewed.length, 2);
    const users = await db
      .selectFrom('graph_subscriptions')
      .selectAll()
      .where('resource', '=', 'users')
      .execute();
    assert.equal(users.length, 1);
    assert.notEqual(users[0].id, lost?.id);
    assert.equal(cache.get(lost?.id ?? ''), undefined);
  });

  it('records Graph refusals per subscription without failing the others, and retries later', async () => {
    graph.refuse = [{ pattern: /d2/, status: 403, code: 'accessDenied', message: 'Access denied' }];
    const report = await manager().ensure(integration, ['d1', 'd2']);
    assert.equal(report.created.length, 2);
    assert.equal(report.errors.length, 1);
    assert.equal(report.errors[0].resource, '/drives/d2/root');
    assert.match(report.errors[0].error, /403 accessDenied.*Files\.ReadWrite\.All/);
    const status = await getRealtimeStatus(db, { now: () => clock });
    const d2 = status.integrations[0].subscriptions.find((s) => s.resource === '/drives/d2/root');
    assert.equal(d2?.status, 'error');
    assert.match(d2?.lastError ?? '', /Files\.ReadWrite\.All/);
    // still refused: one error row, not one per attempt
    await manager().ensure(integration, ['d1', 'd2']);
    assert.equal(
      (
        await db
          .selectFrom('graph_subscriptions')
          .selectAll()
          .where('resource', '=', '/drives/d2/root')
          .execute()
      ).length,
      1,
    );
    // permission granted: the next reconciliation creates it and clears the error
    graph.refuse = [];
    const fixed = await manager().ensure(integration, ['d1', 'd2']);
    assert.equal(fixed.created.length, 1);
    const rows = await db
      .selectFrom('graph_subscriptions')
      .selectAll()
      .where('resource', '=', '/drives/d2/root')
      .execute();
    assert.deepEqual(
      rows.map((r) => [r.status, r.last_error]),
      [['active', null]],
    );
  });

  it('deletes subscriptions of drives no longer listed, and all of them on disable', async () => {
    const m = manager();
    await m.ensure(integration, ['d1', 'd2']);
    const d2 = [...graph.subscriptions.values()].find((s) => s.resource === '/drives/d2/root');
    const shrink = await m.ensure(integration, ['d1']);
    assert.deepEqual(shrink.deleted, [d2?.id]);
    assert.equal(graph.subscriptions.has(d2?.id ?? ''), false);
    const ids = [...graph.subscriptions.keys()];
    const removed = await m.removeAll('int-1');
    assert.deepEqual(removed.deleted.sort(), ids.sort());
    assert.deepEqual(removed.errors, []);
    assert.equal(graph.subscriptions.size, 0);
    assert.equal(graphCalls('DELETE').length, 3);
    assert.equal((await db.selectFrom('graph_subscriptions').selectAll().execute()).length, 0);
    assert.equal(cache.size, 0);
  });

  it('re-creates a removed subscription and reauthorizes by renewing', async () => {
    const m = manager();
    await m.ensure(integration, ['d1']);
    const old = [...graph.subscriptions.values()].find((s) => s.resource === '/drives/d1/root');
    assert.ok(old);
    graph.subscriptions.delete(old.id); // Graph removed it
    await m.recreate('int-1', old.id);
    const rows = await db
      .selectFrom('graph_subscriptions')
      .selectAll()
      .where('resource', '=', '/drives/d1/root')
      .execute();
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0].id, old.id);
    assert.ok(graph.subscriptions.has(rows[0].id));
    assert.equal(cache.get(old.id), undefined);
    assert.ok(cache.get(rows[0].id));
    graph.calls.length = 0;
    clock += DAY;
    await m.reauthorize('int-1', rows[0].id);
    assert.deepEqual(
      graphCalls('PATCH').map((c) => c.path),
      [`/subscriptions/${rows[0].id}`],
    );
  });

  it('creates nothing and says so when the public URL is not set', async () => {
    const m = manager(null);
    const report = await m.ensure(integration, ['d1']);
    assert.equal(report.webhooks, 'off');
    assert.equal(report.message, 'webhooks off: DW_PUBLIC_URL not set, relying on polling every 15 min');
    assert.equal(graph.calls.length, 0);
    assert.equal((await db.selectFrom('graph_subscriptions').selectAll().execute()).length, 0);
  });

  it('never exposes client states in status output', async () => {
    await manager().ensure(integration, ['d1']);
    const secrets = (await db.selectFrom('graph_subscriptions').select('client_state').execute()).map(
      (r) => r.client_state,
    );
    const text = JSON.stringify(await getRealtimeStatus(db));
    for (const s of secrets) assert.ok(!text.includes(s));
    const cached = cache.get([...graph.subscriptions.keys()][0]);
    assert.ok(!JSON.stringify(cached).includes('clientState'));
  });
});
