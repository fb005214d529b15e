import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type HttpReceiver, startHttpReceiver } from '../../test/support/alert-receivers.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { waitFor } from '../../test/support/wait.ts';
import { parseChannelConfig } from './channels/config.ts';
import type { Policy } from './policy-repo.ts';
import { type AlertsHarness, alertsHarness, insertFindingEvents, insertIntegration } from './test-support.ts';

const secret = `whsec_${randomBytes(24).toString('base64')}`;

for (const dialect of testDialects()) {
  describe(`alert delivery (${dialect})`, () => {
    let t: TestStore;
    let h: AlertsHarness;
    let receiver: HttpReceiver;
    let policy: Policy;

    before(async () => {
      t = await openTestStore(dialect);
      await insertIntegration(t.db, t.store);
      receiver = await startHttpReceiver({ dedupe: true });
      h = alertsHarness(t.store, {
        worker: { timeoutMs: 300, maxAttempts: 3, retryBaseMs: 20, retryMaxMs: 100 },
      });
      await h.channels.add('hook', parseChannelConfig('webhook', { url: receiver.url, secret }));
      policy = await h.policies.add({ name: 'all', kind: 'rule', channels: ['hook'] });
      h.worker.start();
    });
    after(async () => {
      await h.close();
      await receiver.close();
      await t.cleanup();
    });

    /** Routes one new finding event and waits until its delivery is no longer pending. */
    async function alertOnce() {
      await insertFindingEvents(t.db, [{}]);
      await h.router.route();
      h.worker.notify();
      return waitFor('the delivery settled', async () => {
        const [entry] = await h.outbox.log({ policyId: policy.id, limit: 1 });
        return entry && entry.status !== 'pending' ? entry : undefined;
      });
    }

    it('retries a receiver answering 500, then delivers; the log keeps the attempts and the last error', async () => {
      receiver.script({ status: 500, body: 'boom' }, { status: 503 });
      const before = receiver.requests.length;
      const entry = await alertOnce();
      assert.equal(entry.status, 'delivered');
      assert.equal(entry.attempts, 3);
      assert.match(entry.lastError ?? '', /^HTTP 503/);
      assert.equal(entry.responseStatus, 200);
      assert.ok(entry.latencyMs !== null && entry.latencyMs >= 0);
      const sent = receiver.requests.slice(before);
      assert.equal(sent.length, 3);
      assert.equal(
        new Set(sent.map((r) => r.headers['webhook-id'])).size,
        1,
        'one idempotency key for every attempt',
      );
    });

    it('retries after a timeout', async () => {
      receiver.script({ hang: true });
      const entry = await alertOnce();
      assert.equal(entry.status, 'delivered');
      assert.equal(entry.attempts, 2);
      assert.equal(entry.lastError, 'timed out after 300 ms');
    });

    it('waits for the Retry-After of a 429 before retrying', async () => {
      receiver.script({ status: 429, headers: { 'retry-after': '1' } });
      const before = receiver.requests.length;
      const times: number[] = [];
      receiver.onRequest = () => {
        times.push(Date.now());
      };
      const entry = await alertOnce();
      receiver.onRequest = undefined;
      assert.equal(entry.status, 'delivered');
      assert.equal(receiver.requests.length - before, 2);
      assert.ok(times[1] - times[0] >= 950, `retried after ${times[1] - times[0]} ms, Retry-After said 1 s`);
    });

    it('dead-letters after the last attempt, and at once on a permanent failure', async () => {
      receiver.script({ status: 500 }, { status: 502 }, { status: 500 });
      const dead = await alertOnce();
      assert.equal(dead.status, 'dead');
      assert.equal(dead.attempts, 3);
      assert.match(dead.lastError ?? '', /HTTP 500.*gave up after 3 attempts/);

      receiver.script({ status: 410, body: 'gone' });
      const gone = await alertOnce();
      assert.equal(gone.status, 'dead');
      assert.equal(gone.attempts, 1);
      assert.equal(gone.responseStatus, 410);
    });

    it('a receiver that asks to wait holds its own channel only', async () => {
      const slow = await startHttpReceiver();
      const other = await startHttpReceiver();
      try {
        await h.channels.add('slow', parseChannelConfig('slack', { url: slow.url }));
        await h.channels.add('other', parseChannelConfig('slack', { url: other.url }));
        const both = await h.policies.add({
          name: 'two-channels',
          kind: 'rule',
          channels: ['slow', 'other'],
        });
        slow.script({ status: 429, headers: { 'retry-after': '30' } });
        await insertFindingEvents(t.db, [{}]);
        await h.router.route();
        await insertFindingEvents(t.db, [{}]);
        await h.router.route();
        h.worker.notify();
        await waitFor('both alerts at the other channel', () => other.requests.length === 2);
        const log = await h.outbox.log({ policyId: both.id });
        const slowRows = log.filter((e) => e.channel === 'slow');
        assert.deepEqual(
          slowRows.map((e) => e.status),
          ['pending', 'pending'],
        );
        assert.equal(slow.requests.length, 1, 'the second alert waits behind the Retry-After');
        const waitUntil = Date.now() + 25_000;
        assert.ok(slowRows.every((e) => e.nextAttemptAt && Date.parse(e.nextAttemptAt) > waitUntil));
        await h.policies.remove(both.id);
      } finally {
        await slow.close();
        await other.close();
      }
    });

    it('dead-letters a delivery the SSRF guard refuses, without connecting', async () => {
      const strict = alertsHarness(t.store, { allow: false, box: h.box });
      await h.worker.stop();
      try {
        await insertFindingEvents(t.db, [{}]);
        await h.router.route();
        const before = receiver.requests.length;
        await strict.worker.drain();
        const [entry] = await h.outbox.log({ policyId: policy.id, limit: 1 });
        assert.equal(entry.status, 'dead');
        assert.match(entry.lastError ?? '', /refused to connect to loopback address 127\.0\.0\.1/);
        assert.equal(receiver.requests.length, before);
      } finally {
        await strict.close();
        h.worker.start();
      }
    });
  });
}
