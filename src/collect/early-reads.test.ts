import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TruthRecord } from '../../sim/contracts.ts';
import { simClient, simContext } from '../../test/support/collector.ts';
import { registerIntegration } from '../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore } from '../../test/support/store.ts';
import { describeDiff, diffWithTruth } from '../../test/support/truth.ts';
import type { GraphClient } from '../graph/types.ts';
import { syncIntegration } from './sync.ts';

/**
 * Early reads, observed at the simulator: while one drive's feed is held back, the drives
 * already fed get their permission reads, so reads and feeds overlap; still no drive's
 * permissions are read before its own feed is done, every sharing root is read once, and
 * every label read is made once.
 */

type ItemTruth = Extract<TruthRecord, { kind: 'item' }>;
const DRIVE_IN_URL = /\/drives\/([^/]+)\//;

describe('early permission and label reads of a full sync', () => {
  let env: TestSim;
  before(async () => {
    env = await startTestSim({ seed: 5, users: 8, items: 500, sharedRatio: 0.15, anonymousRatio: 0.05 });
  });
  after(async () => env?.close());

  test('drives already fed get their reads while another feed runs; each root and label read once', async () => {
    const ts = await openTestStore('sqlite');
    const inner = simClient(env.sim);
    try {
      const integrationId = 'int-early';
      await registerIntegration(ts.db, 'sqlite', integrationId, env.sim.tenantId);
      const truth = await env.admin.truthArray();
      const items = truth.filter((r): r is ItemTruth => r.kind === 'item');
      const roots = items.filter((i) => i.sharedScope !== null);
      const drives = [...new Set(items.map((i) => i.driveId))];
      assert.ok(drives.length >= 3 && roots.length > 0, 'several drives and some sharing roots');

      // One drive's feed waits until a permission $batch is asked for (or 20 s, then fails below).
      const held = drives[0];
      let openedBy: 'permissions' | 'timeout' | undefined;
      let open: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const timer = setTimeout(() => {
        openedBy ??= 'timeout';
        open();
      }, 20_000);
      const client: GraphClient = {
        ...inner,
        async *pages(req) {
          if (req.url.includes(`/drives/${encodeURIComponent(held)}/`) && req.url.includes('delta'))
            await gate;
          yield* inner.pages(req);
        },
        async batch(requests) {
          if (requests.some((r) => r.url.includes('/permissions'))) {
            openedBy ??= 'permissions';
            open();
          }
          return inner.batch(requests);
        },
      };

      await env.admin.recordRequests(true);
      const result = await syncIntegration(simContext(ts.store, env.sim, client, integrationId), {
        mode: 'full',
      });
      clearTimeout(timer);
      const log = await env.admin.requests();
      await env.admin.recordRequests(false);
      assert.deepEqual(result.errors, []);
      assert.equal(log.dropped, 0);
      assert.equal(openedBy, 'permissions', 'permissions were read while a feed was held back');

      const driveOf = (url: string) => decodeURIComponent(DRIVE_IN_URL.exec(url)?.[1] ?? '');
      const lastDeltaOf = new Map<string, number>();
      for (const r of log.requests.filter((q) => q.url.includes('/delta')))
        lastDeltaOf.set(driveOf(r.url), Math.max(lastDeltaOf.get(driveOf(r.url)) ?? 0, r.seq));
      const heldLastDelta = lastDeltaOf.get(held);
      assert.ok(heldLastDelta !== undefined, 'the held drive was fed');

      const reads = log.requests.filter((r) => /\/items\/[^/]+\/permissions/.test(r.url));
      assert.equal(reads.length, roots.length, 'one read per sharing root');
      assert.equal(new Set(reads.map((r) => r.url)).size, reads.length, 'no root read twice');
      for (const r of reads) {
        const fed = lastDeltaOf.get(driveOf(r.url));
        assert.ok(fed !== undefined && r.seq > fed, `${r.url}: read after its own drive's feed`);
      }
      assert.ok(
        reads.some((r) => r.seq < heldLastDelta),
        'some permissions read before the held feed ended',
      );

      const labels = log.requests.filter((r) => r.url.includes('extractSensitivityLabels'));
      assert.equal(labels.length, result.labelCalls);
      assert.equal(new Set(labels.map((r) => r.url)).size, labels.length, 'no label read twice');
      assert.ok(result.labelCalls > 0, 'files exposed outside had their labels read');

      const diff = await diffWithTruth(ts.store, integrationId, env.admin);
      assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
    } finally {
      await inner.close();
      await ts.cleanup();
    }
  });
});
