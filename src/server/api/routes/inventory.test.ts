import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { simClient, simContext } from '../../../../test/support/collector.ts';
import { registerIntegration } from '../../../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../../../test/support/simulator.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { syncIntegration } from '../../../collect/sync.ts';
import { evaluateIntegration } from '../../../rules/evaluate.ts';
import { loadBuiltinRules } from '../../../rules/loader.ts';
import { decodeValue } from '../../../store/codec.ts';
import { itemListQuerySchema } from './inventory/item-filters.ts';
import { itemSort, listItems } from './inventory/item-list.ts';

/**
 * The inventory API over a tenant collected from the simulator, both dialects. Expected rows
 * are computed in JavaScript from the tables (items, drives, grants) — not with the routes'
 * SQL — and every list is read whole by following nextCursor (no duplicate, no gap).
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON rows
type Row = any;
const INT = 'int-inv';

for (const dialect of testDialects()) {
  describe(`inventory API (${dialect})`, () => {
    let env: TestSim;
    let api: TestApi;
    let items: Row[] = [];
    let grants: Row[] = [];
    let drives: Row[] = [];

    /** Every row of a list, following nextCursor; asserts each page is within the limit. */
    async function all(path: string, limit = 37): Promise<Row[]> {
      const out: Row[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 500; pages++) {
        const sep = path.includes('?') ? '&' : '?';
        const url: string = `${path}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res: { status: number; text: string; body: Row } = await api.viewer.get(url);
        assert.equal(res.status, 200, `${url}: ${res.text}`);
        assert.ok(res.body.items.length <= limit);
        out.push(...res.body.items);
        cursor = res.body.nextCursor;
        if (cursor === null) return out;
      }
      throw new Error(`${path}: more than 500 pages`);
    }
    const keyOf = (r: Row) => `${r.integrationId ?? r.integration_id}/${r.driveId ?? r.drive_id}/${r.id}`;
    const sameSet = (got: Row[], want: Row[], what: string) => {
      const g = got.map(keyOf);
      assert.equal(new Set(g).size, g.length, `${what}: no duplicates`);
      assert.deepEqual([...g].sort(), want.map(keyOf).sort(), what);
    };
    const rootGrants = (i: Row) =>
      grants.filter((g) => g.drive_id === i.drive_id && g.item_id === i.access_root_id);

    before(async () => {
      env = await startTestSim({ seed: 7, users: 30, items: 400 });
      api = await startTestApi({ dialect });
      const db = api.app.store.db;
      await registerIntegration(db, dialect, INT, env.sim.tenantId);
      const client = simClient(env.sim);
      try {
        await syncIntegration(simContext(api.app.store, env.sim, client, INT), { mode: 'full' });
      } finally {
        await client.close();
      }
      await evaluateIntegration(api.app.store, {
        integrationId: INT,
        mode: 'full',
        rules: loadBuiltinRules(),
      });
      items = await db.selectFrom('drive_items').selectAll().where('deleted_at', 'is', null).execute();
      grants = await db.selectFrom('grants').selectAll().execute();
      drives = await db.selectFrom('drives').selectAll().where('deleted_at', 'is', null).execute();
      // Two recorded accesses, one old and one recent, for lastAccessedBefore.
      const files = items.filter((i) => !decodeValue('boolean', i.is_folder));
      for (const [n, at] of [
        [0, '2025-01-01T00:00:00.000Z'],
        [1, '2026-06-01T00:00:00.000Z'],
      ] as const)
        await db
          .insertInto('audit_events')
          .values({
            integration_id: INT,
            id: `ev-${n}`,
            time: at,
            operation: 'FileAccessed',
            drive_id: files[n].drive_id,
            item_id: files[n].id,
            observed_at: at,
          } as never)
          .execute();
    });
    after(async () => {
      await api?.close();
      await env?.close();
    });

    test('the tenant has what the filters need', () => {
      assert.ok(items.length > 300);
      for (const e of ['public', 'external', 'internal', 'private'])
        assert.ok(
          items.some((i) => i.exposure === e),
          `an item with exposure ${e}`,
        );
      assert.ok(grants.some((g) => g.audience === 'guest'));
    });

    test('anonymous callers are refused on every inventory route', async () => {
      for (const path of ['items', 'users', 'groups', 'drives', 'permissions', 'items/x/y', 'users/x/y']) {
        const res = await api.anon.get(`/api/v1/inventory/${path}`);
        assert.equal(res.status, 401, path);
      }
    });

    test('every sort pages through every live item once, in the database order of its keys', async () => {
      const db = api.app.store.db;
      for (const sort of ['name', '-name', 'size', '-size', 'modified', '-modified', 'path', '-path']) {
        const got = await all(`/api/v1/inventory/items?sort=${sort}`, 41);
        const s = itemSort(sort, dialect);
        const { rows } = await sql<Row>`select i.integration_id, i.drive_id, i.id from drive_items i
          where i.deleted_at is null order by ${sql.join(
            s.inner.map((k) => (k.dir === 'asc' ? sql`${k.expr} asc` : sql`${k.expr} desc`)),
          )}`.execute(db);
        assert.deepEqual(got.map(keyOf), rows.map(keyOf), `sort ${sort}`);
      }
    });

    test('filters return exactly the matching items', async () => {
      const file = (i: Row) => !decodeValue('boolean', i.is_folder);
      const owner = drives.find((d) => d.owner_email && items.some((i) => i.drive_id === d.id && file(i)));
      const guestDomain = grants.find(
        (g) => g.audience === 'external' && g.recipient_domain,
      )?.recipient_domain;
      const sizes = items.map((i) => Number(i.size ?? 0)).sort((a, b) => a - b);
      const mid = sizes[Math.floor(sizes.length / 2)];
      const times = items.map((i) => i.modified_at).sort();
      const midTime = times[Math.floor(times.length / 2)];
      const word = String(items.find((i) => file(i) && i.name.length > 4)?.name)
        .slice(1, 4)
        .toUpperCase();
      const cases: Array<[string, (i: Row) => boolean]> = [
        ['exposure=public', (i) => i.exposure === 'public'],
        ['exposure=external,internal', (i) => i.exposure === 'external' || i.exposure === 'internal'],
        ['folder=true', (i) => !file(i)],
        ['folder=false&extension=docx,PDF', (i) => file(i) && ['docx', 'pdf'].includes(i.extension)],
        [`minSize=${mid}`, (i) => i.size !== null && Number(i.size) >= mid],
        [`maxSize=${mid}&folder=false`, (i) => file(i) && i.size !== null && Number(i.size) <= mid],
        [
          `modifiedAfter=${encodeURIComponent(midTime)}`,
          (i) => i.modified_at !== null && i.modified_at >= midTime,
        ],
        [
          `modifiedBefore=${encodeURIComponent(midTime)}`,
          (i) => i.modified_at !== null && i.modified_at < midTime,
        ],
        ['linkScope=anonymous', (i) => rootGrants(i).some((g) => g.link_scope === 'anonymous')],
        [
          'linkScope=organization,users',
          (i) =>
            rootGrants(i).some(
              (g) => ['organization', 'users'].includes(g.link_scope) && !decodeValue('boolean', g.is_owner),
            ),
        ],
        ['guest=true', (i) => rootGrants(i).some((g) => g.audience === 'guest')],
        [
          'guest=false&exposure=external',
          (i) => i.exposure === 'external' && !rootGrants(i).some((g) => g.audience === 'guest'),
        ],
        [
          `outsideDomain=${guestDomain}`,
          (i) =>
            rootGrants(i).some(
              (g) => g.recipient_domain === guestDomain && ['external', 'guest'].includes(g.audience),
            ),
        ],
        [`owner=${encodeURIComponent(owner.owner_email.toUpperCase())}`, (i) => i.drive_id === owner.id],
        [`driveId=${encodeURIComponent(owner.id)}&integrationId=${INT}`, (i) => i.drive_id === owner.id],
        [
          `q=${encodeURIComponent(word)}`,
          (i) => (i.path ?? i.name).toLowerCase().includes(word.toLowerCase()),
        ],
        ['q=%25', (i) => (i.path ?? i.name).includes('%')],
        [
          'lastAccessedBefore=2026-01-01T00:00:00Z&folder=false',
          (i) => file(i) && !(i.id === files()[1].id && i.drive_id === files()[1].drive_id),
        ],
      ];
      function files() {
        return items.filter(file);
      }
      for (const [query, match] of cases) {
        const want = items.filter(match);
        const got = await all(`/api/v1/inventory/items?${query}`, 29);
        sameSet(got, want, query);
      }
      assert.ok(items.some((i) => i.exposure === 'public'));
    });

    test('rows carry owner, link scopes, permission count and last access', async () => {
      const got = await all('/api/v1/inventory/items?linkScope=anonymous', 100);
      assert.ok(got.length > 0);
      for (const r of got) {
        const item = items.find((i) => i.id === r.id && i.drive_id === r.driveId);
        const drive = drives.find((d) => d.id === r.driveId);
        assert.equal(r.owner, drive.owner_email);
        assert.ok(r.linkScopes.includes('anonymous'));
        const perms = new Set(
          rootGrants(item)
            .filter((g) => !decodeValue('boolean', g.is_owner))
            .map((g) => g.permission_id),
        );
        assert.equal(r.permissionCount, perms.size);
        assert.equal(r.exposure, 'public');
      }
      const accessed = await api.viewer.get('/api/v1/inventory/items?limit=500&folder=false');
      const withAccess = accessed.body.items.filter((r: Row) => r.lastAccessedAt !== null);
      assert.ok(withAccess.length <= 2);
    });

    test('a page examines a bounded window: short pages continue through nextCursor to the same rows', async () => {
      const query = itemListQuerySchema.parse({ exposure: 'public,external', limit: '7' });
      const want = items.filter((i) => i.exposure === 'public' || i.exposure === 'external');
      const got: Row[] = [];
      let cursor: string | undefined;
      let short = 0;
      for (let n = 0; n < 1000; n++) {
        // No time for a second window: each page examines one.
        const page = await listItems(
          api.app.store.db,
          dialect,
          { ...query, cursor },
          {
            window: 23,
            budgetMs: 0,
            ceilingMs: 0,
            gatherMax: 0,
          },
        );
        got.push(...page.items);
        if (page.nextCursor && page.items.length < 7) short++;
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      assert.ok(short > 0, 'some pages were short');
      sameSet(got, want, 'windowed listing');
    });

    test('with time left, a page goes on to further windows until it is full', async () => {
      const query = itemListQuerySchema.parse({ exposure: 'public,external', limit: '7' });
      const want = items.filter((i) => i.exposure === 'public' || i.exposure === 'external');
      const got: Row[] = [];
      let cursor: string | undefined;
      for (let n = 0; n < 1000; n++) {
        const page = await listItems(
          api.app.store.db,
          dialect,
          { ...query, cursor },
          {
            window: 23,
            budgetMs: 60_000,
            gatherMax: 0,
          },
        );
        got.push(...page.items);
        if (!page.nextCursor) break;
        assert.equal(page.items.length, 7, 'only the last page is short');
        cursor = page.nextCursor;
      }
      sameSet(got, want, 'listing over several windows');
    });

    test('bad input is refused naming the field', async () => {
      for (const [query, field] of [
        ['exposure=bogus', 'exposure'],
        ['sort=owner', 'sort'],
        ['minSize=-1', 'minSize'],
        ['modifiedAfter=yesterday', 'modifiedAfter'],
        ['folder=maybe', 'folder'],
        ['extension=%3Cb%3E', 'extension'],
        ['cursor=nonsense', 'cursor'],
        ['limit=0', 'limit'],
      ]) {
        const res = await api.viewer.get(`/api/v1/inventory/items?${query}`);
        assert.equal(res.status, 400, query);
        assert.equal(res.body.error.code, 'invalid_request');
        assert.match(res.body.error.message, new RegExp(field), query);
      }
      const sizeCursor = (await api.viewer.get('/api/v1/inventory/items?sort=size&limit=2')).body.nextCursor;
      const mixed = await api.viewer.get(`/api/v1/inventory/items?sort=path&cursor=${sizeCursor}`);
      assert.equal(
        mixed.status,
        200,
        'a cursor of another sort has the same arity: it is a position, not an error',
      );
    });

    test('an item: reach with groups expanded, permissions, sharing timeline, history, findings', async () => {
      const shared =
        items.find(
          (i) =>
            i.exposure === 'public' &&
            i.access_root_id === i.id &&
            rootGrants(i).some((g) => g.recipient_kind === 'group'),
        ) ?? items.find((i) => i.exposure === 'public' && i.access_root_id === i.id);
      assert.ok(shared, 'a public sharing root');
      const res = await api.viewer.get(`/api/v1/inventory/items/${INT}/${encodeURIComponent(shared.id)}`);
      assert.equal(res.status, 200, res.text);
      const d = res.body;
      assert.equal(d.item.id, shared.id);
      assert.equal(d.item.exposure, 'public');
      assert.ok(d.reach.accessors.some((a: Row) => a.kind === 'anyone' && a.via === 'anyone_link'));
      const groupGrant = rootGrants(shared).find((g) => g.recipient_kind === 'group');
      if (groupGrant)
        assert.ok(
          d.reach.accessors.some((a: Row) => a.via === 'group' && a.viaGroup.id === groupGrant.recipient_id),
        );
      const perms = new Set(rootGrants(shared).map((g) => g.permission_id));
      assert.deepEqual(new Set(d.permissions.map((p: Row) => p.id)), perms);
      assert.ok(
        d.sharingTimeline.length >= perms.size - 1,
        'one added entry per permission (owner included)',
      );
      assert.ok(d.sharingTimeline.every((t: Row) => t.action === 'added' && typeof t.summary === 'string'));
      assert.equal(d.history[0].action, 'added');
      assert.ok(d.history[0].fields.includes('name'));
      assert.ok(
        d.findings.some(
          (f: Row) => f.ruleId === 'permission_anonymous_link_absent' && f.status === 'open' && f.title,
        ),
        JSON.stringify(d.findings),
      );
      assert.equal(JSON.stringify(d).includes('link_web_url'), false);
      const missing = await api.viewer.get(`/api/v1/inventory/items/${INT}/nope`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'not_found');
    });

    test('users, groups, drives and permissions page through their tables; filters match', async () => {
      const db = api.app.store.db;
      const users = await db.selectFrom('users').selectAll().where('deleted_at', 'is', null).execute();
      const groups = await db.selectFrom('groups').selectAll().where('deleted_at', 'is', null).execute();
      const permissions = await db
        .selectFrom('permissions')
        .selectAll()
        .where('deleted_at', 'is', null)
        .execute();
      sameSet(await all('/api/v1/inventory/users', 7), users, 'users');
      sameSet(await all('/api/v1/inventory/users?sort=-upn', 7), users, 'users by upn');
      sameSet(
        await all('/api/v1/inventory/users?guest=true', 7),
        users.filter((u) => decodeValue('boolean', u.is_guest)),
        'guests',
      );
      const named = await all('/api/v1/inventory/users?sort=name', 7);
      const names = named.map((u) => u.displayName ?? '');
      const { rows: ordered } = await sql<Row>`select display_name from users where deleted_at is null
        order by coalesce(display_name, ''), integration_id, id`.execute(db);
      assert.deepEqual(
        names,
        ordered.map((r) => r.display_name ?? ''),
      );
      sameSet(await all('/api/v1/inventory/groups', 3), groups, 'groups');
      sameSet(await all('/api/v1/inventory/drives?sort=-used', 5), drives, 'drives');
      sameSet(
        (await all('/api/v1/inventory/permissions', 17)).map((p) => ({ ...p, id: `${p.itemId}/${p.id}` })),
        permissions.map((p) => ({ ...p, id: `${p.item_id}/${p.id}` })),
        'permissions',
      );
      sameSet(
        (await all('/api/v1/inventory/permissions?linkScope=anonymous&sort=-firstSeen', 5)).map((p) => ({
          ...p,
          id: `${p.itemId}/${p.id}`,
        })),
        permissions
          .filter((p) => p.link_scope === 'anonymous')
          .map((p) => ({ ...p, id: `${p.item_id}/${p.id}` })),
        'anonymous links',
      );
      const bad = await api.viewer.get('/api/v1/inventory/permissions?linkScope=everyone');
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /linkScope/);
    });

    test('details of a user, a group, a drive and a permission', async () => {
      const drive = drives.find((d) => d.owner_id);
      const u = await api.viewer.get(`/api/v1/inventory/users/${INT}/${encodeURIComponent(drive.owner_id)}`);
      assert.equal(u.status, 200, u.text);
      assert.deepEqual(
        u.body.drives.map((d: Row) => d.id),
        [drive.id],
      );
      assert.ok(u.body.reach.roots.some((r: Row) => r.via === 'owner' && r.driveId === drive.id));
      assert.equal(u.body.history[0].action, 'added');
      const group = await api.app.store.db
        .selectFrom('group_members')
        .select(['group_id'])
        .executeTakeFirstOrThrow();
      const members = await api.app.store.db
        .selectFrom('group_members')
        .select('id')
        .where('group_id', '=', group.group_id)
        .where('deleted_at', 'is', null)
        .execute();
      const g = await api.viewer.get(`/api/v1/inventory/groups/${INT}/${encodeURIComponent(group.group_id)}`);
      assert.equal(g.status, 200, g.text);
      assert.equal(g.body.group.memberCount, members.length);
      assert.deepEqual(new Set(g.body.members.map((m: Row) => m.id)), new Set(members.map((m) => m.id)));
      const dd = await api.viewer.get(`/api/v1/inventory/drives/${INT}/${encodeURIComponent(drive.id)}`);
      assert.equal(dd.status, 200, dd.text);
      const files = items.filter((i) => i.drive_id === drive.id && !decodeValue('boolean', i.is_folder));
      const counted = Object.values(dd.body.exposure as Record<string, { files: number }>).reduce(
        (n, e) => n + e.files,
        0,
      );
      assert.equal(counted, files.filter((i) => i.exposure !== null).length);
      const perm = grants.find((x) => !decodeValue('boolean', x.is_owner));
      const p = await api.viewer.get(
        `/api/v1/inventory/permissions/${INT}/${encodeURIComponent(perm.permission_id)}`,
      );
      assert.equal(p.status, 200, p.text);
      assert.ok(p.body.listedOn.some((l: Row) => l.itemId === perm.item_id));
      assert.equal((await api.viewer.get(`/api/v1/inventory/users/${INT}/nobody`)).status, 404);
    });

    if (dialect === 'sqlite')
      test("SQLite walks migration 0720's index for each sort, from the cursor", async () => {
        for (const [sort, index] of [
          ['name', 'drive_items_api_name'],
          ['-size', 'drive_items_api_size'],
          ['modified', 'drive_items_api_modified'],
          ['path', 'drive_items_api_path'],
        ]) {
          const s = itemSort(sort, 'sqlite');
          const { rows } = await sql<{ detail: string }>`explain query plan select i.id from drive_items i
            where i.deleted_at is null and ${s.inner[0].expr} >= ${'x'}
            order by ${sql.join(s.inner.map((k) => (k.dir === 'asc' ? sql`${k.expr} asc` : sql`${k.expr} desc`)))}
            limit 20`.execute(api.app.store.db);
          const plan = rows.map((r) => r.detail).join('\n');
          assert.match(plan, new RegExp(`USING INDEX ${index}`), `${sort}: ${plan}`);
          assert.doesNotMatch(plan, /TEMP B-TREE/, `${sort}: no sort step: ${plan}`);
        }
      });
  });
}
