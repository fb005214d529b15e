/**
 * Acceptance of the job queue (issue 14): one `serve --no-work` and two `worker` processes on
 * one PostgreSQL database of this test's own, a simulated tenant of ~200 drives. One worker is
 * killed with -9 in the middle of the collection: the other finishes it, the inventory equals
 * the simulator's truth, the simulator's delta log shows no drive's runs overlapping, and the
 * findings equal those of a single-process (SQLite) run of the same tenant.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { DeltaRequestRecord } from '../sim/contracts.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { freePort } from './support/ports.ts';
import {
  assertFindingsBecome,
  drivesCollected,
  findingLines,
  type PostgresCluster,
  startPostgresCluster,
} from './support/postgres-cluster.ts';
import { testDialects } from './support/store.ts';
import { describeDiff, diffWithTruth } from './support/truth.ts';
import { waitFor } from './support/wait.ts';

if (testDialects().includes('postgres'))
  describe('serve + two workers on one PostgreSQL (kill -9 of a worker mid-collection)', () => {
    let cluster: PostgresCluster;
    let store: Store;

    before(async () => {
      cluster = await startPostgresCluster({
        prefix: 'dw_jobs',
        // ~200 drives (10% of users have no OneDrive) with a handful of items each.
        sim: { seed: 14, users: 224, items: 1200, unprovisionedRatio: 0.1 },
      });
    });
    after(async () => {
      await store?.close();
      await cluster?.close();
    });

    it('collects exactly, loses nothing to the kill, never runs a drive twice at once, and finds what one process finds', async () => {
      const { start, database } = cluster;
      await cluster.addIntegration();
      store = await openStore({ databaseUrl: database.url, maxConnections: 2 });
      const integration = await store.db.selectFrom('integrations').select('id').executeTakeFirstOrThrow();

      const w1 = start('worker 1', ['worker', '--concurrency', '4']);
      start('worker 2', ['worker', '--concurrency', '4']);
      start('serve', ['serve', '--no-work', '--port', String(await freePort())], {
        DW_POLL_INTERVAL_SECONDS: '3600',
      });

      // Kill worker 1 once the drives' runs are under way.
      const simAdmin = cluster.sim.admin;
      // (Start-up on a loaded machine: three processes, the directory, drive discovery.)
      await waitFor(
        "both workers running drives' delta requests",
        async () => {
          const log = await simAdmin.deltaLog();
          return new Set(log.map((r) => r.client)).size >= 2 && log.length >= 40;
        },
        { timeoutMs: 240_000, intervalMs: 250 },
      );
      w1.kill('SIGKILL');

      // Every drive collected: a deltaLink stored for each live drive, and no drive's permission
      // reads still owed (the risk-first collector stores a drive's deltaLink after its feed and
      // reads its permissions after that: collect/permission-reads.ts keeps them in sync_state).
      const drives = Number(
        (
          await store.db
            .selectFrom('drives')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('deleted_at', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
      assert.ok(drives >= 150, `${drives} drives`);
      let done = 0;
      await waitFor(
        `every drive collected (${drives} drives)`,
        async () => {
          done = await drivesCollected(store);
          const owed = await store.db
            .selectFrom('sync_state')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('scope', 'like', 'permissions:%')
            .where('phase', '=', 'delta')
            .where('enumeration_started_at', 'is not', null)
            .executeTakeFirstOrThrow();
          return done >= drives && Number(owed.n) === 0;
        },
        { timeoutMs: 240_000, intervalMs: 250 },
      ).catch((err) => assert.fail(`${err.message}: ${done} collected`));

      const diff = await diffWithTruth(store, integration.id, simAdmin, { history: false });
      assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));

      // No two runs of one drive overlapped, whoever made them: a run is a chain of delta
      // requests from one caller ending with a deltaLink; its window is first arrival to last answer.
      const log = await simAdmin.deltaLog();
      assert.ok(new Set(log.map((r) => r.client)).size >= 2, 'both workers ran drives');
      assert.deepEqual(overlappingRuns(log), []);

      // Findings: compare with one process on SQLite once the evaluations settled.
      const expected = await cluster.oneProcess(async (one, single) => {
        await cluster.addIntegration(one, single);
        await cluster.dw(['sync', '--once'], one, single);
        await cluster.dw(['rules', 'run', '--full'], one, single);
        const sqlite = await openStore({ dataDir: single });
        try {
          return await findingLines(sqlite);
        } finally {
          await sqlite.close();
        }
      });
      assert.ok(expected.length > 0, 'the tenant has findings');
      await assertFindingsBecome(store, expected, 'the workers');
    });
  });

/** Pairs of delta runs of one drive whose windows overlap. */
function overlappingRuns(log: DeltaRequestRecord[]): string[] {
  const runs = new Map<string, Array<{ client: string; start: number; end: number }>>();
  const open = new Map<string, { client: string; start: number; end: number }>();
  for (const r of [...log].sort((a, b) => a.startMs - b.startMs)) {
    const key = `${r.driveId}\u0000${r.client}`;
    let run = open.get(key);
    if (!run) {
      run = { client: r.client, start: r.startMs, end: r.endMs };
      open.set(key, run);
      const list = runs.get(r.driveId) ?? [];
      list.push(run);
      runs.set(r.driveId, list);
    }
    run.end = Math.max(run.end, r.endMs);
    if (r.last) open.delete(key);
  }
  const out: string[] = [];
  for (const [drive, list] of runs) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 1; i < list.length; i++)
      if (list[i].start < list[i - 1].end)
        out.push(
          `${drive}: ${list[i - 1].client} [${list[i - 1].start}, ${list[i - 1].end}] and ${list[i].client} [${list[i].start}, ${list[i].end}]`,
        );
  }
  return out;
}
