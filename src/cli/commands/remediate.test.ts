import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import type { TruthRecord } from '../../../sim/contracts.ts';
import { runCli } from '../../../test/support/cli.ts';
import { startTestSim, type TestSim } from '../../../test/support/simulator.ts';
import { reviewLinkKey } from '../../app/review-key.ts';
import { reviewRoutes } from '../../server/reviews/routes.ts';
import { encodeValue } from '../../store/codec.ts';
import { openStore } from '../../store/store.ts';

const _bin = fileURLToPath(new URL('../../../bin/drivewarden.js', import.meta.url));

/** The real command in a child process (async: the simulator lives in this process). */
function dw(dataDir: string, args: string[]) {
  return runCli(dataDir, args, { DW_DATABASE_URL: '', DW_CONFIG: '' });
}

type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;

/** `drivewarden remediate finding|rule|log` against the simulator: dry run, --plan guard, --yes, trail. */
describe('drivewarden remediate', () => {
  let ts: TestSim;
  let dir: string;
  let link: PermTruth;
  let findingId: number;
  const anyoneLinks = async () =>
    (await ts.admin.truthArray()).filter(
      (r): r is PermTruth => r.kind === 'permission' && r.linkScope === 'anonymous',
    );

  before(async () => {
    ts = await startTestSim({ users: 8, items: 300, anonymousRatio: 0.05 });
    dir = mkdtempSync(join(tmpdir(), 'dw-remediate-cli-'));
    const simInfo = join(dir, 'sim.json');
    const { close: _close, ...info } = ts.sim;
    writeFileSync(simInfo, JSON.stringify(info));
    const add = await dw(dir, ['integrations', 'add', '--name', 'acme', '--sim-info', simInfo]);
    assert.equal(add.status, 0, add.stderr);
    const sync = await dw(dir, ['sync', '--once']);
    assert.equal(sync.status, 0, sync.stderr);
    [link] = await anyoneLinks();
    // The open alarm the rules engine would have written for this link.
    const store = await openStore({ dataDir: dir });
    try {
      const integration = await store.db.selectFrom('integrations').select('id').executeTakeFirstOrThrow();
      const row = await store.db
        .insertInto('findings')
        .values({
          integration_id: integration.id,
          rule_id: 'permission_anonymous_link_absent',
          resource_type: 'permission',
          resource_key: `${link.driveId}/${link.itemId}/${link.id}`,
          resource_id: link.id,
          drive_id: link.driveId,
          item_id: link.itemId,
          status: 'open',
          result: 'alarm',
          severity: 'high',
          reason: 'Anyone link',
          details: encodeValue('json', {}, store.dialect),
          first_seen: '2026-01-01T00:00:00Z',
          last_seen: '2026-01-01T00:00:00Z',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      findingId = Number(row.id);
    } finally {
      await store.close();
    }
  });
  after(async () => {
    await ts.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('dry run lists the removal and changes nothing; a stale --plan is refused; --yes --plan removes it; the log shows it', async () => {
    const dry = await dw(dir, ['remediate', 'finding', String(findingId)]);
    assert.equal(dry.status, 0, dry.stderr);
    const planId = /^plan ([0-9a-f]{12}): 1 removal\(s\) for finding/m.exec(dry.stdout)?.[1];
    assert.ok(planId, dry.stdout);
    assert.match(dry.stdout, new RegExp(`remove anonymous (view|edit) link on .*\\[${link.id}\\]`));
    assert.match(dry.stdout, /dry run: nothing changed/);
    assert.ok(
      (await anyoneLinks()).some((p) => p.id === link.id),
      'the dry run removed nothing',
    );

    const rule = await dw(dir, ['remediate', 'rule', 'permission_anonymous_link_absent', '--json']);
    assert.equal(rule.status, 0, rule.stderr);
    assert.deepEqual(
      JSON.parse(rule.stdout).plan.steps.map((s: { permissionId: string }) => s.permissionId),
      [link.id],
    );

    const stale = await dw(dir, [
      'remediate',
      'finding',
      String(findingId),
      '--yes',
      '--plan',
      '000000000000',
    ]);
    assert.notEqual(stale.status, 0);
    assert.match(stale.stderr, /the plan is now [0-9a-f]{12}, not 000000000000/);
    assert.ok((await anyoneLinks()).some((p) => p.id === link.id));

    const run = await dw(dir, ['remediate', 'finding', String(findingId), '--yes', '--plan', planId]);
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /1 removed, 0 already gone, 0 skipped, 0 failed/);
    assert.ok(!(await anyoneLinks()).some((p) => p.id === link.id), 'gone from the ground truth');

    const log = await dw(dir, ['remediate', 'log', '--json']);
    assert.equal(log.status, 0, log.stderr);
    const [entry] = JSON.parse(log.stdout);
    assert.equal(entry.permission_id, link.id);
    assert.equal(entry.result, 'done');
    assert.equal(entry.origin, `finding ${findingId}`);
    assert.match(entry.actor, /^cli/);
    assert.ok(entry.request_id);

    const again = await dw(dir, ['remediate', 'finding', String(findingId)]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /0 removal\(s\)/);
    assert.match(again.stdout, /no longer live/, 'the re-read inventory no longer has the permission');
  });

  it('auto: off until a rule is allowed; list, cap and a dry-run round', async () => {
    const off = await dw(dir, ['remediate', 'auto', 'list']);
    assert.equal(off.status, 0, off.stderr);
    assert.match(off.stdout, /no rule is allowed: auto-remediation is off/);
    const allow = await dw(dir, [
      'remediate',
      'auto',
      'allow',
      'permission_anonymous_link_absent',
      '--grace',
      '0',
    ]);
    assert.equal(allow.status, 0, allow.stderr);
    assert.equal((await dw(dir, ['remediate', 'auto', 'cap', '3'])).status, 0);
    const list = JSON.parse((await dw(dir, ['remediate', 'auto', 'list', '--json'])).stdout);
    assert.deepEqual(
      list.rules.map((r: { ruleId: string; graceSeconds: number }) => [r.ruleId, r.graceSeconds]),
      [['permission_anonymous_link_absent', 0]],
    );
    assert.equal(list.cap, 3);
    const dry = await dw(dir, ['remediate', 'auto', 'run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: \d+ removal\(s\) due, 0 deferred by the cap \(\d+\/3 used today\)/);
    const bad = await dw(dir, ['remediate', 'auto', 'allow', 'x', '--grace', 'soon']);
    assert.match(bad.stderr, /grace period "soon": expected a duration/);
    assert.equal(
      (await dw(dir, ['remediate', 'auto', 'disallow', 'permission_anonymous_link_absent'])).status,
      0,
    );
  });

  it('review: create prints one signed link per owner (the key kept in the data dir, 0600); the page accepts it; report and CSV', async () => {
    const store = await openStore({ dataDir: dir });
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
    const created = await dw(dir, [
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
    assert.equal(statSync(join(dir, 'review-links.key')).mode & 0o777, 0o600);

    const reopened = await openStore({ dataDir: dir });
    const app = Fastify();
    try {
      await reviewRoutes(app, {
        db: reopened.db,
        key: reviewLinkKey(dir),
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
    const report = await dw(dir, ['remediate', 'review', 'report', campaignId]);
    assert.match(report.stdout, /0 answered \(0 kept, 0 revoked\), \d+ unanswered/);
    const csv = await dw(dir, ['remediate', 'review', 'report', campaignId, '--csv']);
    assert.match(
      csv.stdout,
      /^owner,item_path,permission_id,decision,decided_at,decided_by,justification,escalated_to\n/,
    );
    const added = await dw(dir, [
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
    const listed = await dw(dir, ['remediate', 'review', 'schedule', 'list']);
    assert.match(
      listed.stdout,
      /quarterly outside\trule permission_guest_access_reviewed\tquarterly\tnext 2031-01-01/,
    );
    const removed = await dw(dir, ['remediate', 'review', 'schedule', 'remove', 'quarterly outside']);
    assert.match(removed.stdout, /removed "quarterly outside"/);
    assert.match(
      (await dw(dir, ['remediate', 'review', 'schedule', 'list'])).stdout,
      /no scheduled campaigns/,
    );
    const bad = await dw(dir, ['remediate', 'review', 'create', 'x', '--expires', 'later']);
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
      const r = await dw(dir, [...args]);
      assert.notEqual(r.status, 0, args.join(' '));
      assert.match(r.stderr, message, args.join(' '));
    }
  });

  it('settings: dry run shows before → after from Graph, --yes patches and reports Graph’s answer', async () => {
    const before = (await ts.get('/admin/sharepoint/settings')).body.sharingCapability;
    assert.notEqual(before, 'existingExternalUserSharingOnly');
    const dry = await dw(dir, [
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
    assert.equal((await ts.get('/admin/sharepoint/settings')).body.sharingCapability, before, 'dry run');
    const planId = /^plan ([0-9a-f]{12})/m.exec(dry.stdout)?.[1];
    const run = await dw(dir, [
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
      (await ts.get('/admin/sharepoint/settings')).body.sharingCapability,
      'existingExternalUserSharingOnly',
    );
  });
});
