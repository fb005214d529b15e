import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, TEST_PG_URL, testDialects } from '../../test/support/store.ts';
import { type ExclusiveLocks, LocalLocks, PgAdvisoryLocks, runExclusive } from './exclusive.ts';

for (const dialect of testDialects()) {
  describe(`exclusive runs (${dialect})`, () => {
    it('a run asked for during a run becomes exactly one follow-up run, never an overlapping one', async () => {
      const ts = await openTestStore(dialect);
      const lost: Error[] = [];
      const open = async (): Promise<ExclusiveLocks> =>
        dialect === 'postgres'
          ? PgAdvisoryLocks.open(TEST_PG_URL, ts.schema ?? '', (e) => lost.push(e))
          : shared;
      const shared = new LocalLocks();
      // Two "processes" (PostgreSQL: two sessions).
      const a = await open();
      const b = await open();
      try {
        let active = 0;
        let maxActive = 0;
        const runs: string[] = [];
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        const work = (who: string) => async (source: string) => {
          active++;
          maxActive = Math.max(maxActive, active);
          runs.push(`${who}:${source}`);
          if (runs.length === 1) await gate;
          active--;
          return runs.length;
        };
        const first = runExclusive(ts.db, a, 'drive:i:d1', 'poll', work('a'));
        while (runs.length === 0) await new Promise((r) => setTimeout(r, 5));
        // Two more callers while the first runs: both hand over to the holder.
        assert.deepEqual(await runExclusive(ts.db, b, 'drive:i:d1', 'webhook', work('b')), { ran: false });
        assert.deepEqual(await runExclusive(ts.db, b, 'drive:i:d1', 'webhook', work('b')), { ran: false });
        // Another key is not held up.
        assert.equal((await runExclusive(ts.db, b, 'drive:i:d2', 'poll', async () => 'x')).ran, true);
        release();
        const outcome = await first;
        assert.equal(outcome.ran, true);
        assert.deepEqual(runs, ['a:poll', 'a:webhook']);
        assert.equal(maxActive, 1);
        const left = await ts.db.selectFrom('run_requests').selectAll().execute();
        assert.deepEqual(left, []);
        // Released: the other process runs it now.
        assert.equal((await runExclusive(ts.db, b, 'drive:i:d1', 'poll', async () => 1)).ran, true);
        assert.deepEqual(lost, []);
      } finally {
        await a.close();
        if (b !== a) await b.close();
        await ts.cleanup();
      }
    });

    if (dialect === 'postgres') {
      it('a dead holder’s locks are free at once, and the holder hears its session was lost', async () => {
        const ts = await openTestStore(dialect);
        const lost: Error[] = [];
        const a = await PgAdvisoryLocks.open(TEST_PG_URL, ts.schema ?? '', (e) => lost.push(e));
        const b = await PgAdvisoryLocks.open(TEST_PG_URL, ts.schema ?? '', () => undefined);
        try {
          assert.equal(await a.tryAcquire('drive:i:d1'), true);
          assert.equal(await b.tryAcquire('drive:i:d1'), false);
          // What kill -9 does to the holder's connection.
          await sql`select pg_terminate_backend(${a.backendPid})`.execute(ts.db);
          for (let i = 0; i < 100 && lost.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
          assert.equal(lost.length, 1);
          assert.equal(await b.tryAcquire('drive:i:d1'), true);
          await assert.rejects(a.tryAcquire('drive:i:d2'));
        } finally {
          await a.close();
          await b.close();
          await ts.cleanup();
        }
      });
    }
  });
}
