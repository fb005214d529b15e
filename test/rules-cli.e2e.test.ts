import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SimHandle } from '../sim/contracts.ts';
import { startSimulator } from '../sim/index.ts';
import { runCli } from './support/cli.ts';
import { FIXTURE_RULES_DIR } from './support/rules.ts';

const _bin = fileURLToPath(new URL('../bin/drivewarden.js', import.meta.url));

/** The real `drivewarden rules …` and `findings …` commands against a synced simulator tenant. */
function dw(dataDir: string, args: string[]) {
  return runCli(dataDir, args, { USER: 'tester' });
}

async function ok(dataDir: string, args: string[]): Promise<string> {
  const r = await dw(dataDir, args);
  assert.equal(r.status, 0, `drivewarden ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('drivewarden rules and findings', () => {
  let sim: SimHandle;
  let dataDir: string;

  before(async () => {
    sim = await startSimulator({ seed: 5, users: 8, items: 300 });
    dataDir = mkdtempSync(join(tmpdir(), 'dw-rules-cli-'));
    const simInfo = join(dataDir, 'sim.json');
    const { close: _close, ...info } = sim;
    writeFileSync(simInfo, JSON.stringify(info));
    await ok(dataDir, ['integrations', 'add', '--name', 'acme', '--sim-info', simInfo]);
    await ok(dataDir, ['sync', '--once']);
  });
  after(() => sim.close());

  it('lists and shows rules, runs them, lists findings as table, JSON and CSV', async () => {
    const list = await ok(dataDir, ['rules', 'list', '--integration', 'acme']);
    assert.match(list, /permission_anonymous_link_absent\s+high\s+drive_item\s+builtin\s+true/);
    const show = await ok(dataDir, [
      'rules',
      'show',
      'permission_anonymous_link_expires',
      '--integration',
      'acme',
    ]);
    assert.match(show, /max_days \(integer\) = 30/);
    const run = await ok(dataDir, ['rules', 'run']);
    assert.match(
      run,
      /acme: full evaluation in \d+ ms: \d+ rules run; \d+ ok, \d+ alarm, \d+ error; findings \d+ opened/,
    );
    const again = await ok(dataDir, ['rules', 'run']);
    assert.match(again, /acme: incremental evaluation in \d+ ms: 0 rules run/);
    const json = JSON.parse(
      await ok(dataDir, [
        'findings',
        'list',
        '--rule',
        'permission_anonymous_link_absent',
        '--format',
        'json',
      ]),
    );
    assert.ok(json.length > 0);
    assert.ok(json.every((f: { status: string; rule_id: string }) => f.status === 'open'));
    const csv = await ok(dataDir, ['findings', 'list', '--severity', 'high,critical', '--format', 'csv']);
    const lines = csv.trim().split('\r\n');
    assert.equal(
      lines[0],
      'id,status,severity,rule_id,result,resource_type,resource_path,resource_name,resource_owner,reason,last_seen',
    );
    assert.ok(lines.length > 1);
    assert.ok(
      lines.slice(1).every((l) => /^\d+,open,(high|critical),/.test(l)),
      lines.slice(1, 3).join('\n'),
    );
    const bad = await dw(dataDir, ['findings', 'list', '--status', 'closed']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /status closed is not one of open, resolved, suppressed/);
  });

  it('suppresses a finding and a rule, lifts a suppression', async () => {
    const [first] = JSON.parse(
      await ok(dataDir, [
        'findings',
        'list',
        '--rule',
        'permission_anonymous_link_absent',
        '--format',
        'json',
      ]),
    );
    const out = await ok(dataDir, [
      'findings',
      'suppress',
      String(first.id),
      '--reason',
      'known link',
      '--until',
      '2999-01-01T00:00:00Z',
    ]);
    const id = /suppression (\d+)/.exec(out)?.[1];
    assert.match(out, /finding \d+ suppressed until 2999-01-01T00:00:00.000Z/);
    const shown = await ok(dataDir, ['findings', 'show', String(first.id)]);
    assert.match(shown, /suppressed\s+alarm\s+high\s+tester/);
    const rule = await ok(dataDir, [
      'findings',
      'suppress-rule',
      'permission_org_link_not_edit',
      '--reason',
      'policy',
      '--pattern',
      '/**',
    ]);
    assert.match(rule, /rule permission_org_link_not_edit, \d+ open finding\(s\) suppressed now/);
    const lifted = await ok(dataDir, ['findings', 'unsuppress', String(id)]);
    assert.match(lifted, /1 finding\(s\) open again/);
    const missing = await dw(dataDir, ['findings', 'suppress', '99999', '--reason', 'x']);
    assert.match(missing.stderr, /no finding 99999/);
  });

  it('sets parameters, disables and enables a rule per integration; tests, adds and removes a custom rule', async () => {
    const set = await ok(dataDir, [
      'rules',
      'set',
      'permission_anonymous_link_expires',
      '--integration',
      'acme',
      '--param',
      'max_days=7',
    ]);
    assert.match(set, /max_days \(integer\) = 7 \(default 30\)/);
    const bad = await dw(dataDir, [
      'rules',
      'set',
      'permission_anonymous_link_expires',
      '--integration',
      'acme',
      '--param',
      'max_days=soon',
    ]);
    assert.match(bad.stderr, /"soon" is not an integer/);
    await ok(dataDir, ['rules', 'disable', 'drive_quota_healthy', '--integration', 'acme']);
    assert.match(
      await ok(dataDir, ['rules', 'list', '--integration', 'acme']),
      /drive_quota_healthy\s+\S+\s+drive\s+builtin\s+false/,
    );
    const run = await ok(dataDir, ['rules', 'run']);
    assert.match(run, /incremental evaluation.*: 1 rules run/, 'only the rule whose parameter changed runs');
    await ok(dataDir, ['rules', 'enable', 'drive_quota_healthy', '--integration', 'acme']);

    const folder = join(FIXTURE_RULES_DIR, 'user_fixture_account_enabled');
    const tested = await ok(dataDir, ['rules', 'test', folder]);
    assert.match(
      tested,
      /user_fixture_account_enabled: valid \(info, user\)\n\s+\S+: \d+ ok, \d+ alarm, 0 error/,
    );
    assert.match(
      await ok(dataDir, ['rules', 'add', folder]),
      /saved rule user_fixture_account_enabled \(checked on 1 inventory/,
    );
    assert.match(await ok(dataDir, ['rules', 'list']), /user_fixture_account_enabled\s+info\s+user\s+saved/);
    assert.match(
      await ok(dataDir, ['rules', 'run', '--rule', 'user_fixture_account_enabled']),
      /1 rules run/,
    );
    await ok(dataDir, ['rules', 'remove', 'user_fixture_account_enabled']);
    const builtin = await dw(dataDir, ['rules', 'remove', 'drive_quota_healthy']);
    assert.match(builtin.stderr, /is the built-in rule .*disable it per integration/);
  });
});
