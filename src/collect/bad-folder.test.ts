import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { simClient, simContext } from '../../test/support/collector.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openStore, type Store } from '../store/store.ts';
import { listSyncErrors } from '../store/sync-state.ts';
import { syncIntegration } from './sync.ts';

/**
 * One invalid folder entry in a delta page (chaos suite finding): it costs only itself. Its
 * children that arrive valid are stored, with the paths Graph gives them (the folder's own
 * name and parent, read from its raw entry, place them), and the folder is one item-level
 * error.
 */
describe('one malformed folder in a delta page', () => {
  let env: TestSim;
  let store: Store;
  before(async () => {
    env = await startTestSim({ seed: 5, users: 3, items: 150 });
    store = await openStore({ file: ':memory:' });
  });
  after(async () => {
    await store.close();
    await env.close();
  });

  test('keeps the clean children, with their paths, and records exactly one item error', async () => {
    await env.admin.setFaults([{ kind: 'malformedFolder', atRequest: 1, pathPattern: '/root/delta' }]);
    const client = simClient(env.sim);
    const ctx = simContext(store, env.sim, client, 'int-folder');
    try {
      const result = await syncIntegration(ctx, { mode: 'full' });
      assert.equal(result.drives.failed, 0, 'no drive stopped');
      const errors = (await listSyncErrors(store.db, 'int-folder', { open: true })).filter(
        (e) => e.code === 'invalidPayload',
      );
      assert.equal(errors.length, 1, JSON.stringify(errors));
      const folderId = errors[0].resource_id as string;
      const drives = await env.admin.drives();
      let children: Array<{ id: string; path: string }> = [];
      let folderPath = '';
      for (const d of drives) {
        const items = await env.admin.items(d.id);
        const folder = items.find((i) => i.id === folderId);
        if (!folder) continue;
        assert.ok(folder.isFolder, 'the malformed entry is a folder');
        folderPath = folder.path;
        children = items.filter((i) => !i.deleted && i.parentId === folderId);
      }
      assert.ok(children.length > 0, 'the malformed folder has children');
      const stored = await store.db
        .selectFrom('drive_items')
        .select(['id', 'path'])
        .where('integration_id', '=', 'int-folder')
        .where(
          'id',
          'in',
          children.map((c) => c.id),
        )
        .where('deleted_at', 'is', null)
        .execute();
      const byId = new Map(stored.map((r) => [r.id, r.path]));
      for (const c of children) {
        assert.ok(byId.has(c.id), `child ${c.path} is in the inventory`);
        assert.equal(byId.get(c.id), c.path, `child of ${folderPath} has its path`);
      }
      const folderRow = await store.db
        .selectFrom('drive_items')
        .select('id')
        .where('integration_id', '=', 'int-folder')
        .where('id', '=', folderId)
        .executeTakeFirst();
      assert.equal(folderRow, undefined, 'the invalid folder itself is not stored');
    } finally {
      await client.close();
    }
  });
});
