import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { simCredentials } from '../../../../sim/connection.ts';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { startTestSim, type TestSim } from '../../../../test/support/simulator.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { syncIntegration } from '../../../collect/sync.ts';
import { type AuditEventInsert, insertAuditEvents } from '../../../store/audit.ts';

interface Event {
  integrationId: string;
  id: string;
  time: string;
  operation: string;
  actor: string | null;
  clientIp: string | null;
  itemId: string | null;
}

const T0 = Date.parse('2026-03-02T09:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function event(
  id: string,
  time: string,
  operation: string,
  actor: string,
  ip: string,
  extra: Partial<AuditEventInsert> = {},
): AuditEventInsert {
  return {
    id,
    time,
    operation,
    record_type: 6,
    workload: 'OneDrive',
    actor_upn: actor,
    actor_id: null,
    actor_type: 'regular',
    client_ip: ip,
    user_agent: null,
    object_url: null,
    site_url: null,
    drive_id: null,
    item_id: null,
    item_type: 'File',
    file_name: null,
    extension: null,
    target_name: null,
    target_type: null,
    link_scope: null,
    content_id: null,
    raw: { Id: id },
    ...extra,
  };
}

for (const dialect of testDialects()) {
  describe(`activity API (${dialect})`, () => {
    let sim: TestSim;
    let api: TestApi;
    let main = '';
    let other = '';
    let item: { drive_id: string; id: string; web_url: string | null; name: string };
    let total = 0;

    /** Every page of a list, following nextCursor. */
    const all = async (path: string, limit: number): Promise<{ items: Event[]; pages: number }> => {
      const items: Event[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const sep = path.includes('?') ? '&' : '?';
        const res: { status: number; text: string; body: { items: Event[]; nextCursor: string | null } } =
          await api.viewer.get(
            `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
          );
        assert.equal(res.status, 200, res.text);
        assert.ok(res.body.items.length <= limit);
        items.push(...res.body.items);
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      return { items, pages };
    };

    before(async () => {
      sim = await startTestSim({ users: 4, items: 40 });
      api = await startTestApi({ dialect });
      main = (await api.app.integrations.create({ name: 'main', ...simCredentials(sim.sim) })).id;
      other = (await api.app.integrations.create({ name: 'other', ...simCredentials(sim.sim) })).id;
      const stored = await api.app.integrations.getWithCredentials(main);
      const client = api.app.graphClientFor(stored);
      try {
        await syncIntegration(
          { store: api.app.store, client, integration: stored, concurrency: 2 },
          { mode: 'full' },
        );
      } finally {
        await client.close();
      }
      item = (await api.app.store.db
        .selectFrom('drive_items')
        .select(['drive_id', 'id', 'web_url', 'name'])
        .where('integration_id', '=', main)
        .where(sql<boolean>`is_folder = false`)
        .where('web_url', 'is not', null)
        .orderBy('id')
        .executeTakeFirstOrThrow()) as typeof item;
      const onItem = {
        drive_id: item.drive_id,
        item_id: item.id,
        object_url: item.web_url,
        file_name: item.name,
      };
      const rows: AuditEventInsert[] = [];
      // Alice: 20 events on the item, two per minute at the same time (ties on time), 5 of them downloads.
      for (let i = 0; i < 20; i++)
        rows.push(
          event(
            `a-${String(i).padStart(2, '0')}`,
            at(Math.floor(i / 2)),
            i % 4 === 0 ? 'FileDownloaded' : 'FileAccessed',
            'alice@contoso.test',
            '198.51.100.10',
            onItem,
          ),
        );
      // Bob: 8 sharing events elsewhere, from another address.
      for (let i = 0; i < 8; i++)
        rows.push(
          event(`b-${i}`, at(30 + i), 'SharingSet', 'bob@contoso.test', '192.0.2.7', {
            target_name: 'x@example.com',
          }),
        );
      // Carol: 4 events naming the item's URL only (not resolved at ingest).
      for (let i = 0; i < 4; i++)
        rows.push(
          event(`c-${i}`, at(40 + i), 'FilePreviewed', 'carol@contoso.test', '100.64.1.2', {
            object_url: item.web_url,
          }),
        );
      await insertAuditEvents(api.app.store.db, dialect, main, rows, at(60));
      // The other integration: Alice again (another tenant's Alice, same UPN), 3 events.
      await insertAuditEvents(
        api.app.store.db,
        dialect,
        other,
        [0, 1, 2].map((i) =>
          event(`o-${i}`, at(50 + i), 'FileAccessed', 'alice@contoso.test', '203.0.113.9'),
        ),
        at(60),
      );
      total = rows.length + 3;
    });
    after(async () => {
      await api?.close();
      await sim?.close();
    });

    test('anonymous callers get 401', async () => {
      for (const path of [
        '/api/v1/activity/events',
        '/api/v1/activity/users/alice@contoso.test',
        `/api/v1/activity/items/${main}/${item.id}`,
      ])
        assert.equal((await api.anon.get(path)).status, 401, path);
    });

    test('events: newest first, paged by cursor without gaps or repeats, across integrations', async () => {
      const { items, pages } = await all('/api/v1/activity/events', 7);
      assert.equal(items.length, total);
      assert.equal(pages, Math.ceil(total / 7));
      assert.equal(new Set(items.map((e) => `${e.integrationId}/${e.id}`)).size, total);
      for (let i = 1; i < items.length; i++) assert.ok(items[i - 1].time >= items[i].time, `order at ${i}`);
      assert.equal(items[0].id, 'o-2');
      const oldest = await all('/api/v1/activity/events?sort=time', 5);
      assert.deepEqual(
        oldest.items.map((e) => e.id),
        [...items].reverse().map((e) => e.id),
        'ascending is the exact reverse (ties broken by integration and id)',
      );
    });

    test('events: filters by operation, actor (any case), client IP, time window and integration', async () => {
      const downloads = await all('/api/v1/activity/events?operation=FileDownloaded', 50);
      assert.equal(downloads.items.length, 5);
      assert.ok(downloads.items.every((e) => e.operation === 'FileDownloaded'));
      const two = await all('/api/v1/activity/events?operation=FileDownloaded,SharingSet', 50);
      assert.equal(two.items.length, 13);
      const alice = await all('/api/v1/activity/events?actor=Alice@Contoso.test', 50);
      assert.equal(alice.items.length, 23);
      assert.ok(alice.items.every((e) => e.actor === 'alice@contoso.test'));
      const bobIp = await all('/api/v1/activity/events?ip=192.0.2.7', 50);
      assert.deepEqual(new Set(bobIp.items.map((e) => e.actor)), new Set(['bob@contoso.test']));
      assert.equal(bobIp.items.length, 8);
      const window = await all(
        `/api/v1/activity/events?from=${encodeURIComponent(at(30))}&to=${encodeURIComponent('2026-03-02T10:35:00+01:00')}`,
        50,
      );
      assert.deepEqual(
        window.items.map((e) => e.id),
        ['b-4', 'b-3', 'b-2', 'b-1', 'b-0'],
      );
      const onlyOther = await all(`/api/v1/activity/events?integrationId=${other}`, 50);
      assert.equal(onlyOther.items.length, 3);
      const none = await all('/api/v1/activity/events?actor=nobody@contoso.test', 50);
      assert.equal(none.items.length, 0);
    });

    test('events: bad filters are refused naming the field', async () => {
      const from = await api.viewer.get('/api/v1/activity/events?from=yesterday');
      assert.equal(from.status, 400);
      assert.match(from.body.error.message, /from/);
      const op = await api.viewer.get(
        `/api/v1/activity/events?operation=${encodeURIComponent('File Accessed')}`,
      );
      assert.equal(op.status, 400);
      assert.match(op.body.error.message, /operation/);
      const sort = await api.viewer.get('/api/v1/activity/events?sort=size');
      assert.equal(sort.status, 400);
      assert.match(sort.body.error.message, /sort/);
      const cursor = await api.viewer.get('/api/v1/activity/events?cursor=bm9wZQ');
      assert.equal(cursor.status, 400);
      assert.match(cursor.body.error.message, /cursor/);
    });

    test("a user's timeline: their events only, paged, per integration when asked", async () => {
      const everywhere = await all('/api/v1/activity/users/ALICE@contoso.test', 6);
      assert.equal(everywhere.items.length, 23);
      assert.equal(everywhere.pages, 4);
      const here = await all(
        `/api/v1/activity/users/alice@contoso.test?integrationId=${main}&operation=FileDownloaded`,
        2,
      );
      assert.deepEqual(
        here.items.map((e) => e.id),
        ['a-16', 'a-12', 'a-08', 'a-04', 'a-00'],
      );
      assert.equal(here.pages, 3);
    });

    test("an item's access history: events resolved to it and those naming its URL", async () => {
      const res = await api.viewer.get(
        `/api/v1/activity/items/${main}/${encodeURIComponent(item.id)}?limit=3`,
      );
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.item.id, item.id);
      assert.equal(res.body.item.driveId, item.drive_id);
      assert.equal(res.body.item.name, item.name);
      const { items } = await all(`/api/v1/activity/items/${main}/${encodeURIComponent(item.id)}`, 9);
      assert.equal(items.length, 24);
      assert.deepEqual(
        new Set(items.map((e) => e.actor)),
        new Set(['alice@contoso.test', 'carol@contoso.test']),
      );
      assert.equal(items[0].id, 'c-3');
      const previews = await all(
        `/api/v1/activity/items/${main}/${encodeURIComponent(item.id)}?operation=FilePreviewed`,
        9,
      );
      assert.equal(previews.items.length, 4);
      assert.equal((await api.viewer.get(`/api/v1/activity/items/${main}/no-such-item`)).status, 404);
      assert.equal(
        (await api.viewer.get(`/api/v1/activity/items/${other}/${encodeURIComponent(item.id)}`)).status,
        404,
      );
    });
  });
}
