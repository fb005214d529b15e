import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Prng } from '../../sim/model/prng.ts';
import { openStore } from '../store/store.ts';

const dir = mkdtempSync(join(tmpdir(), 'dw-anomaly-kill-'));
const script = fileURLToPath(new URL('./anomaly-child.fixture.ts', import.meta.url));

function runChild(file: string, killAfterRounds?: number, delayMs = 0) {
  return new Promise<{ code: number | null; signal: string | null; out: string; rounds: number }>(
    (resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', script, JSON.stringify({ file, integrationId: 'int-k' })],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DW_LOG_LEVEL: 'silent' } },
      );
      let out = '';
      let rounds = 0;
      let killing = false;
      child.stdout.on('data', (d: Buffer) => {
        const text = d.toString();
        rounds += (text.match(/^r$/gm) ?? []).length;
        out += text.replace(/^r\n/gm, '');
        if (killAfterRounds !== undefined && rounds >= killAfterRounds && !killing) {
          killing = true;
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        }
      });
      child.stderr.on('data', (d) => {
        out += d;
      });
      child.on('exit', (code, signal) => resolve({ code, signal, out, rounds }));
    },
  );
}

async function outcome(file: string) {
  const store = await openStore({ file });
  try {
    const findings = await store.db
      .selectFrom('findings')
      .select(['id', 'rule_id', 'resource_key', 'details'])
      .where('integration_id', '=', 'int-k')
      .orderBy('rule_id')
      .orderBy('resource_key')
      .execute();
    const events = await store.db
      .selectFrom('finding_events')
      .select(['finding_id', 'event'])
      .where('integration_id', '=', 'int-k')
      .execute();
    const cursor = await store.db.selectFrom('anomaly_cursors').selectAll().executeTakeFirst();
    return {
      findings: findings.map((f) => ({
        rule: f.rule_id,
        key: f.resource_key,
        details: f.details,
        events: events.filter((e) => Number(e.finding_id) === Number(f.id)).map((e) => e.event),
      })),
      cursor: [cursor?.detected_observed_at, cursor?.detected_event_id],
    };
  } finally {
    await store.close();
  }
}

describe('anomaly detection killed with -9', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('kill -9 between and inside rounds, restart: every detection written once, as without kills', async () => {
    const clean = join(dir, 'clean.db');
    const reference = await runChild(clean);
    assert.equal(reference.code, 0, reference.out);
    const expected = await outcome(clean);
    assert.deepEqual(
      expected.findings.map((f) => [f.rule, f.key, f.events]),
      [
        ['mass_delete', 'user1@contoso.test', ['opened']],
        ['mass_delete', 'user4@contoso.test', ['opened']],
        ['mass_download', 'user0@contoso.test', ['opened']],
        ['mass_download', 'user3@contoso.test', ['opened']],
        ['unusual_ip', 'user2@contoso.test', ['opened']],
        ['unusual_ip', 'user5@contoso.test', ['opened']],
      ],
    );

    const file = join(dir, 'killed.db');
    const rng = new Prng(17);
    let killed = 0;
    const plan: string[] = [];
    for (let i = 0; i < 6; i++) {
      const at = rng.int(0, 4);
      const delay = rng.int(0, 40);
      const r = await runChild(file, at, delay);
      plan.push(`${at}+${delay}ms/${r.rounds}`);
      if (r.signal === 'SIGKILL') killed++;
      else assert.equal(r.code, 0, r.out);
    }
    assert.ok(killed >= 4, `kills landed mid-run (${killed} of 6: ${plan.join(', ')})`);
    const final = await runChild(file);
    assert.equal(final.code, 0, final.out);
    assert.deepEqual(await outcome(file), expected);
  });
});
