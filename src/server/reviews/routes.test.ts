import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { simClient, simContext } from '../../../test/support/collector.ts';
import { startTestSim, type TestSim } from '../../../test/support/simulator.ts';
import { openTestStore, type TestStore, testDialects } from '../../../test/support/store.ts';
import { answerReview } from '../../app/remediate.ts';
import { syncIntegration } from '../../collect/sync.ts';
import { createCampaign } from '../../remediate/reviews.ts';
import { planForRule } from '../../remediate/targets.ts';
import { encodeValue } from '../../store/codec.ts';
import { reviewRoutes } from './routes.ts';

/** The owner's review page against the simulator: the form's revocations leave Graph; bad links get 403. */
for (const dialect of testDialects()) {
  describe(`review page (${dialect})`, () => {
    let ts: TestSim;
    let t: TestStore;
    let client: ReturnType<typeof simClient>;
    let app: FastifyInstance;
    const key = randomBytes(32);
    before(async () => {
      ts = await startTestSim({ users: 10, items: 500, sharedRatio: 0.1, deltaRepeatRate: 0 });
      t = await openTestStore(dialect);
      client = simClient(ts.sim);
      await syncIntegration(simContext(t.store, ts.sim, client), { mode: 'full' });
      app = Fastify();
      await reviewRoutes(app, {
        db: t.db,
        key,
        decide: (token, decisions) =>
          answerReview(
            t.db,
            key,
            (_id, fn) => fn(simContext(t.store, ts.sim, client)),
            token,
            decisions,
            new Date(),
          ),
      });
    });
    after(async () => {
      await app.close();
      await client.close();
      await t.cleanup();
      await ts.close();
    });

    test('an owner opens the link, keeps one grant, revokes the others; the link then stops working', async () => {
      const perms = await t.db
        .selectFrom('permissions')
        .select(['id', 'drive_id', 'item_id'])
        .where('integration_id', '=', 'int-sim')
        .where(sql<boolean>`is_external = true`)
        .where('deleted_at', 'is', null)
        .execute();
      const now = new Date().toISOString();
      for (const p of new Map(perms.map((p) => [p.id, p])).values())
        await t.db
          .insertInto('findings')
          .values({
            integration_id: 'int-sim',
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
            details: encodeValue('json', {}, t.store.dialect),
            first_seen: now,
            last_seen: now,
          })
          .execute();
      const campaign = await createCampaign(t.db, t.store.dialect, key, {
        integrationId: 'int-sim',
        name: 'q1',
        plan: await planForRule(t.db, 'int-sim', 'permission_guest_access_reviewed', 'external'),
        expiresAt: new Date(Date.now() + 86_400_000),
        actor: 'test',
        now: new Date(),
      });
      const link = campaign.links.find((l) => l.items >= 2);
      assert.ok(link, 'an owner with two grants or more');
      const page = await app.inject({ method: 'GET', url: `/review?t=${link.token}` });
      assert.equal(page.statusCode, 200);
      assert.equal(page.headers['referrer-policy'], 'no-referrer');
      assert.equal(page.headers['cache-control'], 'no-store');
      const ids = [...page.body.matchAll(/name="d_(\d+)" value="keep"/g)].map((m) => m[1]);
      assert.equal(ids.length, link.items);
      assert.ok(!/<script/i.test(page.body));

      const truthBefore = (await ts.admin.truthArray()).filter((r) => r.kind === 'permission').length;
      const form = new URLSearchParams();
      form.set(`d_${ids[0]}`, 'keep');
      form.set(`j_${ids[0]}`, 'needed <for> audit');
      for (const id of ids.slice(1)) form.set(`d_${id}`, 'revoke');
      const answer = await app.inject({
        method: 'POST',
        url: `/review?t=${link.token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: form.toString(),
      });
      assert.equal(answer.statusCode, 200, answer.body);
      assert.match(answer.body, new RegExp(`Kept 1, revoked ${ids.length - 1}`));
      const truthAfter = (await ts.admin.truthArray()).filter((r) => r.kind === 'permission').length;
      assert.ok(truthAfter < truthBefore, 'revoked grants are gone from the ground truth');
      const [kept] = await t.db
        .selectFrom('review_items')
        .select('justification')
        .where('id', '=', Number(ids[0]))
        .execute();
      assert.equal(kept.justification, 'needed <for> audit');

      const replay = await app.inject({ method: 'GET', url: `/review?t=${link.token}` });
      assert.equal(replay.statusCode, 403);
      assert.match(replay.body, /already used/);
      const forged = await app.inject({ method: 'GET', url: `/review?t=${link.token.slice(0, -4)}AAAA` });
      assert.equal(forged.statusCode, 403);
      const other = campaign.links.find((l) => l.owner !== link.owner);
      assert.ok(other);
      const foreign = await app.inject({
        method: 'POST',
        url: `/review?t=${other.token}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `d_${ids[1]}=keep`,
      });
      assert.equal(foreign.statusCode, 403);
      assert.match(foreign.body, /not yours to decide/);
    });
  });
}
