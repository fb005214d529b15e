import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SimAdminClient } from '../sim/admin-client.ts';
import { simCredentials } from '../sim/connection.ts';
import { startSimulator } from '../sim/index.ts';
import { openApp } from '../src/app/context.ts';
import { syncDrive } from '../src/collect/drive-sync.ts';
import { evaluateIntegration } from '../src/rules/evaluate.ts';
import { loadBuiltinRules } from '../src/rules/loader.ts';
import { startService } from '../src/server/service.ts';
import { freePort } from './support/ports.ts';
import { eventsOf, findingsByKey, type SyncedStore, syncedStore } from './support/rules.ts';
import { startTestSim, type TestSim } from './support/simulator.ts';
import { testDialects } from './support/store.ts';
import { waitFor } from './support/wait.ts';

/**
 * Issue 9's acceptance for sharing: after a full sync and a full evaluation, a file shared
 * with an Anyone link in the simulator becomes a finding after one delta run and ONE
 * incremental evaluation; unshared, it resolves in one incremental evaluation; shared
 * again, the same finding reopens with a new event. With the built-in rules:
 * - item_sensitive_file_not_shared (a key file, keyed by its item): opened → resolved →
 *   reopened, one finding;
 * - permission_anonymous_link_absent (keyed by the sharing root, not the link: Graph, and the
 *   simulator, give the link made by sharing again a new permission id): opened → resolved →
 *   reopened, one finding.
 */

const ITEM_RULE = 'item_sensitive_file_not_shared';
const LINK_RULE = 'permission_anonymous_link_absent';

for (const dialect of testDialects()) {
  describe(`an Anyone link, shared, unshared and shared again (${dialect})`, () => {
    let env: TestSim;
    let s: SyncedStore;
    const rules = loadBuiltinRules();
    const evaluate = (mode: 'full' | 'incremental') =>
      evaluateIntegration(s.store, { integrationId: s.integrationId, mode, rules });

    before(async () => {
      env = await startTestSim({ seed: 21, users: 6, items: 200 });
      s = await syncedStore(dialect, env, { register: true });
    });
    after(async () => {
      await s?.cleanup();
      await env?.close();
    });

    test('one incremental evaluation after each delta run opens, resolves and reopens the finding', async () => {
      assert.ok(
        rules.some((r) => r.id === ITEM_RULE) && rules.some((r) => r.id === LINK_RULE),
        'the built-in rules are there',
      );
      const drive = (await env.admin.drives()).find((d) => d.itemCount > 1);
      assert.ok(drive);
      const root = (await env.admin.items(drive.id)).find((i) => i.parentId === null);
      assert.ok(root);
      const { itemId } = await env.admin.mutate<{ itemId: string }>({
        op: 'createItem',
        driveId: drive.id,
        parentId: root.id,
        name: 'deploy-key.pem',
        size: 1700,
      });
      await syncDrive(s.ctx, drive.id);
      const full = await evaluate('full');
      assert.deepEqual(full.failedRules, []);
      const itemKey = `${drive.id}/${itemId}`;
      assert.equal(
        (await findingsByKey(s.db, s.integrationId, ITEM_RULE)).get(itemKey),
        undefined,
        'private: no finding',
      );

      // Shared with Anyone.
      const first = await env.admin.mutate<{ permissionId: string }>({
        op: 'share',
        driveId: drive.id,
        itemId,
        kind: 'anonymous',
      });
      await syncDrive(s.ctx, drive.id);
      const opened = await evaluate('incremental');
      assert.equal(opened.mode, 'incremental');
      const item = (await findingsByKey(s.db, s.integrationId, ITEM_RULE)).get(itemKey);
      assert.equal(item?.status, 'open');
      assert.deepEqual(await eventsOf(s.db, item.id), ['opened']);
      const link = (await findingsByKey(s.db, s.integrationId, LINK_RULE)).get(itemKey);
      assert.equal(link?.status, 'open');
      assert.deepEqual(await eventsOf(s.db, link.id), ['opened']);

      // Unshared.
      await env.admin.mutate({ op: 'unshare', driveId: drive.id, itemId });
      await syncDrive(s.ctx, drive.id);
      await evaluate('incremental');
      const resolvedItem = (await findingsByKey(s.db, s.integrationId, ITEM_RULE)).get(itemKey);
      assert.equal(resolvedItem?.status, 'resolved');
      assert.equal(resolvedItem.id, item.id);
      assert.deepEqual(await eventsOf(s.db, item.id), ['opened', 'resolved']);
      const resolvedLink = (await findingsByKey(s.db, s.integrationId, LINK_RULE)).get(itemKey);
      assert.equal(resolvedLink?.status, 'resolved');
      assert.equal(resolvedLink.id, link.id);
      assert.deepEqual(await eventsOf(s.db, link.id), ['opened', 'resolved']);

      // Shared again: the same item finding reopens.
      const second = await env.admin.mutate<{ permissionId: string }>({
        op: 'share',
        driveId: drive.id,
        itemId,
        kind: 'anonymous',
      });
      await syncDrive(s.ctx, drive.id);
      const reopened = await evaluate('incremental');
      assert.ok(reopened.findings.reopened >= 1);
      const again = (await findingsByKey(s.db, s.integrationId, ITEM_RULE)).get(itemKey);
      assert.equal(again?.id, item.id, 'the same finding');
      assert.equal(again?.status, 'open');
      assert.deepEqual(await eventsOf(s.db, item.id), ['opened', 'resolved', 'reopened']);
      // A new link (a new permission id), the same item: the link finding reopens too.
      assert.notEqual(second.permissionId, first.permissionId);
      const links = await findingsByKey(s.db, s.integrationId, LINK_RULE);
      const linkAgain = links.get(itemKey);
      assert.equal(linkAgain?.id, link.id, 'the same link finding');
      assert.equal(linkAgain?.status, 'open');
      assert.deepEqual(await eventsOf(s.db, link.id), ['opened', 'resolved', 'reopened']);
      assert.equal(
        [...links.keys()].filter((k) => k.startsWith(itemKey)).length,
        1,
        'one finding for the item, none per link',
      );

      // A full evaluation agrees with what the incremental ones left.
      const check = await evaluate('full');
      assert.deepEqual(check.findings, { opened: 0, reopened: 0, resolved: 0, suppressed: 0, changed: 0 });
    });
  });
}

describe('the service evaluates rules on its own', () => {
  test('a file shared with Anyone in the tenant becomes a finding through webhook → delta → incremental evaluation; unshared, it resolves', async () => {
    const sim = await startSimulator({ seed: 4, users: 5, items: 150, allowHttpNotifications: true });
    const admin = new SimAdminClient(sim);
    const port = await freePort();
    const app = await openApp({
      dataDir: mkdtempSync(join(tmpdir(), 'dw-rules-svc-')),
      logLevel: 'silent',
      'server.port': port,
      'server.publicUrl': `http://127.0.0.1:${port}`,
      'sync.debounceMs': 50,
      'rules.debounceMs': 50,
    });
    const integration = await app.integrations.create({
      name: 'svc',
      ...simCredentials(sim),
      verifiedDomains: sim.verifiedDomains,
    });
    const service = await startService(app, { listen: { host: '127.0.0.1', port } });
    try {
      await service.ready;
      await service.jobs.queue.idle();
      const full = await app.store.db
        .selectFrom('rule_evaluations')
        .select('mode')
        .where('integration_id', '=', integration.id)
        .execute();
      assert.deepEqual(
        full.map((r) => r.mode),
        ['full'],
        'a full evaluation after the start-up collection',
      );
      await service.realtime.firstSync;
      const drive = (await admin.drives()).find((d) => d.itemCount > 1);
      assert.ok(drive);
      const root = (await admin.items(drive.id)).find((i) => i.parentId === null);
      assert.ok(root);
      const { itemId } = await admin.mutate<{ itemId: string }>({
        op: 'createItem',
        driveId: drive.id,
        parentId: root.id,
        name: 'id_rsa',
        size: 2000,
      });
      await admin.mutate({ op: 'share', driveId: drive.id, itemId, kind: 'anonymous' });
      const key = `${drive.id}/${itemId}`;
      const status = async () =>
        (
          await app.store.db
            .selectFrom('findings')
            .select('status')
            .where('integration_id', '=', integration.id)
            .where('rule_id', '=', 'item_sensitive_file_not_shared')
            .where('resource_key', '=', key)
            .executeTakeFirst()
        )?.status;
      await waitFor('the finding to open', async () => (await status()) === 'open', { timeoutMs: 20_000 });
      await admin.mutate({ op: 'unshare', driveId: drive.id, itemId });
      await waitFor('the finding to resolve', async () => (await status()) === 'resolved', {
        timeoutMs: 20_000,
      });
      const modes = await app.store.db
        .selectFrom('rule_evaluations')
        .select('mode')
        .where('integration_id', '=', integration.id)
        .execute();
      assert.ok(modes.filter((m) => m.mode === 'incremental').length >= 2);
    } finally {
      await service.close();
      await app.close();
      await admin.close();
      await sim.close();
    }
  });
});
