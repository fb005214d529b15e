import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type HttpReceiver, startHttpReceiver } from '../../test/support/alert-receivers.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { waitFor } from '../../test/support/wait.ts';
import { parseChannelConfig } from './channels/config.ts';
import type { AlertMessage } from './message.ts';
import {
  type AlertsHarness,
  alertsHarness,
  insertChange,
  insertDriveAndItem,
  insertFindingEvents,
  insertIntegration,
  insertPermission,
} from './test-support.ts';

const secret = `whsec_${randomBytes(24).toString('base64')}`;

for (const dialect of testDialects()) {
  describe(`alert router (${dialect})`, () => {
    let t: TestStore;
    let h: AlertsHarness;
    let clock: Date;
    let slack: HttpReceiver;
    let hook: HttpReceiver;

    before(async () => {
      t = await openTestStore(dialect);
      await insertIntegration(t.db, t.store);
      await insertIntegration(t.db, t.store, 'int-2', 'fabrikam');
      clock = new Date('2026-03-02T12:00:00.000Z');
      slack = await startHttpReceiver();
      hook = await startHttpReceiver({ dedupe: true });
      h = alertsHarness(t.store, {
        now: () => clock,
        gapGraceMs: 1_000,
        catalog: (id) =>
          id === 'permission_anonymous_link_absent'
            ? { title: 'No Anyone links', tags: ['sharing', 'cis'], packs: ['cis-m365'] }
            : { title: id, tags: [], packs: [] },
      });
      await h.channels.add('slack', parseChannelConfig('slack', { url: slack.url }));
      await h.channels.add('hook', parseChannelConfig('webhook', { url: hook.url, secret }));
    });
    after(async () => {
      await h.close();
      await slack.close();
      await hook.close();
      await t.cleanup();
    });

    /** Outbox rows of a policy, with their messages. */
    async function routed(policyId: string) {
      const rows = await t.db
        .selectFrom('alert_outbox')
        .selectAll()
        .where('policy_id', '=', policyId)
        .orderBy('id')
        .execute();
      return rows.map((r) => ({ ...r, message: JSON.parse(r.body) as AlertMessage }));
    }

    it('routes matching finding events once, one alert per event and channel, from the policy’s creation on', async () => {
      await insertFindingEvents(t.db, [{ severity: 'critical' }]); // before the policy: never alerted
      const policy = await h.policies.add({
        name: 'anyone-links',
        kind: 'rule',
        channels: ['slack', 'hook'],
        filter: {
          events: ['opened', 'reopened'],
          minSeverity: 'high',
          tags: ['sharing'],
          packs: ['cis-m365'],
          integrations: ['contoso'],
        },
      });
      // The same events through a pack the rule is not in: nothing.
      const otherPack = await h.policies.add({
        name: 'other-pack',
        kind: 'rule',
        channels: ['slack'],
        filter: { packs: ['scuba-sharepoint'] },
      });
      await insertDriveAndItem(t.db, t.store, {
        itemId: 'item-0',
        path: '/Finance/Budget.xlsx',
        owner: 'alice@contoso.com',
      });
      await insertChange(t.db, {
        resourceType: 'permission',
        resourceId: 'perm-0',
        changeType: 'added',
        driveId: 'd1',
        itemId: 'item-0',
        after: { link_scope: 'anonymous', roles: ['read'] },
        actor: 'bob@contoso.com',
        observedAt: '2026-01-01T00:00:00.000Z',
      });
      await insertFindingEvents(t.db, [
        { severity: 'high', path: '/Finance/Budget.xlsx' },
        { severity: 'low' },
        { severity: 'critical', event: 'resolved' },
        { severity: 'critical', event: 'reopened' },
        { severity: 'critical', ruleId: 'drive_quota_healthy' },
        { severity: 'critical', integrationId: 'int-2' },
      ]);
      const first = await h.router.route();
      assert.equal(first.alerts, 2);
      const rows = await routed(policy.id);
      assert.equal(rows.length, 4, 'two alerts, each to two channels');
      assert.deepEqual(
        rows.map((r) => [r.message.items[0].event, r.message.items[0].severity]),
        [
          ['opened', 'high'],
          ['opened', 'high'],
          ['reopened', 'critical'],
          ['reopened', 'critical'],
        ],
      );
      assert.equal(new Set(rows.map((r) => r.idempotency_key)).size, 4);
      const item = rows[0].message.items[0];
      assert.equal(item.title, 'No Anyone links');
      assert.equal(item.resourcePath, '/Finance/Budget.xlsx');
      assert.equal(item.owner, 'alice@contoso.com');
      assert.equal(item.actor, 'bob@contoso.com', 'from the resource’s history');
      assert.match(item.changed ?? '', /link_scope anonymous/);
      assert.equal(item.resourceUrl, 'https://contoso-my.sharepoint.com/personal/d1/Finance/Budget.xlsx');
      assert.match(item.appUrl ?? '', /^https:\/\/dw\.example\.test\/findings\/\d+$/);

      const again = await h.router.route();
      assert.equal(again.deliveries, 0, 'nothing is routed twice');
      assert.equal((await routed(policy.id)).length, 4);
      assert.equal((await routed(otherPack.id)).length, 0);
      await h.policies.remove(policy.id);
      await h.policies.remove(otherPack.id);
    });

    it('turns 1,000 finding events of one evaluation into one digest per policy and channel', async () => {
      const both = await h.policies.add({ name: 'all-findings', kind: 'rule', channels: ['slack', 'hook'] });
      const slackOnly = await h.policies.add({
        name: 'critical-findings',
        kind: 'rule',
        channels: ['slack'],
        filter: { minSeverity: 'high' },
      });
      await insertFindingEvents(
        t.db,
        Array.from({ length: 1000 }, (_, i) => ({ severity: i % 100 === 0 ? 'critical' : 'high' })),
      );
      const summary = await h.router.route();
      assert.equal(summary.alerts, 2);
      assert.equal(summary.deliveries, 3);
      for (const [policy, channels] of [
        [both, 2],
        [slackOnly, 1],
      ] as const) {
        const rows = await routed(policy.id);
        assert.equal(rows.length, channels);
        for (const r of rows) {
          assert.equal(r.kind, 'digest');
          assert.equal(r.item_count, 1000);
          assert.equal(r.message.count, 1000);
          assert.deepEqual(r.message.bySeverity, { critical: 10, high: 990 });
          assert.equal(r.message.items.length, 10);
          assert.ok(
            r.message.items.every((i) => i.severity === 'critical'),
            'the top items are the most severe',
          );
          assert.equal(r.message.digestReason, 'burst');
        }
      }
      // And delivered: one message per policy and channel at the receivers.
      const slackBefore = slack.requests.length;
      h.worker.start();
      await waitFor('the digests delivered', async () => {
        const rows = [...(await routed(both.id)), ...(await routed(slackOnly.id))];
        return rows.every((r) => r.status === 'delivered');
      });
      await h.worker.stop();
      const digests = (bodies: string[]) => bodies.filter((b) => b.includes('1000 finding events')).length;
      assert.equal(digests(slack.requests.slice(slackBefore).map((r) => r.body)), 2);
      assert.equal(digests([...hook.processed.values()]), 1);
      await h.policies.remove(both.id);
      await h.policies.remove(slackOnly.id);
    });

    it('routes changes by type, fields and a condition on the new state', async () => {
      const policy = await h.policies.add({
        name: 'outside-grants',
        kind: 'change',
        channels: ['hook'],
        severity: 'high',
        filter: {
          resourceTypes: ['permission'],
          changeTypes: ['added', 'modified'],
          where: 'is_external = true and recipient_domain not in (contoso.com, contoso.net)',
        },
      });
      await insertDriveAndItem(t.db, t.store, {
        driveId: 'd2',
        itemId: 'item-x',
        path: '/Projects/Plan.docx',
        owner: 'carol@contoso.com',
      });
      await insertPermission(t.db, t.store, {
        driveId: 'd2',
        itemId: 'item-x',
        id: 'perm-ext',
        linkScope: 'users',
        isExternal: true,
      });
      const outside = await insertChange(t.db, {
        resourceType: 'permission',
        resourceId: 'perm-new',
        changeType: 'added',
        driveId: 'd2',
        itemId: 'item-x',
        after: {
          roles: ['write'],
          is_external: true,
          recipient_domain: 'gmail.com',
          recipient_email: 'eve@gmail.com',
        },
        actor: 'carol@contoso.com',
      });
      await insertChange(t.db, {
        resourceType: 'permission',
        resourceId: 'perm-in',
        changeType: 'added',
        driveId: 'd2',
        itemId: 'item-x',
        after: { roles: ['read'], is_external: false, recipient_domain: 'contoso.com' },
      });
      // A modification that does not carry the condition's fields: judged on the stored row
      // (external) with the change over it; its domain is unknown (null), so `not in` fails.
      await insertChange(t.db, {
        resourceType: 'permission',
        resourceId: 'perm-ext',
        changeType: 'modified',
        driveId: 'd2',
        itemId: 'item-x',
        before: { roles: ['read'] },
        after: { roles: ['write'] },
      });
      await insertChange(t.db, {
        resourceType: 'drive_item',
        resourceId: 'item-x',
        changeType: 'modified',
        driveId: 'd2',
        before: { name: 'a' },
        after: { name: 'b' },
      });
      await h.router.route();
      const rows = await routed(policy.id);
      assert.equal(rows.length, 1);
      const item = rows[0].message.items[0];
      assert.equal(item.sourceId, outside);
      assert.equal(item.title, 'Permission added');
      assert.equal(item.severity, 'high');
      assert.equal(item.resourcePath, '/Projects/Plan.docx');
      assert.equal(item.owner, 'carol@contoso.com');
      assert.equal(item.actor, 'carol@contoso.com');
      assert.match(item.changed ?? '', /recipient_domain gmail\.com/);
      assert.equal(item.appUrl, `https://dw.example.test/changes/${outside}`);

      // A stored row makes the condition hold for a change that does not carry its fields.
      await t.db
        .updateTable('permissions')
        .set({ recipient_domain: 'gmail.com' })
        .where('id', '=', 'perm-ext')
        .execute();
      const modified = await insertChange(t.db, {
        resourceType: 'permission',
        resourceId: 'perm-ext',
        changeType: 'modified',
        driveId: 'd2',
        itemId: 'item-x',
        before: { roles: ['write'] },
        after: { roles: ['owner'] },
      });
      await h.router.route();
      const after = await routed(policy.id);
      assert.deepEqual(
        after.map((r) => r.message.items[0].sourceId),
        [outside, modified],
      );
      await h.policies.remove(policy.id);
    });

    it('holds events over a rate limit and sends them as one digest when the window allows', async () => {
      clock = new Date('2026-03-02T12:00:00.000Z');
      const policy = await h.policies.add({
        name: 'rate-limited',
        kind: 'rule',
        channels: ['slack'],
        rateLimit: { max: 2, perSeconds: 3600 },
      });
      await insertFindingEvents(t.db, [{}]);
      await h.router.route();
      await insertFindingEvents(t.db, [{}]);
      await h.router.route();
      assert.equal((await routed(policy.id)).length, 2);
      await insertFindingEvents(t.db, [{}, {}, {}]);
      const held = await h.router.route();
      assert.equal(held.held, 3);
      assert.equal((await routed(policy.id)).length, 2, 'over the limit: held');
      clock = new Date('2026-03-02T12:30:00.000Z');
      await h.router.route();
      assert.equal((await routed(policy.id)).length, 2, 'still inside the window');
      clock = new Date('2026-03-02T13:00:01.000Z');
      await h.router.route();
      const rows = await routed(policy.id);
      assert.equal(rows.length, 3);
      assert.equal(rows[2].kind, 'digest');
      assert.equal(rows[2].message.count, 3);
      assert.equal(rows[2].message.digestReason, 'rate_limit');
      await h.policies.remove(policy.id);
    });

    it('holds events during quiet hours and sends one digest when they end', async () => {
      const policy = await h.policies.add({
        name: 'night-shift',
        kind: 'rule',
        channels: ['slack', 'hook'],
        quietHours: { start: '22:00', end: '07:00', timeZone: 'Europe/Berlin' },
      });
      clock = new Date('2026-03-02T21:30:00.000Z'); // 22:30 in Berlin
      await insertFindingEvents(t.db, [{ severity: 'medium' }, { severity: 'critical' }, {}, {}]);
      await h.router.route();
      clock = new Date('2026-03-03T05:00:00.000Z'); // 06:00 in Berlin
      await insertFindingEvents(t.db, [{}]);
      await h.router.route();
      assert.equal((await routed(policy.id)).length, 0, 'quiet');
      clock = new Date('2026-03-03T06:00:00.000Z'); // 07:00 in Berlin: over
      const summary = await h.router.route();
      assert.equal(summary.alerts, 1);
      const rows = await routed(policy.id);
      assert.equal(rows.length, 2, 'one digest per channel');
      for (const r of rows) {
        assert.equal(r.message.count, 5);
        assert.equal(r.message.digestReason, 'quiet_hours');
        assert.equal(r.message.items[0].severity, 'critical');
        assert.match(r.title, /5 finding events for night-shift during quiet hours/);
      }
      assert.equal(await t.db.selectFrom('alert_held').select('policy_id').executeTakeFirst(), undefined);
      await h.policies.remove(policy.id);
    });

    it('alerts when a pack score falls below the threshold, and when it is back', async () => {
      const policy = await h.policies.add({
        name: 'cis-score',
        kind: 'compliance',
        channels: ['hook'],
        severity: 'high',
        filter: { packs: ['cis-m365'], belowPercent: 75 },
      });
      const score = (passing: number, packId = 'cis-m365') =>
        t.db
          .insertInto('pack_scores')
          .values({
            integration_id: 'int-1',
            pack_id: packId,
            at: new Date().toISOString(),
            passing,
            evaluated: 10,
            details: JSON.stringify({
              total: 12,
              controls: Array.from({ length: 10 }, (_, i) => ({
                id: `1.${i + 1}`,
                status: i < passing ? 'pass' : 'fail',
              })),
            }),
          })
          .execute();
      for (const passing of [9, 8, 7, 6]) await score(passing);
      await score(2, 'scuba-sharepoint');
      await h.router.route();
      await score(8);
      await score(9);
      await h.router.route();
      const rows = await routed(policy.id);
      assert.deepEqual(
        rows.map((r) => [r.message.items[0].event, r.message.items[0].severity, r.message.items[0].changed]),
        [
          ['score_dropped', 'high', '80% → 70% (7 of 10 controls pass)'],
          ['score_recovered', 'info', '60% → 80% (8 of 10 controls pass)'],
        ],
      );
      assert.equal(rows[0].message.items[0].title, 'cis-m365 score below 75%: 70%');
      assert.equal(rows[0].message.items[0].reason, 'failing controls: 1.8, 1.9, 1.10');
      assert.equal(
        rows[0].message.items[0].appUrl,
        'https://dw.example.test/packs/cis-m365?integration=int-1',
      );
      await h.policies.remove(policy.id);
    });

    it(
      dialect === 'postgres'
        ? 'waits for a missing id (a transaction still in flight) before passing it'
        : 'routes past a missing id at once (SQLite commits in id order)',
      async () => {
        clock = new Date('2026-03-04T12:00:00.000Z');
        const policy = await h.policies.add({
          name: 'gaps',
          kind: 'rule',
          channels: ['slack'],
          digestThreshold: 100,
        });
        const cursor = await t.db
          .selectFrom('alert_cursors')
          .select('last_id')
          .where('policy_id', '=', policy.id)
          .executeTakeFirstOrThrow();
        const m = Number(cursor.last_id);
        await insertFindingEvents(t.db, [{ id: m + 2 }]);
        const first = await h.router.route();
        if (dialect === 'postgres') {
          assert.equal(first.deliveries, 0, 'id m+1 may still commit: wait');
          await insertFindingEvents(t.db, [{ id: m + 1 }]);
          await h.router.route();
          assert.deepEqual(
            (await routed(policy.id)).map((r) => r.message.items[0].sourceId),
            [m + 1, m + 2],
          );
          await insertFindingEvents(t.db, [{ id: m + 4 }]);
          await h.router.route();
          assert.equal((await routed(policy.id)).length, 2);
          clock = new Date(clock.getTime() + 1_500); // past the grace period: m+3 was rolled back
          await h.router.route();
          assert.equal((await routed(policy.id)).length, 3);
        } else {
          assert.equal(first.deliveries, 1);
        }
        await h.policies.remove(policy.id);
      },
    );
  });
}
