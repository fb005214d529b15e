import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { simCredentials } from '../../../sim/connection.ts';
import type { TruthRecord } from '../../../sim/contracts.ts';
import { freePort } from '../../../test/support/ports.ts';
import { startTestSim } from '../../../test/support/simulator.ts';
import { openApp } from '../../app/context.ts';
import { reviewLinkKey } from '../../app/review-key.ts';
import { createCampaign } from '../../remediate/reviews.ts';
import { planForRule } from '../../remediate/targets.ts';
import { encodeValue } from '../../store/codec.ts';
import { startService } from '../service.ts';

type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;

/**
 * `serve`'s review page: served by the HTTP server thread (its SQLite store opened read-only),
 * the key read from the data directory there, the owner's decisions relayed to the main thread
 * as a command, the revoked grant removed from the simulator.
 */
describe('review page on serve', () => {
  test('an owner opens the link on the running server and revokes a grant', async () => {
    const ts = await startTestSim({ users: 8, items: 300, sharedRatio: 0.1, deltaRepeatRate: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'dw-review-serve-'));
    const port = await freePort();
    const app = await openApp({ dataDir: dir, logLevel: 'silent', 'server.port': port });
    const integration = await app.integrations.create({
      name: 'svc',
      ...simCredentials(ts.sim),
      verifiedDomains: ts.sim.verifiedDomains,
    });
    const service = await startService(app, {
      listen: { host: '127.0.0.1', port },
      rules: false,
      alerts: false,
    });
    try {
      await service.ready;
      const perms = await app.store.db
        .selectFrom('permissions')
        .select(['id', 'drive_id', 'item_id'])
        .where('integration_id', '=', integration.id)
        .where(sql<boolean>`is_external = true`)
        .where('deleted_at', 'is', null)
        .execute();
      const now = new Date().toISOString();
      for (const p of new Map(perms.map((p) => [p.id, p])).values())
        await app.store.db
          .insertInto('findings')
          .values({
            integration_id: integration.id,
            rule_id: 'permission_guest_access_reviewed',
            resource_type: 'permission',
            resource_key: `${p.drive_id}/${p.item_id}/${p.id}`,
            resource_id: p.id,
            drive_id: p.drive_id,
            item_id: p.item_id,
            status: 'open',
            result: 'alarm',
            severity: 'medium',
            reason: 'outside share',
            details: encodeValue('json', {}, app.store.dialect),
            first_seen: now,
            last_seen: now,
          })
          .execute();
      const campaign = await createCampaign(app.store.db, app.store.dialect, reviewLinkKey(dir), {
        integrationId: integration.id,
        name: 'serve',
        plan: await planForRule(app.store.db, integration.id, 'permission_guest_access_reviewed', 'external'),
        expiresAt: new Date(Date.now() + 86_400_000),
        actor: 'test',
        now: new Date(),
      });
      const link = campaign.links.find((l) => l.items >= 2);
      assert.ok(link, 'an owner with two grants or more');
      const url = `${service.realtime.url}/review?t=${link.token}`;

      const page = await fetch(url);
      const html = await page.text();
      assert.equal(page.status, 200, html);
      const ids = [...html.matchAll(/name="d_(\d+)" value="keep"/g)].map((m) => m[1]);
      assert.equal(ids.length, link.items);
      const [revoked] = await app.store.db
        .selectFrom('review_items')
        .select('permission_id')
        .where('id', '=', Number(ids[0]))
        .execute();
      const truth = async () =>
        (await ts.admin.truthArray()).filter((r): r is PermTruth => r.kind === 'permission');
      assert.ok((await truth()).some((p) => p.id === revoked.permission_id));

      const form = new URLSearchParams({ [`d_${ids[0]}`]: 'revoke', [`d_${ids[1]}`]: 'keep' });
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      const answered = await answer.text();
      assert.equal(answer.status, 200, answered);
      assert.match(answered, /Kept 1, revoked 1/);
      assert.ok(!(await truth()).some((p) => p.id === revoked.permission_id), 'gone from the simulator');
      const trail = await app.store.db
        .selectFrom('remediation_actions')
        .select(['actor', 'result'])
        .where('permission_id', '=', revoked.permission_id)
        .execute();
      assert.deepEqual(trail, [{ actor: `review:${link.owner}`, result: 'done' }]);

      const replay = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      });
      assert.equal(replay.status, 403);
      assert.match(await replay.text(), /already used/);
    } finally {
      await service.close();
      await app.close();
      await ts.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
