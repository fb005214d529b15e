import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { simClient, simContext } from '../../test/support/collector.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { describeDiff, diffWithTruth } from '../../test/support/truth.ts';
import { openStore, type Store } from '../store/store.ts';
import { listSyncErrors } from '../store/sync-state.ts';
import { syncDrive } from './drive-sync.ts';
import { syncIntegration } from './sync.ts';

/**
 * Graph payloads the collector did not expect (a wrong type in one item): the item is
 * reported with the integration, resource, item id and Graph request id; the rest of the
 * drive is collected; nothing already stored is lost.
 */
describe('one malformed item in a delta page', () => {
  let env: TestSim;
  let store: Store;
  before(async () => {
    env = await startTestSim({ seed: 31, users: 6, items: 400 });
    store = await openStore({ file: ':memory:' });
  });
  after(async () => {
    await store.close();
    await env.close();
  });

  test('a full sync collects everything else and reports the item with its request id', async () => {
    await env.admin.setFaults([{ kind: 'malformedItem', atRequest: 1, pathPattern: '/root/delta' }]);
    const client = simClient(env.sim);
    const ctx = simContext(store, env.sim, client, 'int-bad');
    try {
      const result = await syncIntegration(ctx, { mode: 'full' });
      assert.equal(result.drives.failed, 0, 'no drive stopped');
      const errors = (await listSyncErrors(store.db, 'int-bad', { open: true })).filter(
        (e) => e.code === 'invalidPayload',
      );
      assert.equal(errors.length, 1, JSON.stringify(errors));
      const [e] = errors;
      assert.equal(e.resource_type, 'drive_item');
      assert.ok(e.resource_id, 'names the item');
      assert.ok(e.request_id, 'names the Graph request id');
      assert.match(e.message, /size/);
      // Only that item (and what hangs on it: its permissions) is missing from the inventory.
      const diff = await diffWithTruth(store, 'int-bad', env.admin);
      assert.equal(diff.extra.length, 0, describeDiff(diff));
      assert.ok(diff.missing.length >= 1);
      for (const k of diff.missing)
        assert.ok(k.includes(e.resource_id as string), `only the bad item is missing: ${k}`);

      // The next full collection, with a well-formed payload, makes it exact and resolves the error.
      await env.admin.setFaults([]);
      await syncIntegration(ctx, { mode: 'full' });
      const exact = await diffWithTruth(store, 'int-bad', env.admin);
      assert.deepEqual([exact.missing, exact.extra], [[], []], describeDiff(exact));
      assert.equal(
        (await listSyncErrors(store.db, 'int-bad', { open: true })).filter((x) => x.code === 'invalidPayload')
          .length,
        0,
      );
    } finally {
      await client.close();
    }
  });

  test('a malformed update of a stored item keeps what was stored', async () => {
    const client = simClient(env.sim);
    const ctx = simContext(store, env.sim, client, 'int-bad');
    try {
      const [drive] = await env.admin.drives();
      const file = (await env.admin.items(drive.id)).find(
        (i) => !i.isFolder && !i.deleted && i.parentId !== null,
      );
      assert.ok(file);
      const storedBefore = await store.db
        .selectFrom('drive_items')
        .selectAll()
        .where('integration_id', '=', 'int-bad')
        .where('id', '=', file.id)
        .executeTakeFirstOrThrow();
      await env.admin.mutate({ op: 'modifyItem', driveId: drive.id, itemId: file.id, size: 123_456 });
      await env.admin.setFaults([{ kind: 'malformedItem', atRequest: 1, pathPattern: '/root/delta' }]);
      const result = await syncDrive(ctx, drive.id, { source: 'delta' });
      await env.admin.setFaults([]);
      assert.equal(result.error, undefined);
      const storedAfter = await store.db
        .selectFrom('drive_items')
        .selectAll()
        .where('integration_id', '=', 'int-bad')
        .where('id', '=', file.id)
        .executeTakeFirstOrThrow();
      assert.equal(storedAfter.deleted_at, null, 'still there');
      assert.equal(storedAfter.path, storedBefore.path);
      const errors = await listSyncErrors(store.db, 'int-bad', { open: true });
      assert.ok(errors.some((e) => e.code === 'invalidPayload' && e.request_id));
    } finally {
      await client.close();
    }
  });
});
