import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ADMIN_TOKEN,
  call,
  defaultHandler,
  GRAPH_TOKEN,
  type Harness,
  inMinutes,
  startHarness,
  TENANT,
} from '../../test/support/sim-events.ts';
import { sleep, waitFor } from '../../test/support/wait.ts';

function subBody(h: Harness, extra: Record<string, unknown> = {}) {
  return {
    changeType: 'updated',
    notificationUrl: `${h.receiver.url}/hook`,
    resource: '/drives/d-alice/root',
    expirationDateTime: inMinutes(h, 60),
    clientState: 'secret-state',
    ...extra,
  };
}

describe('subscriptions: create, validate, read, renew, delete', () => {
  let h: Harness;
  before(async () => {
    // Long enough that no handshake to the local receiver times out on a busy machine; the
    // 'slow' case below answers only after 30 s.
    h = await startHarness({ validationTimeoutMs: 2_000 });
  });
  after(() => h.close());

  test('handshake succeeds: 201 with the subscription object, token sent URL-encoded', async () => {
    const expiration = inMinutes(h, 120);
    const res = await call(h, 'POST', '/v1.0/subscriptions', subBody(h, { expirationDateTime: expiration }));
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const sub = res.body;
    assert.match(sub.id, /^[0-9a-f-]{36}$/);
    assert.equal(sub.resource, '/drives/d-alice/root');
    assert.equal(sub.changeType, 'updated');
    assert.equal(sub.clientState, 'secret-state');
    assert.equal(sub.notificationUrl, `${h.receiver.url}/hook`);
    assert.equal(sub.tenantId, TENANT);
    assert.equal(sub.lifecycleNotificationUrl, null);
    assert.ok(sub.applicationId && sub.creatorId);
    assert.equal(Date.parse(sub.expirationDateTime), Date.parse(expiration));
    const validation = h.receiver.validations().at(-1)!;
    assert.equal(validation.method, 'POST');
    assert.match(
      validation.query.get('validationToken')!,
      /^Validation: Testing client application reachability/,
    );

    const one = await call(h, 'GET', `/v1.0/subscriptions/${sub.id}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, sub.id);
    const list = await call(h, 'GET', '/v1.0/subscriptions');
    assert.ok(list.body.value.some((s: { id: string }) => s.id === sub.id));
  });

  test('handshake fails on a wrong body, a non-200, a wrong content type and a timeout', async () => {
    const cases: Array<[string, (res: import('node:http').ServerResponse, token: string) => void, RegExp]> = [
      [
        'wrong body',
        (res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('nope'),
        /exactly match/,
      ],
      ['non-200', (res, token) => res.writeHead(500, { 'content-type': 'text/plain' }).end(token), /200 OK/],
      [
        'json',
        (res, token) => res.writeHead(200, { 'content-type': 'application/json' }).end(token),
        /text\/plain/,
      ],
      [
        // answers (correctly) only after 30 s: far beyond validationTimeoutMs (2 s)
        'slow',
        (res, token) =>
          setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(token), 30_000).unref(),
        /timed out/,
      ],
    ];
    for (const [name, respond, message] of cases) {
      h.receiver.handler = (req, res) => respond(res, req.query.get('validationToken') ?? '');
      const started = Date.now();
      const res = await call(h, 'POST', '/v1.0/subscriptions', subBody(h));
      assert.equal(res.status, 400, name);
      assert.equal(res.body.error.code, 'InvalidRequest', name);
      assert.match(res.body.error.message, message, name);
      assert.ok(res.body.error.innerError['request-id'], name);
      // it gave up at its timeout, long before the answer (a bound a busy machine cannot break)
      if (name === 'slow')
        assert.ok(Date.now() - started < 15_000, 'the handshake gives up at validationTimeoutMs');
    }
    h.receiver.handler = (req, res) => {
      const token = req.query.get('validationToken');
      if (req.path === '/life') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/plain' }).end(token ?? '');
    };
    const res = await call(
      h,
      'POST',
      '/v1.0/subscriptions',
      subBody(h, { lifecycleNotificationUrl: `${h.receiver.url}/life` }),
    );
    assert.equal(res.status, 400);
    assert.match(res.body.error.message, /lifecycleNotificationUrl/);
    const list = await call(h, 'GET', '/v1.0/subscriptions');
    assert.equal(list.body.value.length, 1, 'failed creations leave nothing behind');
    h.receiver.handler = defaultHandler;
  });

  test('invalid requests are refused before any handshake', async () => {
    const before = h.receiver.validations().length;
    const bad: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ resource: '/drives/d-alice/items/abc' }, 400, /only supported on the root/],
      [{ resource: 'groups' }, 400, /not supported/],
      [{ resource: '/me/drive/root' }, 400, /delegated/],
      [{ changeType: 'created' }, 400, /ChangeType 'created'/],
      [{ changeType: 'updated,deleted' }, 400, /ChangeType/],
      [{ resource: 'users', changeType: 'created,updated' }, 400, /ChangeType 'created'/],
      [{ expirationDateTime: inMinutes(h, 42_301) }, 400, /42300 minutes/],
      [{ resource: 'users', expirationDateTime: inMinutes(h, 41_761) }, 400, /41760 minutes/],
      [{ expirationDateTime: inMinutes(h, -1) }, 400, /future/],
      [{ expirationDateTime: 'tomorrow' }, 400, /not a valid/],
      [{ notificationUrl: 'http://example.com/hook' }, 400, /https/],
      [{ clientState: 'x'.repeat(129) }, 400, /128/],
      [{ resource: undefined }, 400, /resource/],
      [{ resource: '/drives/nope/root' }, 404, /nope/],
      [{ resource: '/users/nobody/drive/root' }, 404, /nobody/],
    ];
    for (const [extra, status, message] of bad) {
      const res = await call(h, 'POST', '/v1.0/subscriptions', subBody(h, extra));
      assert.equal(res.status, status, JSON.stringify(extra));
      assert.match(res.body.error.message, message, JSON.stringify(extra));
    }
    assert.equal(h.receiver.validations().length, before);
    // The limits themselves are accepted.
    const drive = await call(
      h,
      'POST',
      '/v1.0/subscriptions',
      subBody(h, { expirationDateTime: inMinutes(h, 42_299) }),
    );
    assert.equal(drive.status, 201);
    const users = await call(
      h,
      'POST',
      '/v1.0/subscriptions',
      subBody(h, {
        resource: 'users',
        changeType: 'updated,deleted',
        expirationDateTime: inMinutes(h, 41_759),
      }),
    );
    assert.equal(users.status, 201);
    const viaUser = await call(
      h,
      'POST',
      '/v1.0/subscriptions',
      subBody(h, { resource: '/users/u-bob/drive/root' }),
    );
    assert.equal(viaUser.status, 201);
  });

  test('a body that is not JSON answers a Graph-shaped 400', async () => {
    const res = await fetch(`${h.base}/v1.0/subscriptions`, {
      method: 'POST',
      headers: { authorization: GRAPH_TOKEN, 'content-type': 'application/json' },
      body: '{not json',
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { code: string; message: string; innerError: object } };
    assert.equal(body.error.code, 'BadRequest');
    assert.ok(body.error.innerError);
  });

  test('http to loopback needs allowHttpNotifications', async () => {
    const strict = await startHarness({}, { allowHttpNotifications: false });
    try {
      const res = await call(strict, 'POST', '/v1.0/subscriptions', subBody(strict));
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /https/);
    } finally {
      await strict.close();
    }
  });

  test('401 without a Graph token, 403 when the subscriptions permission is missing', async () => {
    const none = await call(h, 'POST', '/v1.0/subscriptions', subBody(h), null);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, 'InvalidAuthenticationToken');
    const wrongAudience = await call(h, 'GET', '/v1.0/subscriptions', undefined, 'Bearer management-token');
    assert.equal(wrongAudience.status, 401);
    h.runtime.forbidden.add('subscriptions');
    try {
      const res = await call(h, 'POST', '/v1.0/subscriptions', subBody(h));
      assert.equal(res.status, 403);
    } finally {
      h.runtime.forbidden.delete('subscriptions');
    }
  });

  test('PATCH renews within the same limits; DELETE answers 204 and stops notifications', async () => {
    const created = (
      await call(h, 'POST', '/v1.0/subscriptions', subBody(h, { resource: '/drives/d-bob/root' }))
    ).body;
    const renewedTo = inMinutes(h, 3000);
    const patched = await call(h, 'PATCH', `/v1.0/subscriptions/${created.id}`, {
      expirationDateTime: renewedTo,
    });
    assert.equal(patched.status, 200);
    assert.equal(Date.parse(patched.body.expirationDateTime), Date.parse(renewedTo));
    const tooFar = await call(h, 'PATCH', `/v1.0/subscriptions/${created.id}`, {
      expirationDateTime: inMinutes(h, 50_000),
    });
    assert.equal(tooFar.status, 400);
    assert.match(tooFar.body.error.message, /42300/);
    assert.equal(
      Date.parse((await call(h, 'GET', `/v1.0/subscriptions/${created.id}`)).body.expirationDateTime),
      Date.parse(renewedTo),
    );

    const del = await call(h, 'DELETE', `/v1.0/subscriptions/${created.id}`);
    assert.equal(del.status, 204);
    assert.equal((await call(h, 'GET', `/v1.0/subscriptions/${created.id}`)).status, 404);
    assert.equal((await call(h, 'DELETE', `/v1.0/subscriptions/${created.id}`)).status, 404);
    const beforeCount = h.receiver
      .notifications()
      .flatMap((r) => r.json!.value)
      .filter((e) => e.subscriptionId === created.id).length;
    h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-bob', itemId: 'x' });
    await sleep(150);
    await h.events.flush();
    const afterCount = h.receiver
      .notifications()
      .flatMap((r) => r.json!.value)
      .filter((e) => e.subscriptionId === created.id).length;
    assert.equal(afterCount, beforeCount);
  });
});

describe('notification delivery', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ coalesceMs: 60 });
  });
  after(() => h.close());

  test('one POST carries several subscriptions sharing a URL; clientState passed through; drives have null resourceData', async () => {
    const a = (await call(h, 'POST', '/v1.0/subscriptions', subBody(h, { clientState: 'state-a' }))).body;
    const b = (
      await call(
        h,
        'POST',
        '/v1.0/subscriptions',
        subBody(h, { resource: 'drives/d-bob/root', clientState: 'state-b' }),
      )
    ).body;
    const posts = h.receiver.notifications().length;
    h.runtime.emit({ kind: 'item', op: 'created', driveId: 'd-alice', itemId: 'i1' });
    h.runtime.emit({ kind: 'permission', op: 'shared', driveId: 'd-alice', itemId: 'i1' });
    h.runtime.emit({ kind: 'drive', op: 'updated', driveId: 'd-bob' });
    h.runtime.emit({ kind: 'access', op: 'downloaded', driveId: 'd-bob', itemId: 'i9' });
    await waitFor('a notification', () => h.receiver.notifications().length > posts);
    await h.events.flush(); // nothing else buffered or in flight: every POST of the window is in
    const got = h.receiver.notifications().slice(posts);
    assert.equal(got.length, 1, 'coalesced into one POST');
    assert.match(String(got[0].headers['content-type']), /application\/json/);
    const entries = got[0].json!.value;
    assert.equal(entries.length, 2, 'one entry per subscription per window');
    const ea = entries.find((e) => e.subscriptionId === a.id)!;
    const eb = entries.find((e) => e.subscriptionId === b.id)!;
    assert.deepEqual(
      { ...ea },
      {
        subscriptionId: a.id,
        subscriptionExpirationDateTime: a.expirationDateTime,
        changeType: 'updated',
        resource: '/drives/d-alice/root',
        clientState: 'state-a',
        tenantId: TENANT,
        resourceData: null,
      },
    );
    assert.equal(eb.clientState, 'state-b');
    assert.equal(eb.resource, 'drives/d-bob/root');
    assert.equal(h.runtime.counters.notificationsDelivered, 2);
    for (const id of [a.id, b.id])
      assert.equal((await call(h, 'DELETE', `/v1.0/subscriptions/${id}`)).status, 204);
  });

  test('users subscriptions get updated/deleted entries with resourceData', async () => {
    const sub = (
      await call(
        h,
        'POST',
        '/v1.0/subscriptions',
        subBody(h, { resource: 'users', changeType: 'deleted', clientState: 'u' }),
      )
    ).body;
    const posts = h.receiver.notifications().length;
    h.runtime.emit({ kind: 'user', op: 'updated', userId: 'u-bob' }); // not subscribed (deleted only)
    h.runtime.emit({ kind: 'user', op: 'created', userId: 'u-new' });
    h.runtime.emit({ kind: 'user', op: 'deleted', userId: 'u-bob' });
    await waitFor('user notification', () => h.receiver.notifications().length > posts);
    await h.events.flush();
    const entries = h.receiver
      .notifications()
      .slice(posts)
      .flatMap((r) => r.json!.value);
    assert.equal(entries.length, 1);
    assert.equal(entries[0].changeType, 'deleted');
    assert.equal(entries[0].resource, 'Users/u-bob');
    assert.equal(entries[0].clientState, 'u');
    assert.deepEqual(entries[0].resourceData, {
      '@odata.type': '#Microsoft.Graph.User',
      '@odata.id': 'Users/u-bob',
      id: 'u-bob',
      organizationId: TENANT,
    });
    await call(h, 'DELETE', `/v1.0/subscriptions/${sub.id}`);
  });

  test('a 500 and a timeout from the receiver are retried until a 2xx', async () => {
    const hook = `${h.receiver.url}/flaky`;
    const sub = (await call(h, 'POST', '/v1.0/subscriptions', subBody(h, { notificationUrl: hook }))).body;
    let calls = 0;
    h.receiver.handler = (req, res) => {
      if (req.query.has('validationToken'))
        return void res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end(req.query.get('validationToken')!);
      calls++;
      if (calls === 1) return void res.writeHead(500).end();
      if (calls === 2) return; // never answers: the delivery timeout fires
      res.writeHead(202).end();
    };
    const delivered = h.runtime.counters.notificationsDelivered;
    const previous = h.events.options.deliveryTimeoutMs;
    // only the attempt that never answers times out, however busy the machine
    (h.events.options as { deliveryTimeoutMs: number }).deliveryTimeoutMs = 2_000;
    try {
      h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-alice', itemId: 'i1' });
      await waitFor('delivery after retries', () => h.runtime.counters.notificationsDelivered > delivered);
    } finally {
      (h.events.options as { deliveryTimeoutMs: number }).deliveryTimeoutMs = previous;
    }
    assert.equal(calls, 3);
    const attempts = h.receiver.notifications('/flaky');
    assert.equal(attempts.length, 3);
    for (const a of attempts) assert.equal(a.json!.value[0].subscriptionId, sub.id);
    assert.equal(h.events.stats().delivery.failedAttempts >= 2, true);
    assert.equal(h.events.stats().pendingDeliveries.length, 0);
    h.receiver.handler = defaultHandler;
    await call(h, 'DELETE', `/v1.0/subscriptions/${sub.id}`);
  });

  test('a 2xx slower than the slow threshold is delivered and counted as slow', async () => {
    const hook = `${h.receiver.url}/slow`;
    const sub = (await call(h, 'POST', '/v1.0/subscriptions', subBody(h, { notificationUrl: hook }))).body;
    h.receiver.handler = (req, res) => {
      const token = req.query.get('validationToken');
      if (token !== null) return void res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
      setTimeout(() => res.writeHead(202).end(), 150);
    };
    const opts = h.events.options as { slowThresholdMs: number };
    const previous = opts.slowThresholdMs;
    opts.slowThresholdMs = 50;
    const slow = h.events.stats().delivery.slow;
    const delivered = h.runtime.counters.notificationsDelivered;
    try {
      h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-alice', itemId: 'i1' });
      await waitFor('slow delivery', () => h.runtime.counters.notificationsDelivered > delivered);
    } finally {
      opts.slowThresholdMs = previous;
    }
    assert.equal(h.events.stats().delivery.slow, slow + 1);
    assert.equal(h.receiver.notifications('/slow').length, 1, 'slow but 2xx: not retried');
    h.receiver.handler = defaultHandler;
    await call(h, 'DELETE', `/v1.0/subscriptions/${sub.id}`);
  });

  test('undeliverable notifications are dropped after the 4-hour retry window and counted as failed', async () => {
    const hook = `${h.receiver.url}/down`;
    const sub = (
      await call(
        h,
        'POST',
        '/v1.0/subscriptions',
        subBody(h, { notificationUrl: hook, expirationDateTime: inMinutes(h, 600) }),
      )
    ).body;
    h.receiver.handler = (req, res) => {
      if (req.query.has('validationToken'))
        return void res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end(req.query.get('validationToken')!);
      res.writeHead(503).end();
    };
    const failed = h.runtime.counters.notificationsFailed;
    h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-alice', itemId: 'i1' });
    await waitFor('retries', () => h.receiver.notifications('/down').length >= 2);
    assert.equal(h.runtime.counters.notificationsFailed, failed, 'not failed while inside the window');
    assert.ok(h.events.stats().pendingDeliveries.some((p) => p.url === hook));
    h.runtime.clock.advance(4 * 3600 + 60);
    await waitFor('drop', () => h.runtime.counters.notificationsFailed === failed + 1);
    assert.ok(!h.events.stats().pendingDeliveries.some((p) => p.url === hook));
    const attempts = h.receiver.notifications('/down').length;
    await sleep(100);
    assert.equal(h.receiver.notifications('/down').length, attempts, 'no more attempts after the drop');
    h.receiver.handler = defaultHandler;
    await call(h, 'DELETE', `/v1.0/subscriptions/${sub.id}`);
  });

  test('notifications produced while delivery is disabled are lost', async () => {
    const sub = (
      await call(
        h,
        'POST',
        '/v1.0/subscriptions',
        subBody(h, { notificationUrl: `${h.receiver.url}/paused`, expirationDateTime: inMinutes(h, 600) }),
      )
    ).body;
    h.runtime.notificationsEnabled = false;
    h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-alice', itemId: 'i1' });
    await sleep(150);
    await h.events.flush();
    h.runtime.notificationsEnabled = true;
    await sleep(150);
    assert.equal(h.receiver.notifications('/paused').length, 0);
    assert.ok(h.events.stats().delivery.lost >= 1);
    h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-alice', itemId: 'i2' });
    await waitFor('delivery after re-enabling', () => h.receiver.notifications('/paused').length === 1);
    await call(h, 'DELETE', `/v1.0/subscriptions/${sub.id}`);
  });

  test('an expired subscription (advanced clock) stops delivering and disappears', async () => {
    const sub = (
      await call(
        h,
        'POST',
        '/v1.0/subscriptions',
        subBody(h, { notificationUrl: `${h.receiver.url}/expiring`, expirationDateTime: inMinutes(h, 30) }),
      )
    ).body;
    h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-alice', itemId: 'i1' });
    await waitFor('first delivery', () => h.receiver.notifications('/expiring').length === 1);
    h.runtime.clock.advance(31 * 60);
    assert.equal((await call(h, 'GET', `/v1.0/subscriptions/${sub.id}`)).status, 404);
    assert.ok(
      !(await call(h, 'GET', '/v1.0/subscriptions')).body.value.some((s: { id: string }) => s.id === sub.id),
    );
    h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-alice', itemId: 'i1' });
    await sleep(150);
    assert.equal(h.receiver.notifications('/expiring').length, 1);
  });
});

describe('lifecycle events', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ autoMissed: true });
  });
  after(() => h.close());

  const lifecycle = (h: Harness) => h.receiver.notifications('/life').flatMap((r) => r.json!.value);

  test('reauthorizationRequired arrives once within the last 10% of the lifetime, again after a renewal', async () => {
    const sub = (
      await call(
        h,
        'POST',
        '/v1.0/subscriptions',
        subBody(h, {
          lifecycleNotificationUrl: `${h.receiver.url}/life`,
          expirationDateTime: inMinutes(h, 100),
        }),
      )
    ).body;
    assert.equal(sub.lifecycleNotificationUrl, `${h.receiver.url}/life`);
    assert.equal(
      h.receiver.validations().filter((v) => v.path === '/life').length,
      1,
      'lifecycle URL validated too',
    );
    h.runtime.clock.advance(85 * 60);
    await sleep(120);
    assert.equal(lifecycle(h).length, 0);
    h.runtime.clock.advance(6 * 60);
    await waitFor('reauthorizationRequired', () => lifecycle(h).length === 1);
    assert.deepEqual(lifecycle(h)[0], {
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: sub.expirationDateTime,
      tenantId: TENANT,
      clientState: 'secret-state',
      lifecycleEvent: 'reauthorizationRequired',
    });
    h.runtime.clock.advance(60);
    await sleep(120);
    assert.equal(lifecycle(h).length, 1, 'sent once');
    await call(h, 'PATCH', `/v1.0/subscriptions/${sub.id}`, { expirationDateTime: inMinutes(h, 100) });
    h.runtime.clock.advance(95 * 60);
    await waitFor('second reauthorizationRequired', () => lifecycle(h).length === 2);
    await call(h, 'DELETE', `/v1.0/subscriptions/${sub.id}`);
  });

  test('admin triggers: missed, then subscriptionRemoved deletes the subscription', async () => {
    const sub = (
      await call(
        h,
        'POST',
        '/v1.0/subscriptions',
        subBody(h, {
          lifecycleNotificationUrl: `${h.receiver.url}/life`,
          expirationDateTime: inMinutes(h, 1000),
        }),
      )
    ).body;
    const seen = lifecycle(h).length;
    const unauth = await call(
      h,
      'POST',
      '/_sim/events/lifecycle',
      { subscriptionId: sub.id, event: 'missed' },
      undefined,
    );
    assert.equal(unauth.status, 401);
    const missed = await call(
      h,
      'POST',
      '/_sim/events/lifecycle',
      { subscriptionId: sub.id, event: 'missed' },
      ADMIN_TOKEN,
    );
    assert.equal(missed.status, 202);
    await waitFor('missed', () => lifecycle(h).length === seen + 1);
    assert.equal(lifecycle(h).at(-1)!.lifecycleEvent, 'missed');
    const { triggerLifecycle } = await import('./index.ts');
    assert.equal(triggerLifecycle(sub.id, 'subscriptionRemoved'), 'ok');
    await waitFor('subscriptionRemoved', () => lifecycle(h).length === seen + 2);
    assert.equal(lifecycle(h).at(-1)!.lifecycleEvent, 'subscriptionRemoved');
    assert.equal((await call(h, 'GET', `/v1.0/subscriptions/${sub.id}`)).status, 404);
    assert.equal(triggerLifecycle(sub.id, 'missed'), 'notFound');
    const gone = await call(
      h,
      'POST',
      '/_sim/events/lifecycle',
      { subscriptionId: sub.id, event: 'missed' },
      ADMIN_TOKEN,
    );
    assert.equal(gone.status, 404);
    const bad = await call(
      h,
      'POST',
      '/_sim/events/lifecycle',
      { subscriptionId: sub.id, event: 'nope' },
      ADMIN_TOKEN,
    );
    assert.equal(bad.status, 400);
  });

  test('autoMissed: lost notifications produce a missed event once delivery is back', async () => {
    const sub = (
      await call(
        h,
        'POST',
        '/v1.0/subscriptions',
        subBody(h, {
          lifecycleNotificationUrl: `${h.receiver.url}/life`,
          expirationDateTime: inMinutes(h, 1000),
        }),
      )
    ).body;
    const seen = lifecycle(h).length;
    h.runtime.notificationsEnabled = false;
    h.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-alice', itemId: 'i1' });
    await sleep(100);
    assert.equal(lifecycle(h).length, seen, 'nothing while paused');
    h.runtime.notificationsEnabled = true;
    await waitFor('missed', () => lifecycle(h).length === seen + 1);
    assert.deepEqual(
      { id: lifecycle(h).at(-1)!.subscriptionId, event: lifecycle(h).at(-1)!.lifecycleEvent },
      { id: sub.id, event: 'missed' },
    );
  });

  test('stats list subscriptions and pending deliveries for the admin only', async () => {
    assert.equal((await call(h, 'GET', '/_sim/events/stats', undefined, null)).status, 401);
    const stats = await call(h, 'GET', '/_sim/events/stats', undefined, ADMIN_TOKEN);
    assert.equal(stats.status, 200);
    assert.ok(Array.isArray(stats.body.subscriptions) && stats.body.subscriptions.length >= 1);
    assert.ok(Array.isArray(stats.body.pendingDeliveries));
    assert.equal(typeof stats.body.counters.notificationsDelivered, 'number');
  });
});
