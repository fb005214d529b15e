import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import {
  type AuditEventInsert,
  auditSummary,
  getAuditFeed,
  insertAuditEvents,
  pruneAudit,
  putAuditFeed,
  readContentIds,
  recordContentRead,
} from './audit.ts';
import type { Store } from './store.ts';

function event(id: string, time: string, extra: Partial<AuditEventInsert> = {}): AuditEventInsert {
  return {
    id,
    time,
    operation: 'FileDownloaded',
    record_type: 6,
    workload: 'OneDrive',
    actor_upn: 'ann@contoso.test',
    actor_id: 'u1',
    actor_type: 'regular',
    client_ip: '198.51.100.1',
    user_agent: 'ua',
    object_url: 'https://h/personal/ann/Documents/a.docx',
    site_url: 'https://h/personal/ann/',
    drive_id: 'd1',
    item_id: 'i1',
    item_type: 'File',
    file_name: 'a.docx',
    extension: 'docx',
    target_name: null,
    target_type: null,
    link_scope: null,
    content_id: 'c1',
    raw: { Id: id, nested: { a: 1 } },
    ...extra,
  };
}

for (const dialect of testDialects()) {
  describe(`audit store (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
    });
    after(async () => cleanup());

    test('an event is stored once per Id, whatever serves it again', async () => {
      const rows = [event('e1', '2026-01-01T10:00:00.000Z'), event('e2', '2026-01-01T10:01:00.000Z')];
      const now = '2026-01-02T00:00:00.000Z';
      assert.equal(await insertAuditEvents(store.db, store.dialect, 'int-a', rows, now), 2);
      const again = [event('e2', '2026-01-01T10:01:00.000Z'), event('e3', '2026-01-01T10:02:00.000Z')];
      assert.equal(await insertAuditEvents(store.db, store.dialect, 'int-a', again, now), 1);
      assert.equal(
        await insertAuditEvents(store.db, store.dialect, 'int-b', rows, now),
        2,
        'per integration',
      );
      const stored = await store.db
        .selectFrom('audit_events')
        .select(['id', 'time', 'raw'])
        .where('integration_id', '=', 'int-a')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        stored.map((r) => r.id),
        ['e1', 'e2', 'e3'],
      );
      assert.equal(stored[0].time, '2026-01-01T10:00:00.000Z');
      const raw = typeof stored[0].raw === 'string' ? JSON.parse(stored[0].raw) : stored[0].raw;
      assert.deepEqual(raw, { Id: 'e1', nested: { a: 1 } });
    });

    test('content read once, feed state kept, retention prunes by time', async () => {
      await recordContentRead(
        store.db,
        'int-c',
        [
          {
            contentId: 'b1',
            contentType: 'Audit.SharePoint',
            contentCreated: '2026-01-01T00:00:00.000Z',
            events: 3,
          },
        ],
        '2026-01-01T00:00:05.000Z',
      );
      assert.deepEqual([...(await readContentIds(store.db, 'int-c', ['b1', 'b2']))], ['b1']);
      await putAuditFeed(store.db, 'int-c', 'Audit.SharePoint', {
        subscribed_at: '2026-01-01T00:00:00.000Z',
      });
      await putAuditFeed(store.db, 'int-c', 'Audit.SharePoint', { listed_until: '2026-01-02T00:00:00.000Z' });
      const feed = await getAuditFeed(store.db, 'int-c', 'Audit.SharePoint');
      assert.equal(feed?.subscribed_at, '2026-01-01T00:00:00.000Z');
      assert.equal(feed?.listed_until, '2026-01-02T00:00:00.000Z');

      await insertAuditEvents(
        store.db,
        store.dialect,
        'int-c',
        [event('old', '2025-01-01T00:00:00.000Z'), event('new', '2026-01-01T00:00:00.000Z')],
        '2026-01-02T00:00:00.000Z',
      );
      assert.deepEqual(await auditSummary(store.db, 'int-c'), {
        listedUntil: '2026-01-02T00:00:00.000Z',
        events: 2,
        newest: '2026-01-01T00:00:00.000Z',
      });
      const pruned = await pruneAudit(
        store.db,
        'int-c',
        '2025-06-01T00:00:00.000Z',
        '2026-01-01T12:00:00.000Z',
      );
      assert.deepEqual(pruned, { events: 1, content: 1 });
      const left = await store.db
        .selectFrom('audit_events')
        .select('id')
        .where('integration_id', '=', 'int-c')
        .execute();
      assert.deepEqual(
        left.map((r) => r.id),
        ['new'],
      );
    });
  });
}
