import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RemediateCliTenant, remediateCliTenant } from '../../../test/support/remediate-cli-tenant.ts';

/** `drivewarden remediate finding|rule|log|auto` against the simulator: dry run, --plan guard, --yes, trail, auto settings. */
describe('drivewarden remediate', () => {
  let t: RemediateCliTenant;
  before(async () => {
    t = await remediateCliTenant();
  });
  after(() => t?.close());

  it('dry run lists the removal and changes nothing; a stale --plan is refused; --yes --plan removes it; the log shows it', async () => {
    const dry = await t.dw(['remediate', 'finding', String(t.findingId)]);
    assert.equal(dry.status, 0, dry.stderr);
    const planId = /^plan ([0-9a-f]{12}): 1 removal\(s\) for finding/m.exec(dry.stdout)?.[1];
    assert.ok(planId, dry.stdout);
    assert.match(dry.stdout, new RegExp(`remove anonymous (view|edit) link on .*\\[${t.link.id}\\]`));
    assert.match(dry.stdout, /dry run: nothing changed/);
    assert.ok(
      (await t.anyoneLinks()).some((p) => p.id === t.link.id),
      'the dry run removed nothing',
    );

    const rule = await t.dw(['remediate', 'rule', 'permission_anonymous_link_absent', '--json']);
    assert.equal(rule.status, 0, rule.stderr);
    assert.deepEqual(
      JSON.parse(rule.stdout).plan.steps.map((s: { permissionId: string }) => s.permissionId),
      [t.link.id],
    );

    const stale = await t.dw([
      'remediate',
      'finding',
      String(t.findingId),
      '--yes',
      '--plan',
      '000000000000',
    ]);
    assert.notEqual(stale.status, 0);
    assert.match(stale.stderr, /the plan is now [0-9a-f]{12}, not 000000000000/);
    assert.ok((await t.anyoneLinks()).some((p) => p.id === t.link.id));

    const run = await t.dw(['remediate', 'finding', String(t.findingId), '--yes', '--plan', planId]);
    assert.equal(run.status, 0, run.stderr + run.stdout);
    assert.match(run.stdout, /1 removed, 0 already gone, 0 skipped, 0 failed/);
    assert.ok(!(await t.anyoneLinks()).some((p) => p.id === t.link.id), 'gone from the ground truth');

    const log = await t.dw(['remediate', 'log', '--json']);
    assert.equal(log.status, 0, log.stderr);
    const [entry] = JSON.parse(log.stdout);
    assert.equal(entry.permission_id, t.link.id);
    assert.equal(entry.result, 'done');
    assert.equal(entry.origin, `finding ${t.findingId}`);
    assert.match(entry.actor, /^cli/);
    assert.ok(entry.request_id);

    const again = await t.dw(['remediate', 'finding', String(t.findingId)]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /0 removal\(s\)/);
    assert.match(again.stdout, /no longer live/, 'the re-read inventory no longer has the permission');
  });

  it('auto: off until a rule is allowed; list, cap and a dry-run round', async () => {
    const off = await t.dw(['remediate', 'auto', 'list']);
    assert.equal(off.status, 0, off.stderr);
    assert.match(off.stdout, /no rule is allowed: auto-remediation is off/);
    const allow = await t.dw([
      'remediate',
      'auto',
      'allow',
      'permission_anonymous_link_absent',
      '--grace',
      '0',
    ]);
    assert.equal(allow.status, 0, allow.stderr);
    assert.equal((await t.dw(['remediate', 'auto', 'cap', '3'])).status, 0);
    const list = JSON.parse((await t.dw(['remediate', 'auto', 'list', '--json'])).stdout);
    assert.deepEqual(
      list.rules.map((r: { ruleId: string; graceSeconds: number }) => [r.ruleId, r.graceSeconds]),
      [['permission_anonymous_link_absent', 0]],
    );
    assert.equal(list.cap, 3);
    const dry = await t.dw(['remediate', 'auto', 'run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: \d+ removal\(s\) due, 0 deferred by the cap \(\d+\/3 used today\)/);
    const bad = await t.dw(['remediate', 'auto', 'allow', 'x', '--grace', 'soon']);
    assert.match(bad.stderr, /grace period "soon": expected a duration/);
    assert.equal(
      (await t.dw(['remediate', 'auto', 'disallow', 'permission_anonymous_link_absent'])).status,
      0,
    );
  });
});
