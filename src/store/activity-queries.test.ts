import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { itemTimeline, itemUsage, userTimeline } from './activity-queries.ts';
import { type AuditEventInsert, insertAuditEvents } from './audit.ts';
import type { Store } from './store.ts';

function event(
  id: string,
  minute: number,
  actor: string,
  item: string,
  operation = 'FileAccessed',
): AuditEventInsert {
  return {
    id,
    time: new Date(Date.parse('2026-03-10T10:00:00Z') + minute * 60_000).toISOString(),
    operation,
    record_type: 6,
    workload: 'OneDrive',
    actor_upn: actor,
    actor_id: null,
    actor_type: 'regular',
    client_ip: '198.51.100.10',
    user_agent: null,
    object_url: `https://h/${item}`,
    site_url: null,
    drive_id: 'd1',
    item_id: item,
    item_type: 'File',
    file_name: `${item}.docx`,
    extension: 'docx',
    target_name: null,
    target_type: null,
    link_scope: null,
    content_id: 'c',
    raw: {},
  };
}

for (const dialect of testDialects()) {
  describe(`activity timelines and usage (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
      await insertAuditEvents(
        store.db,
        store.dialect,
        'int-q',
        [
          event('a', 0, 'ann@c.test', 'i1'),
          event('b', 1, 'bob@c.test', 'i1'),
          event('c', 2, 'ann@c.test', 'i1', 'FileDownloaded'),
          event('d', 3, 'ann@c.test', 'i2', 'FileModified'),
          event('e', 4, 'ann@c.test', 'i2'),
        ],
        '2026-03-10T11:00:00.000Z',
      );
    });
    after(async () => cleanup());

    const all = { since: '2026-03-01T00:00:00.000Z', limit: 100 };

    test('a user timeline and an item history, newest first', async () => {
      const ann = await userTimeline(store.db, 'int-q', 'Ann@C.test', all);
      assert.deepEqual(
        ann.map((e) => [e.operation, e.itemId]),
        [
          ['FileAccessed', 'i2'],
          ['FileModified', 'i2'],
          ['FileDownloaded', 'i1'],
          ['FileAccessed', 'i1'],
        ],
      );
      assert.equal(ann[0].time, '2026-03-10T10:04:00.000Z');
      const i1 = await itemTimeline(store.db, 'int-q', { driveId: 'd1', itemId: 'i1', webUrl: null }, all);
      assert.deepEqual(
        i1.map((e) => e.actor),
        ['ann@c.test', 'bob@c.test', 'ann@c.test'],
      );
      assert.equal((await userTimeline(store.db, 'int-q', 'ann@c.test', { ...all, limit: 1 })).length, 1);
    });

    test('usage per item: last access, accesses, distinct accessors (reads only)', async () => {
      const usage = await itemUsage(store.db, 'int-q', all);
      assert.deepEqual(
        usage.map((u) => [u.itemId, u.accesses, u.accessors, u.lastAccessAt]),
        [
          ['i1', 3, 2, '2026-03-10T10:02:00.000Z'],
          ['i2', 1, 1, '2026-03-10T10:04:00.000Z'],
        ],
      );
      const view = await store.db
        .selectFrom('item_usage')
        .select(['item_id', 'accesses', 'accessors'])
        .where('integration_id', '=', 'int-q')
        .orderBy('item_id')
        .execute();
      assert.deepEqual(
        view.map((v) => [v.item_id, Number(v.accesses), Number(v.accessors)]),
        [
          ['i1', 3, 2],
          ['i2', 1, 1],
        ],
      );
    });
  });
}
