import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type HttpReceiver,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
} from '../../../../test/support/alert-receivers.ts';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { insertFindingEvents, insertIntegration } from '../../../alerts/test-support.ts';
import { withAlerts } from '../../../app/alerts.ts';

/**
 * The alerts routes on a real server with real receivers, both dialects: a channel added, its
 * URL masked in the list, a test sent to the receiver; policies; a policy firing shows up in
 * the delivery log; bad configurations, viewers and anonymous callers refused.
 */
for (const dialect of testDialects()) {
  describe(`alerts API (${dialect})`, () => {
    let api: TestApi;
    let hook: HttpReceiver;
    let smtp: SmtpReceiver;
    const secretPath = '/hook/T000/B000/very-secret-token-xyz9';
    before(async () => {
      api = await startTestApi({ dialect, config: { 'alerts.allowPrivateTargets': true } });
      hook = await startHttpReceiver({ path: secretPath });
      smtp = await startSmtpReceiver({});
      await insertIntegration(api.app.store.db, api.app.store, 'int-1', 'contoso');
    });
    after(async () => {
      await hook?.close();
      await smtp?.close();
      await api?.close();
    });

    test('a webhook channel: added (secret shown once), listed masked, tested against the receiver', async () => {
      const added = await api.admin.post('/api/v1/alerts/channels', {
        name: 'ops-hook',
        kind: 'webhook',
        config: { url: hook.url },
      });
      assert.equal(added.status, 201, added.text);
      assert.match(added.body.secret, /^whsec_/);
      assert.equal(added.body.channel.name, 'ops-hook');
      assert.ok(!added.body.channel.target.includes('very-secret-token'), added.body.channel.target);

      const list = await api.viewer.get('/api/v1/alerts/channels');
      assert.equal(list.status, 200);
      const [row] = list.body.items;
      assert.equal(row.name, 'ops-hook');
      assert.match(row.target, /^http:\/\/127\.0\.0\.1:\d+\/…xyz9 \(signed\)$/);
      assert.ok(!list.text.includes('very-secret-token'), 'the URL never leaves in full');
      assert.ok(!list.text.includes(added.body.secret), 'nor the secret');

      hook.script({ status: 202 });
      const sent = await api.admin.post(`/api/v1/alerts/channels/${row.id}/test`);
      assert.equal(sent.status, 200, sent.text);
      assert.deepEqual([sent.body.ok, sent.body.status, sent.body.error], [true, 202, null]);
      assert.equal(hook.requests.length, 1);
      assert.equal(hook.requests[0].path, secretPath);
      assert.ok(hook.requests[0].headers['webhook-signature'], 'signed');

      hook.script({ status: 500, body: 'down' });
      const failed = await api.admin.post('/api/v1/alerts/channels/ops-hook/test');
      assert.equal(failed.status, 200);
      assert.equal(failed.body.ok, false);
      assert.equal(failed.body.status, 500);
    });

    test('an e-mail channel to the SMTP receiver; bad configurations answer 400 naming the field', async () => {
      const added = await api.admin.post('/api/v1/alerts/channels', {
        name: 'ops-mail',
        kind: 'email',
        config: {
          host: '127.0.0.1',
          port: smtp.port,
          security: 'none',
          from: 'dw@example.com',
          to: ['sec@example.com'],
        },
      });
      assert.equal(added.status, 201, added.text);
      assert.equal(added.body.secret, undefined);
      const sent = await api.admin.post('/api/v1/alerts/channels/ops-mail/test');
      assert.equal(sent.body.ok, true, sent.text);
      assert.equal(sent.body.status, 250);
      assert.deepEqual(smtp.mails.at(-1)?.to, ['sec@example.com']);

      const badUrl = await api.admin.post('/api/v1/alerts/channels', {
        name: 'bad',
        kind: 'slack',
        config: { url: 'not a url' },
      });
      assert.equal(badUrl.status, 400);
      assert.equal(badUrl.body.error.code, 'invalid_request');
      assert.match(badUrl.body.error.message, /^config\.url: /);
      const badTo = await api.admin.post('/api/v1/alerts/channels', {
        name: 'bad',
        kind: 'email',
        config: { host: 'smtp.example.com', from: 'dw@example.com', to: ['nope'] },
      });
      assert.equal(badTo.status, 400);
      assert.match(badTo.body.error.message, /config\.to\.0: must be an e-mail address/);
      const badKind = await api.admin.post('/api/v1/alerts/channels', { name: 'x', kind: 'fax', config: {} });
      assert.equal(badKind.status, 400);
      assert.match(badKind.body.error.message, /^body\.kind: /);
      const badName = await api.admin.post('/api/v1/alerts/channels', {
        name: 'no spaces',
        kind: 'slack',
        config: { url: 'https://hooks.example.com/x' },
      });
      assert.equal(badName.status, 400);
      assert.match(badName.body.error.message, /channel name "no spaces"/);
      const taken = await api.admin.post('/api/v1/alerts/channels', {
        name: 'ops-mail',
        kind: 'slack',
        config: { url: 'https://hooks.example.com/x' },
      });
      assert.equal(taken.status, 409);
      assert.equal((await api.admin.post('/api/v1/alerts/channels/nope/test')).status, 404);
    });

    test('viewers may list but not change; anonymous callers get 401', async () => {
      const body = { name: 'v', kind: 'slack', config: { url: 'https://hooks.example.com/x' } };
      assert.equal((await api.viewer.post('/api/v1/alerts/channels', body)).status, 403);
      assert.equal((await api.viewer.post('/api/v1/alerts/channels/ops-hook/test')).status, 403);
      assert.equal((await api.viewer.delete('/api/v1/alerts/channels/ops-hook')).status, 403);
      assert.equal((await api.viewer.post('/api/v1/alerts/policies', {})).status, 403);
      assert.equal((await api.viewer.get('/api/v1/alerts/policies')).status, 200);
      for (const path of ['/api/v1/alerts/channels', '/api/v1/alerts/policies', '/api/v1/alerts/deliveries'])
        assert.equal((await api.anon.get(path)).status, 401, path);
    });

    test('a policy fires: its deliveries appear in the log, filtered by status, channel and policy, paged', async () => {
      const policy = await api.admin.post('/api/v1/alerts/policies', {
        name: 'critical-findings',
        kind: 'rule',
        channels: ['ops-hook'],
        filter: { minSeverity: 'high' },
      });
      assert.equal(policy.status, 201, policy.text);
      assert.deepEqual(policy.body.channels, ['ops-hook']);
      assert.equal(policy.body.filter.minSeverity, 'high');

      const badFilter = await api.admin.post('/api/v1/alerts/policies', {
        name: 'bad',
        kind: 'rule',
        channels: ['ops-hook'],
        filter: { rules: ['Not A Rule'] },
      });
      assert.equal(badFilter.status, 400);
      assert.match(badFilter.body.error.message, /filter\.rules\.0: is not a rule id/);
      const unknownQuery = await api.admin.post('/api/v1/alerts/policies', {
        name: 'bad',
        kind: 'query',
        channels: ['ops-hook'],
        filter: { query: 'no-such-saved-query' },
      });
      assert.equal(unknownQuery.status, 400, unknownQuery.text);
      assert.match(unknownQuery.body.error.message, /no-such-saved-query/);
      const noChannel = await api.admin.post('/api/v1/alerts/policies', {
        name: 'bad',
        kind: 'rule',
        channels: ['nope'],
      });
      assert.equal(noChannel.status, 404);
      assert.equal(
        (await api.admin.post('/api/v1/alerts/policies', { name: 'x', kind: 'rule' })).status,
        400,
      );
      const inUse = await api.admin.delete('/api/v1/alerts/channels/ops-hook');
      assert.equal(inUse.status, 409);
      assert.match(inUse.body.error.message, /critical-findings/);

      hook.requests.length = 0;
      await insertFindingEvents(api.app.store.db, [
        { ruleId: 'permission_anonymous_link_absent', severity: 'high', path: '/a.txt' },
        { ruleId: 'permission_anonymous_link_absent', severity: 'critical', path: '/b.txt' },
        { ruleId: 'permission_anonymous_link_absent', severity: 'low', path: '/c.txt' },
      ]);
      // What the service does on every kick: route the new events, deliver.
      await withAlerts(api.app, async (alerts) => {
        await alerts.refreshCatalog();
        await alerts.router.route();
        await alerts.worker.drain();
      });
      assert.equal(hook.requests.length, 2, 'high and critical, not low');

      const log = await api.viewer.get('/api/v1/alerts/deliveries?policy=critical-findings');
      assert.equal(log.status, 200);
      assert.equal(log.body.items.length, 2);
      for (const d of log.body.items) {
        assert.equal(d.status, 'delivered');
        assert.equal(d.channel, 'ops-hook');
        assert.equal(d.policy, 'critical-findings');
        assert.equal(d.attempts, 1);
        assert.equal(d.responseStatus, 200);
      }
      assert.ok(log.body.items[0].id > log.body.items[1].id, 'newest first');

      const page1 = await api.viewer.get('/api/v1/alerts/deliveries?limit=1&channel=ops-hook');
      assert.equal(page1.body.items.length, 1);
      assert.ok(page1.body.nextCursor);
      const page2 = await api.viewer.get(
        `/api/v1/alerts/deliveries?limit=1&channel=ops-hook&cursor=${encodeURIComponent(page1.body.nextCursor)}`,
      );
      assert.equal(page2.body.items.length, 1);
      assert.ok(page2.body.items[0].id < page1.body.items[0].id);
      assert.equal(page2.body.nextCursor, null);
      const dead = await api.viewer.get('/api/v1/alerts/deliveries?status=dead,pending');
      assert.deepEqual(dead.body.items, []);
      const badStatus = await api.viewer.get('/api/v1/alerts/deliveries?status=lost');
      assert.equal(badStatus.status, 400);
      assert.match(badStatus.body.error.message, /status/);
      assert.equal((await api.viewer.get('/api/v1/alerts/deliveries?channel=nope')).status, 404);
      assert.equal((await api.viewer.get('/api/v1/alerts/deliveries?sort=title')).status, 400);

      const removed = await api.admin.delete('/api/v1/alerts/policies/critical-findings');
      assert.equal(removed.status, 200);
      assert.equal((await api.viewer.get('/api/v1/alerts/policies')).body.items.length, 0);
      const kept = await api.viewer.get('/api/v1/alerts/deliveries');
      assert.equal(kept.body.items.length, 2, 'the log stays');
    });

    test('channels page by name; a channel is removed; private targets refused unless allowed', async () => {
      for (const name of ['a-slack', 'b-slack', 'c-slack'])
        assert.equal(
          (
            await api.admin.post('/api/v1/alerts/channels', {
              name,
              kind: 'slack',
              config: { url: `https://hooks.example.com/services/${name}` },
            })
          ).status,
          201,
        );
      const first = await api.viewer.get('/api/v1/alerts/channels?limit=2&kind=slack');
      assert.deepEqual(
        first.body.items.map((c: { name: string }) => c.name),
        ['a-slack', 'b-slack'],
      );
      const second = await api.viewer.get(
        `/api/v1/alerts/channels?limit=2&kind=slack&cursor=${encodeURIComponent(first.body.nextCursor)}`,
      );
      assert.deepEqual(
        second.body.items.map((c: { name: string }) => c.name),
        ['c-slack'],
      );
      assert.equal((await api.admin.delete('/api/v1/alerts/channels/c-slack')).status, 200);
      assert.equal((await api.admin.delete('/api/v1/alerts/channels/c-slack')).status, 404);

      const strict = await startTestApi({ dialect });
      try {
        const refused = await strict.admin.post('/api/v1/alerts/channels', {
          name: 'internal',
          kind: 'webhook',
          config: { url: 'http://10.0.0.5/hook' },
        });
        assert.equal(refused.status, 400);
        assert.equal(refused.body.error.code, 'outbound_refused');
        assert.match(refused.body.error.message, /private address 10\.0\.0\.5/);
        assert.deepEqual((await strict.admin.get('/api/v1/alerts/channels')).body.items, []);
      } finally {
        await strict.close();
      }
    });
  });
}
