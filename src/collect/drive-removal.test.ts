import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { simContext, simulatorSuite } from '../../test/support/collector.ts';
import { describeDiff, diffWithTruth } from '../../test/support/truth.ts';
import type { Store } from '../store/store.ts';
import { getSyncState } from '../store/sync-state.ts';
import { collectUsersDelta } from './directory-delta.ts';
import { syncIntegration } from './sync.ts';

/** A drive that disappears (owner deleted, OneDrive removed) takes its items and permissions with it. */

const SIM = { seed: 23, users: 24, items: 700, sharedRatio: 0.2 };

async function liveCounts(store: Store, integrationId: string, driveId: string) {
  const count = async (table: 'drives' | 'drive_items' | 'permissions') => {
    const q = store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('n'))
      .where('integration_id', '=', integrationId)
      .where('deleted_at', 'is', null);
    const r = await (table === 'drives'
      ? q.where('id', '=', driveId)
      : q.where('drive_id', '=', driveId)
    ).executeTakeFirstOrThrow();
    return Number(r.n);
  };
  return {
    drives: await count('drives'),
    items: await count('drive_items'),
    permissions: await count('permissions'),
  };
}

async function removals(store: Store, integrationId: string, driveId: string, afterId: number) {
  const rows = await store.db
    .selectFrom('changes')
    .select(['id', 'resource_type', 'resource_id', 'change_type', 'source'])
    .where('integration_id', '=', integrationId)
    .where('id', '>', afterId)
    .where((eb) => eb.or([eb('drive_id', '=', driveId), eb('resource_id', '=', driveId)]))
    .execute();
  return rows;
}

async function lastChangeId(store: Store): Promise<number> {
  const r = await store.db
    .selectFrom('changes')
    .select((eb) => eb.fn.max('id').as('m'))
    .executeTakeFirst();
  return Number(r?.m ?? 0);
}

describe('a drive that disappears', () => {
  const suite = simulatorSuite(SIM, 'dw-drive-removal-');

  /** A drive of a member with sharing roots, picked among those not yet used. */
  const pickDrive = async (store: Store, integrationId: string, not: string[]) => {
    const drives = await suite.env.admin.drives();
    for (const d of drives) {
      if (not.includes(d.id)) continue;
      const c = await liveCounts(store, integrationId, d.id);
      if (c.permissions > 0 && c.items > 1) return { ...d, counts: c };
    }
    throw new Error('no drive with sharing permissions');
  };

  const assertTombstoned = async (
    store: Store,
    integrationId: string,
    drive: { id: string; counts: { items: number; permissions: number } },
    mark: number,
    source: string,
  ) => {
    assert.deepEqual(await liveCounts(store, integrationId, drive.id), {
      drives: 0,
      items: 0,
      permissions: 0,
    });
    const h = await removals(store, integrationId, drive.id, mark);
    assert.ok(
      h.every((c) => c.change_type === 'removed' && c.source === source),
      h.map((c) => `${c.resource_type} ${c.change_type} ${c.source}`).join(),
    );
    const n = (type: string) => h.filter((c) => c.resource_type === type).length;
    assert.equal(n('drive'), 1, 'the drive row: one removed row');
    assert.equal(n('drive_item'), drive.counts.items, 'one removed row per live item');
    assert.equal(n('permission'), drive.counts.permissions, 'one removed row per live permission');
    const state = await getSyncState(store.db, integrationId, `drive:${drive.id}`);
    assert.equal(state?.deltaLink ?? null, null, 'the delta cursor is forgotten');
    const diff = await diffWithTruth(store, integrationId, suite.env.admin);
    assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
  };

  test('owner deleted (users delta) and OneDrive removed (drive discovery)', async () => {
    await suite.withStore('removal', async (store, client) => {
      const id = 'int-removal';
      const ctx = simContext(store, suite.env.sim, client, id);
      await syncIntegration(ctx, { mode: 'full' });

      // The owner is deleted: the users delta reports it, the drive goes with its owner.
      const deleted = await pickDrive(store, id, []);
      await suite.env.admin.mutate({ op: 'deleteUser', userId: deleted.ownerId });
      let mark = await lastChangeId(store);
      await collectUsersDelta(ctx, 'poll');
      await assertTombstoned(store, id, deleted, mark, 'poll');

      // The OneDrive is removed, the user stays: drive discovery answers 404 for it.
      const removed = await pickDrive(store, id, [deleted.id]);
      await suite.env.admin.mutate({ op: 'removeDrive', driveId: removed.id });
      mark = await lastChangeId(store);
      const r = await syncIntegration(ctx, { mode: 'delta' });
      assert.equal(r.drives.failed, 0, 'the vanished drive is not synced (nor failed)');
      await assertTombstoned(store, id, removed, mark, 'full');
      const status = await store.db
        .selectFrom('user_drives')
        .select(['provisioned', 'drive_id'])
        .where('integration_id', '=', id)
        .where('id', '=', removed.ownerId)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      assert.equal(Boolean(status.provisioned), false, 'the owner has no OneDrive now');

      // And the next round finds nothing more to remove.
      mark = await lastChangeId(store);
      await syncIntegration(ctx, { mode: 'delta' });
      assert.deepEqual(await removals(store, id, removed.id, mark), []);
    });
  });
});
