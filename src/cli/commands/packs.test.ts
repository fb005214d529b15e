import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PackScore } from '../../rules/pack-score.ts';
import { encodeValue } from '../../store/codec.ts';
import { IntegrationRepository } from '../../store/integrations.ts';
import { openStore } from '../../store/store.ts';
import { SecretBox } from '../../util/secret-box.ts';

const bin = fileURLToPath(new URL('../../../bin/drivewarden.js', import.meta.url));
const T0 = '2026-03-01T00:00:00.000Z';

/** `drivewarden packs score` on a SQLite store where every rule ran once and one alarm is open. */
describe('drivewarden packs score', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-packs-cli-'));
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, 'packs', 'score', ...args], {
      encoding: 'utf8',
      env: { ...process.env, DW_DATA_DIR: dir, DW_DATABASE_URL: '', DW_CONFIG: '' },
    });

  before(async () => {
    const store = await openStore({ dataDir: dir });
    const { id } = await new IntegrationRepository(store, SecretBox.open(dir)).create({
      name: 'contoso',
      tenantId: 't1',
      clientId: 'c1',
      clientSecret: 's1',
    });
    await store.db
      .insertInto('rule_evaluations')
      .values({
        integration_id: id,
        mode: 'full',
        rule_id: null,
        started_at: T0,
        finished_at: T0,
        change_cursor_from: null,
        change_cursor_to: null,
        rules_run: 1,
        ok_count: 0,
        alarm_count: 1,
        error_count: 0,
        opened: 1,
        resolved: 0,
        duration_ms: 1,
        error_message: null,
      })
      .execute();
    await store.db
      .insertInto('findings')
      .values({
        integration_id: id,
        rule_id: 'permission_anonymous_link_absent',
        resource_type: 'permission',
        resource_key: 'd1/i1/p1',
        resource_id: 'p1',
        status: 'open',
        result: 'alarm',
        severity: 'high',
        reason: 'Anyone link',
        details: encodeValue('json', {}, store.dialect),
        first_seen: T0,
        last_seen: T0,
      })
      .execute();
    await store.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('scores every pack, fails the controls of an open alarm, and records each score once', () => {
    const first = run('--json');
    assert.equal(first.status, 0, first.stderr);
    const [{ integration, scores }] = JSON.parse(first.stdout) as Array<{
      integration: string;
      scores: PackScore[];
    }>;
    assert.equal(integration, 'contoso');
    const failing = scores.flatMap((s) => s.controls.filter((c) => c.status === 'fail').map((c) => c.id));
    assert.deepEqual(failing.sort(), ['7.2.3', 'MS.SHAREPOINT.1.2v1']);
    for (const s of scores) assert.equal(s.evaluated, s.controls.filter((c) => c.rules.length > 0).length);

    const again = run();
    assert.equal(again.status, 0, again.stderr);
    assert.match(
      again.stdout,
      /fail\s+MS\.SHAREPOINT\.1\.2v1 .*\[permission_anonymous_link_absent: 1 open\]/,
    );
    const history = run('--history', '--json');
    assert.deepEqual(
      (JSON.parse(history.stdout) as Array<{ packId: string }>).map((h) => h.packId).sort(),
      ['cis-m365', 'scuba-sharepoint'],
      'an unchanged score is recorded once',
    );
  });
});
