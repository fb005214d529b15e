import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { TruthRecord } from '../../sim/contracts.ts';
import { mimeParts, type SmtpReceiver, startSmtpReceiver } from '../../test/support/alert-receivers.ts';
import { simClient, simContext } from '../../test/support/collector.ts';
import { quietLogger } from '../../test/support/logger.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { ChannelRepository } from '../alerts/channel-repo.ts';
import { parseChannelConfig } from '../alerts/channels/config.ts';
import { syncIntegration } from '../collect/sync.ts';
import { loadConfig } from '../config/config.ts';
import { ReviewLinkError } from '../remediate/review-links.ts';
import { campaignReport, createCampaign, decide, itemsForLink, reportCsv } from '../remediate/reviews.ts';
import { planForRule } from '../remediate/targets.ts';
import { encodeValue } from '../store/codec.ts';
import { type AppContext, assembleApp } from './context.ts';
import { answerReview } from './remediate.ts';
import { escalateDue } from './review-campaigns.ts';
import { openReviewSender } from './review-delivery.ts';
import { reviewLinkKey } from './review-key.ts';

type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;
const RULE = 'permission_guest_access_reviewed';
const DAY = 86_400_000;

/**
 * Escalation of unanswered review items against the simulator and a real SMTP server: after
 * the campaign's period, an owner's unanswered items go to the manager the directory names,
 * with a link for exactly those items; an owner without a manager goes to the admins' channel;
 * after a second period the admins hear about the rest. Each step is taken once, also when the
 * round runs again with a fresh sender (a restart), and the report shows it.
 */
for (const dialect of testDialects()) {
  describe(`review escalation (${dialect})`, () => {
    let ts: TestSim;
    let t: TestStore;
    let app: AppContext;
    let smtp: SmtpReceiver;
    let dir: string;
    let client: ReturnType<typeof simClient>;
    before(async () => {
      ts = await startTestSim({ users: 12, items: 400, sharedRatio: 0.12, deltaRepeatRate: 0 });
      t = await openTestStore(dialect);
      client = simClient(ts.sim);
      await syncIntegration(simContext(t.store, ts.sim, client), { mode: 'full' });
      smtp = await startSmtpReceiver({});
      dir = mkdtempSync(join(tmpdir(), 'dw-escalate-'));
      const config = loadConfig(
        {},
        {
          dataDir: dir,
          logLevel: 'silent',
          'alerts.allowPrivateTargets': true,
          'server.publicUrl': 'https://dw.example.test',
        },
      );
      app = assembleApp(config, quietLogger, t.store);
    });
    after(async () => {
      await client?.close();
      await smtp?.close();
      await t?.cleanup();
      await ts?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('unanswered items go to the manager, then to the admins, each step once; the manager decides only that owner’s items', async () => {
      const db = t.db;
      const perms = await db
        .selectFrom('permissions')
        .select(['id', 'drive_id', 'item_id'])
        .where('integration_id', '=', 'int-sim')
        .where(sql<boolean>`is_external = true`)
        .where('deleted_at', 'is', null)
        .execute();
      const started = new Date();
      for (const p of new Map(perms.map((p) => [p.id, p])).values())
        await db
          .insertInto('findings')
          .values({
            integration_id: 'int-sim',
            rule_id: RULE,
            resource_type: 'permission',
            resource_key: `${p.drive_id}/${p.item_id}/${p.id}`,
            resource_id: p.id,
            drive_id: p.drive_id,
            item_id: p.item_id,
            status: 'open',
            result: 'alarm',
            severity: 'medium',
            reason: 'outside share',
            details: encodeValue('json', {}, t.store.dialect),
            first_seen: started.toISOString(),
            last_seen: started.toISOString(),
          })
          .execute();
      const channels = new ChannelRepository(t.store, app.secrets);
      const smtpConfig = { host: '127.0.0.1', port: smtp.port, security: 'none', from: 'dw@example.com' };
      const owners = await channels.add(
        'owners-mail',
        parseChannelConfig('email', { ...smtpConfig, to: ['nobody@example.com'] }),
      );
      const secops = await channels.add(
        'secops',
        parseChannelConfig('email', { ...smtpConfig, to: ['secops@example.com'] }),
      );
      const key = reviewLinkKey(dir);
      const campaign = await createCampaign(db, t.store.dialect, key, {
        integrationId: 'int-sim',
        name: 'outside shares',
        plan: await planForRule(db, 'int-sim', RULE, 'external'),
        expiresAt: new Date(started.getTime() + 30 * DAY),
        actor: 'test',
        now: started,
        settings: { escalateAfterDays: 7, delivery: { channel: owners.id }, escalationChannel: secops.id },
      });
      assert.ok(campaign.links.length >= 3, `several owners (${campaign.links.length})`);

      // The directory: the first owner has a manager (someone else), the second none.
      const userOf = async (address: string) =>
        db
          .selectFrom('users')
          .select(['id', 'manager_id', 'mail'])
          .where('integration_id', '=', 'int-sim')
          .where(sql`lower(mail)`, '=', address)
          .executeTakeFirstOrThrow();
      const [withManager, withoutManager, answering] = campaign.links;
      const boss = await db
        .selectFrom('users')
        .select(['id', 'mail'])
        .where('integration_id', '=', 'int-sim')
        .where('mail', 'is not', null)
        .where(
          sql`lower(mail)`,
          'not in',
          campaign.links.map((l) => l.owner),
        )
        .executeTakeFirstOrThrow();
      await db
        .updateTable('users')
        .set({ manager_id: boss.id })
        .where('id', '=', (await userOf(withManager.owner)).id)
        .execute();
      await db
        .updateTable('users')
        .set({ manager_id: null })
        .where('id', '=', (await userOf(withoutManager.owner)).id)
        .execute();
      const managerAddress = (boss.mail as string).toLowerCase();

      // The third owner answers everything before the period ends: never escalated.
      const page = await itemsForLink(db, key, answering.token, started);
      await decide(
        db,
        key,
        answering.token,
        page.items.map((i) => ({ itemId: i.id, decision: 'keep' as const })),
        started,
      );

      const round = async (at: Date) => {
        const sender = openReviewSender(app, async () => client);
        try {
          return await escalateDue(app, sender, at);
        } finally {
          await sender.close();
        }
      };
      assert.deepEqual(await round(new Date(started.getTime() + 6 * DAY)), {
        managers: 0,
        admins: 0,
        failed: 0,
      });
      assert.equal(smtp.mails.length, 0);

      const firstPeriod = new Date(started.getTime() + 7 * DAY + 60_000);
      const first = await round(firstPeriod);
      const others = campaign.links.length - 3;
      assert.ok(first.managers >= 1, 'the manager was asked');
      assert.equal(first.failed, 0);
      // Nothing more on a second round, nor with a fresh sender (as after a restart).
      assert.deepEqual(await round(firstPeriod), { managers: 0, admins: 0, failed: 0 });
      assert.deepEqual(await round(new Date(firstPeriod.getTime() + 3_600_000)), {
        managers: 0,
        admins: 0,
        failed: 0,
      });
      // (The manager may manage other owners of the campaign too: one mail per owner.)
      const toManager = smtp.mails.filter(
        (m) =>
          m.to.length === 1 &&
          m.to[0] === managerAddress &&
          mimeParts(m.raw)['text/plain'].includes(`${withManager.owner} has not answered`),
      );
      assert.equal(toManager.length, 1, 'one mail to the manager about that owner');
      const text = mimeParts(toManager[0].raw)['text/plain'];
      const url = /https:\/\/dw\.example\.test\/review\?t=[A-Za-z0-9_.%-]+/.exec(text)?.[0];
      assert.ok(url, 'with a review link');
      const managerToken = new URL(url).searchParams.get('t') as string;
      const toAdmins = smtp.mails.filter((m) => m.to[0] === 'secops@example.com');
      assert.ok(
        toAdmins.some((m) => mimeParts(m.raw)['text/plain'].includes(withoutManager.owner)),
        'the owner without a manager went straight to the admins',
      );
      assert.ok(
        !toAdmins.some((m) => mimeParts(m.raw)['text/plain'].includes(`${withManager.owner} left`)),
        'not yet the one whose manager was asked',
      );
      assert.equal(
        smtp.mails.filter((m) => m.to.includes(answering.owner)).length,
        0,
        'the owner who answered is left alone',
      );
      assert.ok(others >= 0);

      // The manager's link: exactly the owner's unanswered items, decided as the manager.
      const mine = await itemsForLink(db, key, managerToken, firstPeriod);
      assert.equal(mine.owner, withManager.owner);
      assert.equal(mine.reviewer, managerAddress);
      assert.equal(mine.items.length, withManager.items);
      const otherItem = await db
        .selectFrom('review_items')
        .select('id')
        .where('campaign_id', '=', campaign.campaignId)
        .where('owner_email', '=', withoutManager.owner)
        .executeTakeFirstOrThrow();
      await assert.rejects(
        decide(db, key, managerToken, [{ itemId: Number(otherItem.id), decision: 'revoke' }], firstPeriod),
        (e: Error) => e instanceof ReviewLinkError && /not yours/.test(e.message),
      );
      const [revokeItem, ...rest] = mine.items;
      const revoked = await db
        .selectFrom('review_items')
        .select('permission_id')
        .where('id', '=', revokeItem.id)
        .executeTakeFirstOrThrow();
      const truth = async () =>
        (await ts.admin.truthArray()).filter((r): r is PermTruth => r.kind === 'permission');
      assert.ok((await truth()).some((p) => p.id === revoked.permission_id));
      const answer = await answerReview(
        db,
        key,
        (_id, fn) => fn(simContext(t.store, ts.sim, client)),
        managerToken,
        [{ itemId: revokeItem.id, decision: 'revoke', justification: 'left the project' }],
        firstPeriod,
      );
      assert.equal(answer.revoked.length, 1);
      assert.ok(!(await truth()).some((p) => p.id === revoked.permission_id), 'gone from Graph');
      const trail = await db
        .selectFrom('remediation_actions')
        .select('actor')
        .where('permission_id', '=', revoked.permission_id)
        .execute();
      assert.deepEqual(trail, [{ actor: `review:${managerAddress}` }]);
      await assert.rejects(itemsForLink(db, key, managerToken, firstPeriod), /already used/);

      // Second period: the admins hear about what the manager left unanswered.
      const secondPeriod = new Date(started.getTime() + 14 * DAY + 60_000);
      const second = await round(secondPeriod);
      assert.equal(second.managers, 0);
      assert.ok(second.admins >= (rest.length > 0 ? 1 : 0));
      assert.equal(second.failed, 0);
      assert.deepEqual(await round(secondPeriod), { managers: 0, admins: 0, failed: 0 });

      const report = await campaignReport(db, campaign.campaignId);
      const step = (owner: string, s: string) =>
        report.notices.filter((n) => n.owner === owner && n.step === s);
      assert.equal(step(withManager.owner, 'manager').length, 1);
      assert.equal(step(withManager.owner, 'manager')[0].recipient, managerAddress);
      assert.equal(step(withManager.owner, 'manager')[0].status, 'sent');
      assert.equal(step(withManager.owner, 'manager')[0].via, 'email');
      assert.equal(step(withoutManager.owner, 'manager').length, 0);
      assert.equal(step(withoutManager.owner, 'admins').length, 1);
      assert.equal(step(withoutManager.owner, 'admins')[0].note, 'no manager in the directory');
      assert.equal(step(withoutManager.owner, 'admins')[0].via, 'channel:secops');
      assert.equal(step(answering.owner, 'manager').length + step(answering.owner, 'admins').length, 0);
      const byManager = report.rows.filter((r) => r.decidedBy === managerAddress);
      assert.equal(byManager.length, 1);
      assert.ok(report.escalated >= withManager.items + withoutManager.items);
      assert.equal(
        report.rows.filter((r) => r.owner === answering.owner && r.escalatedTo !== null).length,
        0,
      );
      // The last step taken for that owner: the admins once the manager left some unanswered.
      const last = rest.length > 0 ? 'admins' : 'manager';
      assert.match(
        reportCsv(report),
        new RegExp(`,revoke,[^,]+,${managerAddress.replace(/[.]/g, '\\.')},left the project,${last}\\n`),
      );
    });
  });
}
