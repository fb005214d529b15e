import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { seedGroup, seedUser } from '../../rules/test-support/seed.ts';
import { IntegrationRepository } from '../../store/integrations.ts';
import { openStore } from '../../store/store.ts';
import { SecretBox } from '../../util/secret-box.ts';

const bin = fileURLToPath(new URL('../../../bin/drivewarden.js', import.meta.url));

/** `drivewarden policies …` on a SQLite store with one integration, two users and a group. */
describe('drivewarden policies', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-policies-cli-'));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, 'policies', ...args], {
      encoding: 'utf8',
      env: { ...process.env, DW_DATA_DIR: dir, DW_DATABASE_URL: '', DW_CONFIG: '' },
    });

  before(async () => {
    const store = await openStore({ dataDir: dir });
    const integration = await new IntegrationRepository(store, SecretBox.open(dir)).create({
      name: 'contoso',
      tenantId: 't1',
      clientId: 'c1',
      clientSecret: 's1',
    });
    await seedUser(store.db, integration.id, 'u-alice', 'alice@contoso.example');
    await seedGroup(store.db, integration.id, 'g-sales', 'Sales', ['u-alice']);
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('adds, lists and removes policies', () => {
    const added = run('add', '--user', 'ALICE@contoso.example', '--max-bytes', '50GB', '--warn', '80%');
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /added storage policy 1/);
    const group = run(
      'add',
      '--group',
      'sales',
      '--max-percent',
      '25%',
      '--description',
      'sales team',
      '--json',
    );
    assert.equal(group.status, 0, group.stderr);
    assert.deepEqual(
      (({ scopeKind, scopeId, limitPercent, violationThreshold, description }) => ({
        scopeKind,
        scopeId,
        limitPercent,
        violationThreshold,
        description,
      }))(JSON.parse(group.stdout)),
      {
        scopeKind: 'group',
        scopeId: 'g-sales',
        limitPercent: 25,
        violationThreshold: 1,
        description: 'sales team',
      },
    );
    const listed = run('list');
    assert.equal(listed.status, 0, listed.stderr);
    assert.match(listed.stdout, /integration contoso/);
    assert.match(listed.stdout, /user alice@contoso\.example\s+50 GB\s+warning at 80%, violation above 100%/);
    assert.match(listed.stdout, /group Sales\s+25% of quota\s+warning at 90%.*— sales team/);
    const removed = run('remove', '1');
    assert.equal(removed.status, 0, removed.stderr);
    assert.match(removed.stdout, /removed storage policy 1 \(user alice@contoso\.example\)/);
    assert.deepEqual(
      (JSON.parse(run('list', '--json').stdout) as Array<{ id: number }>).map((p) => p.id),
      [2],
    );
  });

  it('refuses bad input with a message naming it', () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['add', '--user', 'u-alice', '--group', 'Sales', '--max-bytes', '1GB'],
        /exactly one of --user and --group/,
      ],
      [['add', '--user', 'u-alice'], /exactly one of --max-bytes and --max-percent/],
      [['add', '--user', 'nobody', '--max-bytes', '1GB'], /no user "nobody"/],
      [
        ['add', '--user', 'u-alice', '--max-bytes', '1GB', '--integration', 'fabrikam'],
        /no integration "fabrikam"/,
      ],
      [['remove', '99'], /no storage policy 99/],
    ];
    for (const [args, message] of cases) {
      const out = run(...args);
      assert.equal(out.status, 1, `${args.join(' ')}: ${out.stdout}`);
      assert.match(out.stderr, message, args.join(' '));
    }
  });
});
