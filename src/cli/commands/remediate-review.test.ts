import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { type RemediateCliTenant, remediateCliTenant } from '../../../test/support/remediate-cli-tenant.ts';
import { reviewLinkKey } from '../../app/review-key.ts';
import { reviewRoutes } from '../../server/reviews/routes.ts';
import { encodeValue } from '../../store/codec.ts';
import { openStore } from '../../store/store.ts';

/** `drivewarden remediate review|settings` and bad input against the simulator (a file of its own: the CLI tests of one file must end within the per-file limit). */
describe('drivewarden remediate review and settings', () => {
  let t: RemediateCliTenant;
  before(async () => {
    t = await remediateCliTenant();
  });
  after(() => t?.close());

  it('review: create prints one signed link per owner (the key kept in the data dir, 0600); the page accepts it; report and CSV', async () => {
    const store = await openStore({ dataDir: t.dir });
    try {
      const integration = await store.db.selectFrom('integrations').select('id').executeTakeFirstOrThrow();
      const perms = await store.db
        .selectFrom('permissions')
        .select(['id', 'drive_id', 'item_id'])
        .where('integration_id', '=', integration.id)
        .where('link_scope', 'is', null)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .limit(4)
        .execute();
      assert.ok(perms.length >= 2);
      for (const p of perms)
        await store.db
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
            reason: 'grant',
            details: encodeValue('json', {}, store.dialect),
            first_seen: '2026-01-01T00:00:00Z',
            last_seen: '2026-01-01T00:00:00Z',
          })
          .execute();
    } finally {
      await store.close();
    }
    const created = await t.dw([
      'remediate',
      'review',
      'create',
      'permission_guest_access_reviewed',
      '--base-url',
      'https://dw.example.test',
      '--expires',
      '2d',
    ]);
    assert.equal(created.status, 0, created.stderr);
    const campaignId = /^campaign (\d+): \d+ owner\(s\)/m.exec(created.stdout)?.[1];
    assert.ok(campaignId, created.stdout);
    const urls = [...created.stdout.matchAll(/(https:\/\/dw\.example\.test\/review\?t=\S+)/g)].map(
      (m) => m[1],
    );
    assert.ok(urls.length >= 1);
    assert.equal(statSync(join(t.dir, 'review-links.key')).mode & 0o777, 0o600);

    const reopened = await openStore({ dataDir: t.dir });
    const app = Fastify();
    try {
      await reviewRoutes(app, {
        db: reopened.db,
        key: reviewLinkKey(t.dir),
        decide: () => Promise.reject(new Error('not needed to show the page')),
      });
      const page = await app.inject({
        method: 'GET',
        url: new URL(urls[0]).pathname + new URL(urls[0]).search,
      });
      assert.equal(page.statusCode, 200, page.body);
    } finally {
      await app.close();
      await reopened.close();
    }
    const report = await t.dw(['remediate', 'review', 'report', campaignId]);
    assert.match(report.stdout, /0 answered \(0 kept, 0 revoked\), \d+ unanswered/);
    const csv = await t.dw(['remediate', 'review', 'report', campaignId, '--csv']);
    assert.match(
      csv.stdout,
      /^owner,item_path,permission_id,decision,decided_at,decided_by,justification,escalated_to\n/,
    );
    const added = await t.dw([
      'remediate',
      'review',
      'schedule',
      'add',
      'quarterly outside',
      '--rule',
      'permission_guest_access_reviewed',
      '--every',
      'quarterly',
      '--start',
      '2031-01-01T00:00:00Z',
    ]);
    assert.match(
      added.stdout,
      /scheduled "quarterly outside" \(\d+\): quarterly, next run 2031-01-01T00:00:00\.000Z/,
    );
    const listed = await t.dw(['remediate', 'review', 'schedule', 'list']);
    assert.match(
      listed.stdout,
      /quarterly outside\trule permission_guest_access_reviewed\tquarterly\tnext 2031-01-01/,
    );
    const removed = await t.dw(['remediate', 'review', 'schedule', 'remove', 'quarterly outside']);
    assert.match(removed.stdout, /removed "quarterly outside"/);
    assert.match((await t.dw(['remediate', 'review', 'schedule', 'list'])).stdout, /no scheduled campaigns/);
    const bad = await t.dw(['remediate', 'review', 'create', 'x', '--expires', 'later']);
    assert.match(bad.stderr, /--expires "later": expected a duration/);
  });

  it('refuses bad input with a message naming it', async () => {
    for (const [args, message] of [
      [['remediate', 'finding', 'abc'], /finding id must be a positive integer/],
      [['remediate', 'item', 'x', '--scope', 'everyone'], /--scope must be public .* or external/],
      [['remediate', 'permission', 'no-such-permission'], /no live permission "no-such-permission"/],
      [['remediate', 'settings', '--set', 'sharingCapability'], /expected name=value/],
      [['remediate', 'settings', '--set', 'isLoopEnabled=maybe'], /isLoopEnabled: expected true or false/],
      [
        ['remediate', 'settings', '--set', 'noSuchThing=1'],
        /unknown sharepointSettings property "noSuchThing"/,
      ],
    ] as const) {
      const r = await t.dw([...args]);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  it('settings: dry run shows before → after from Graph, --yes patches and reports Graph’s answer', async () => {
    const before = (await t.ts.get('/admin/sharepoint/settings')).body.sharingCapability;
    assert.notEqual(before, 'existingExternalUserSharingOnly');
    const dry = await t.dw([
      'remediate',
      'settings',
      '--set',
      'sharingCapability=existingExternalUserSharingOnly',
    ]);
    assert.equal(dry.status, 0, dry.stderr);
    assert.ok(
      dry.stdout.includes(`sharingCapability: "${before}" → "existingExternalUserSharingOnly"`),
      dry.stdout,
    );
    assert.equal((await t.ts.get('/admin/sharepoint/settings')).body.sharingCapability, before, 'dry run');
    const planId = /^plan ([0-9a-f]{12})/m.exec(dry.stdout)?.[1];
    const run = await t.dw([
      'remediate',
      'settings',
      '--set',
      'sharingCapability=existingExternalUserSharingOnly',
      '--yes',
      '--plan',
      planId ?? '',
    ]);
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /^done \(request-id /m);
    assert.equal(
      (await t.ts.get('/admin/sharepoint/settings')).body.sharingCapability,
      'existingExternalUserSharingOnly',
    );
  });
});
