import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SimAdminClient } from '../sim/admin-client.ts';
import { simCredentials } from '../sim/connection.ts';
import { startSimulator } from '../sim/index.ts';
import { openApp } from '../src/app/context.ts';
import { startService } from '../src/server/service.ts';
import { freePort } from './support/ports.ts';
import { servedSettings } from './support/served-settings.ts';
import { describeDiff, diffWithTruth } from './support/truth.ts';
import { waitFor } from './support/wait.ts';

/**
 * Issue 14 in embedded mode: the SQLite service collects through its in-process job queue —
 * the start-up collection is one integration.sync job, one drive.delta job per drive and one
 * full evaluation after them; a webhook notification becomes a drive.delta job, then a
 * debounced incremental evaluation — and the inventory equals the simulator's truth.
 */
describe('the embedded service runs its work as jobs on the in-process queue', () => {
  it('start-up collection and a webhook’s delta run are drive.delta jobs; the inventory matches the truth', async () => {
    const sim = await startSimulator({ seed: 41, users: 6, items: 240, allowHttpNotifications: true });
    const admin = new SimAdminClient(sim);
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-embedded-queue-'));
    const app = await openApp({
      ...servedSettings(dataDir, port),
      'sync.debounceMs': 50,
      'rules.debounceMs': 50,
    });
    const integration = await app.integrations.create({
      name: 'embedded',
      ...simCredentials(sim),
      verifiedDomains: sim.verifiedDomains,
    });
    const service = await startService(app, { listen: { host: '127.0.0.1', port }, alerts: false });
    try {
      await service.ready;
      const { queue } = service.jobs;
      assert.equal(queue.backendName, 'memory');
      const drives = (await admin.drives()).length;
      assert.ok(drives >= 4, `${drives} drives`);
      const atStart = queue.stats().completedByKind;
      assert.equal(atStart['integration.sync'], 1, 'one start-up collection job');
      assert.equal(atStart['drive.delta'], drives, 'one delta run job per drive');
      const evaluations = async () =>
        (
          await app.store.db
            .selectFrom('rule_evaluations')
            .select('mode')
            .where('integration_id', '=', integration.id)
            .execute()
        ).map((r) => r.mode);
      // The drives' runs at start-up are evaluated once, fully, after the last of them.
      assert.equal(atStart['rules.evaluate'], 1);
      assert.deepEqual(await evaluations(), ['full']);
      const start = await diffWithTruth(app.store, integration.id, admin);
      assert.equal(start.missing.length + start.extra.length, 0, describeDiff(start));

      // A share on one drive: Graph notifies, the real-time path queues that drive's run.
      await service.realtime.firstSync;
      const drive = (await admin.drives()).find((d) => d.itemCount > 1);
      assert.ok(drive);
      const file = (await admin.items(drive.id)).find(
        (i) => !i.isFolder && !i.deleted && i.sharedScope === null,
      );
      assert.ok(file, 'an unshared file');
      await admin.mutate({
        op: 'share',
        driveId: drive.id,
        itemId: file.id,
        kind: 'anonymous',
        linkType: 'view',
      });
      await waitFor(
        'the anonymous link in the inventory',
        () =>
          app.store.db
            .selectFrom('permissions')
            .select('id')
            .where('integration_id', '=', integration.id)
            .where('item_id', '=', file.id)
            .where('link_scope', '=', 'anonymous')
            .where('deleted_at', 'is', null)
            .executeTakeFirst(),
        { timeoutMs: 20_000, intervalMs: 50 },
      );
      await queue.idle();
      const after = queue.stats().completedByKind;
      assert.ok(after['drive.delta'] > drives, 'the webhook’s run was a drive.delta job');
      assert.equal(after['integration.sync'], 1);
      assert.ok(after['rules.evaluate'] >= 2, 'an incremental evaluation followed the run');
      assert.ok((await evaluations()).includes('incremental'));
      const end = await diffWithTruth(app.store, integration.id, admin);
      assert.equal(end.missing.length + end.extra.length, 0, describeDiff(end));
    } finally {
      await service.close();
      await app.close();
      await admin.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
