import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { simContext, simulatorSuite } from '../../../test/support/collector.ts';
import type { Store } from '../../store/store.ts';
import { listSyncErrors } from '../../store/sync-state.ts';
import { syncIntegration } from '../sync.ts';
import { collectActivity } from './collect.ts';

/** The simulator's clock as seen from here: real time plus what the test advanced it by. */
function simClock() {
  let offset = 0;
  return {
    now: () => Date.now() + offset,
    sync(simNowMs: number) {
      offset = simNowMs - Date.now();
    },
  };
}

async function countEvents(store: Store, integrationId: string) {
  const rows = await store.db
    .selectFrom('audit_events')
    .select((eb) => [eb.fn.countAll().as('n'), eb.fn.count('id').distinct().as('ids')])
    .where('integration_id', '=', integrationId)
    .executeTakeFirstOrThrow();
  return { n: Number(rows.n), ids: Number(rows.ids) };
}

describe('activity collector against the simulator', () => {
  const suite = simulatorSuite(
    {
      seed: 21,
      users: 8,
      items: 300,
      events: {
        auditBlobSeconds: 2,
        auditDuplicateRate: 0.3,
        auditContentPageSize: 3,
        auditMaxBlobRecords: 5,
      },
    },
    'dw-activity-',
  );

  test('reads every record once with typed, resolved columns; a second round reads nothing again', async () => {
    await suite.withStore('basic', async (store, client) => {
      const { admin } = suite.env;
      const clock = simClock();
      clock.sync(await admin.advanceClock(0));
      const ctx = simContext(store, suite.env.sim, client, 'int-act');
      await syncIntegration(ctx, { mode: 'full' });
      const before = (await admin.auditStats()).records;
      const [drive] = (await admin.drives()).sort((a, b) => b.itemCount - a.itemCount);
      const users = await admin.users();
      const actor = users.find((u) => u.userType === 'Member' && u.id !== drive.ownerId);
      assert.ok(actor);
      const downloaded = await admin.mutate<{ itemIds: string[] }>({
        op: 'massDownload',
        driveId: drive.id,
        count: 12,
        actorId: actor.id,
        clientIp: '203.0.113.77',
      });
      const file = (await admin.items(drive.id)).find((i) => !i.isFolder && !i.deleted);
      assert.ok(file);
      await admin.mutate({ op: 'share', driveId: drive.id, itemId: file.id, kind: 'anonymous' });
      await admin.mutate({
        op: 'share',
        driveId: drive.id,
        itemId: file.id,
        kind: 'external',
        email: 'someone@gmail.com',
      });
      clock.sync(await admin.advanceClock(5));
      const records = (await admin.auditStats()).records - before;
      assert.equal(records, 14);

      const first = await collectActivity(ctx, { now: clock.now });
      assert.equal(first.error, undefined);
      assert.equal(first.eventsNew, 14);
      assert.ok(first.eventsSeen >= first.eventsNew);
      assert.ok(first.contentRead >= 3, `at most 5 records a blob: ${first.contentRead} blobs`);
      assert.deepEqual(await countEvents(store, 'int-act'), { n: 14, ids: 14 });

      const downloads = await store.db
        .selectFrom('audit_events')
        .selectAll()
        .where('integration_id', '=', 'int-act')
        .where('operation', '=', 'FileDownloaded')
        .execute();
      assert.equal(downloads.length, 12);
      for (const e of downloads) {
        assert.equal(e.actor_upn, actor.userPrincipalName.toLowerCase());
        assert.equal(e.client_ip, '203.0.113.77');
        assert.equal(e.drive_id, drive.id);
        assert.ok(e.item_id && downloaded.itemIds.includes(e.item_id), `item ${e.item_id} resolved`);
        assert.equal(e.record_type, 6);
        assert.equal(e.actor_type, 'regular');
        assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      }
      const sharing = await store.db
        .selectFrom('audit_events')
        .select(['operation', 'link_scope', 'target_name', 'item_id'])
        .where('integration_id', '=', 'int-act')
        .where('record_type', '=', 14)
        .orderBy('operation')
        .execute();
      assert.deepEqual(
        sharing.map((s) => [s.operation, s.link_scope, s.item_id]),
        [
          ['AnonymousLinkCreated', 'anonymous', file.id],
          ['SharingInvitationCreated', 'users', file.id],
        ],
      );
      assert.equal(sharing[1].target_name, 'someone@gmail.com');

      const second = await collectActivity(ctx, { now: clock.now });
      assert.equal(second.error, undefined);
      assert.equal(second.contentRead, 0, 'overlapping windows skip blobs read before');
      assert.ok(second.contentListed > 0, 'the late window lists them again');
      assert.equal(second.eventsNew, 0);
    });
  });

  test('a missing ActivityFeed.Read is an error of the audit feed only, resolved once granted', async () => {
    await suite.withStore('denied', async (store, client) => {
      const { admin } = suite.env;
      const ctx = simContext(store, suite.env.sim, client, 'int-denied');
      const clock = simClock();
      clock.sync(await admin.advanceClock(0));
      await admin.setFaults([{ kind: 'forbidden403', resourceType: 'audit' }]);
      try {
        const r = await collectActivity(ctx, { now: clock.now });
        assert.equal(r.error?.code, 'AF10001');
        assert.equal(r.error?.resourceType, 'audit');
        const open = await listSyncErrors(store.db, 'int-denied', { open: true });
        assert.deepEqual(
          open.map((e) => [e.resource_type, e.code]),
          [['audit', 'AF10001']],
        );
      } finally {
        await admin.setFaults([]);
      }
      const again = await collectActivity(ctx, { now: clock.now });
      assert.equal(again.error, undefined);
      assert.deepEqual(await listSyncErrors(store.db, 'int-denied', { open: true }), []);
    });
  });
});

describe('activity collector with late content', () => {
  // Every record held back by up to 2 h: blobs become available late and out of order.
  const lateSuite = simulatorSuite(
    {
      seed: 22,
      users: 6,
      items: 200,
      events: { auditBlobSeconds: 2, auditLateRate: 1, auditMaxLateSeconds: 7200, auditContentPageSize: 4 },
    },
    'dw-activity-late-',
  );

  test('late and out-of-order content is picked up by a later round, never twice', async () => {
    await lateSuite.withStore('late', async (store, client) => {
      const { admin } = lateSuite.env;
      const clock = simClock();
      clock.sync(await admin.advanceClock(0));
      const ctx = simContext(store, lateSuite.env.sim, client, 'int-late');
      const first = await collectActivity(ctx, { now: clock.now });
      assert.equal(first.error, undefined);
      const base = await countEvents(store, 'int-late');
      const [, drive] = (await admin.drives()).sort((a, b) => b.itemCount - a.itemCount);
      const before = (await admin.auditStats()).records;
      await admin.mutate({ op: 'massDownload', driveId: drive.id, count: 20 });
      const early = await collectActivity(ctx, { now: clock.now });
      assert.equal(early.error, undefined);
      assert.ok(early.eventsNew < 20, `some content arrives late (${early.eventsNew} of 20 on time)`);
      clock.sync(await admin.advanceClock(3 * 3600));
      const late = await collectActivity(ctx, { now: clock.now });
      assert.equal(late.error, undefined);
      const added = (await admin.auditStats()).records - before;
      const after = await countEvents(store, 'int-late');
      assert.equal(after.n - base.n, added);
      assert.equal(after.n, after.ids);
      assert.equal(early.eventsNew + late.eventsNew, added);
    });
  });
});
