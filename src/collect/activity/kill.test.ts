import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Prng } from '../../../sim/model/prng.ts';
import { simulatorSuite } from '../../../test/support/collector.ts';
import { openStore } from '../../store/store.ts';

const KILL_PLAN_SEED = 11;

describe('activity collector killed with -9', () => {
  // Small blobs and pages, a third of the records served twice: many commits to land between.
  const suite = simulatorSuite(
    {
      seed: 23,
      users: 6,
      items: 300,
      events: { auditBlobSeconds: 1, auditDuplicateRate: 0.3, auditContentPageSize: 2 },
    },
    'dw-activity-kill-',
  );

  test('kill -9 at random moments, restart: every record stored exactly once', async () => {
    const { admin } = suite.env;
    const before = (await admin.auditStats()).records;
    const drives = (await admin.drives()).filter((d) => d.itemCount > 20);
    for (let i = 0; i < 30; i++) {
      await admin.mutate({ op: 'massDownload', driveId: drives[i % drives.length].id, count: 8 });
      await admin.advanceClock(2);
    }
    const simNow = await admin.advanceClock(2);
    const records = (await admin.auditStats()).records - before;
    assert.ok(records >= 200, `${records} records to read`);

    const file = suite.path('killed.db');
    const script = fileURLToPath(new URL('./activity-child.fixture.ts', import.meta.url));
    const info = { ...suite.env.sim } as Record<string, unknown>;
    delete info.close;
    const rng = new Prng(KILL_PLAN_SEED);
    const runChild = (killAfterPages?: number) =>
      new Promise<{ code: number | null; signal: string | null; out: string; pages: number }>((resolve) => {
        const args = { file, integrationId: 'int-kill', clockOffsetMs: simNow - Date.now(), sim: info };
        const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(args)], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, DW_LOG_LEVEL: 'silent' },
        });
        let out = '';
        let pages = 0;
        let killing = false;
        child.stdout.on('data', (d: Buffer) => {
          const text = d.toString();
          pages += (text.match(/^p$/gm) ?? []).length;
          out += text.replace(/^p\n/gm, '');
          if (killAfterPages !== undefined && pages >= killAfterPages && !killing) {
            killing = true;
            setTimeout(() => child.kill('SIGKILL'), rng.int(0, 15));
          }
        });
        child.stderr.on('data', (d) => {
          out += d;
        });
        child.on('exit', (code, signal) => resolve({ code, signal, out, pages }));
      });

    let killedMidway = 0;
    const plan: string[] = [];
    for (let i = 0; i < 4; i++) {
      const at = rng.int(2, 12);
      const r = await runChild(at);
      plan.push(`${at}/${r.pages}`);
      if (r.signal === 'SIGKILL') killedMidway++;
      else assert.equal(r.code, 0, r.out);
    }
    assert.ok(
      killedMidway >= 3,
      `kills landed mid-round (${killedMidway} of 4; pages at kill/seen ${plan.join(', ')})`,
    );
    const final = await runChild();
    assert.equal(final.code, 0, final.out);
    const again = await runChild();
    assert.equal(again.code, 0, again.out);
    assert.match(again.out, /"eventsNew":0/);

    const store = await openStore({ file });
    try {
      const events = await store.db
        .selectFrom('audit_events')
        .select((eb) => [eb.fn.countAll().as('n'), eb.fn.count('id').distinct().as('ids')])
        .where('integration_id', '=', 'int-kill')
        .executeTakeFirstOrThrow();
      assert.equal(Number(events.n), records, 'every record the simulator made is stored');
      assert.equal(Number(events.ids), records, 'and none twice');
      const content = await store.db
        .selectFrom('audit_content')
        .select((eb) => eb.fn.sum<number>('events').as('served'))
        .where('integration_id', '=', 'int-kill')
        .executeTakeFirstOrThrow();
      assert.ok(Number(content.served) > records, 'duplicates were served and dropped');
    } finally {
      await store.close();
    }
  });
});
