import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { driveItem, type GraphDriveItem } from '../resources/drive-item.ts';
import { resources, STANDARD_COLUMNS } from '../resources/index.ts';
import { type GraphPermission, permission } from '../resources/permission.ts';
import type { ResourceDef, ResourceType, RowContext } from '../resources/types.ts';
import { type GraphUser, user } from '../resources/user.ts';
import { SecretBox } from '../util/secret-box.ts';
import {
  type ApplyContext,
  type ChangeSource,
  removeRows,
  replaceScope,
  sweepScope,
  upsertRows,
} from './apply.ts';
import { decodeRow } from './codec.ts';
import { IntegrationRepository } from './integrations.ts';
import { applyItemsPage, applyPermissionSet } from './items.ts';
import type { Store } from './store.ts';
import {
  getSyncState,
  listSyncErrors,
  putSyncState,
  recordSyncError,
  resolveSyncErrors,
} from './sync-state.ts';

const INTEGRATION = 'int-1';
const TENANT = 'tenant-1';
const DRIVE = 'drive-1';
const rowCtx = (scope?: Record<string, string>): RowContext => ({
  integrationId: INTEGRATION,
  tenantId: TENANT,
  verifiedDomains: ['contoso.test'],
  scope,
});

// biome-ignore lint/suspicious/noExplicitAny: tests use the untyped builder for brevity
const anyDef = (d: ResourceDef<any>) => d as ResourceDef<unknown>;

let clock = Date.parse('2025-01-01T00:00:00.000Z');
function ctxOf(store: Store, db = store.db, source: ChangeSource = 'full'): ApplyContext {
  clock += 1000;
  return {
    db,
    dialect: store.dialect,
    integrationId: INTEGRATION,
    tenantId: TENANT,
    source,
    now: new Date(clock).toISOString(),
  };
}

function graphUser(id: string, extra: Partial<GraphUser> = {}): GraphUser {
  return {
    id,
    userPrincipalName: `${id}@contoso.test`,
    displayName: `User ${id}`,
    accountEnabled: true,
    userType: 'Member',
    ...extra,
  } as GraphUser;
}

function item(
  id: string,
  parentId: string | null,
  name: string,
  extra: Record<string, unknown> = {},
): GraphDriveItem {
  return {
    id,
    name,
    parentReference: parentId ? { id: parentId, driveId: DRIVE } : undefined,
    ...(parentId === null ? { root: {}, folder: { childCount: 0 } } : {}),
    lastModifiedBy: { user: { id: 'u1', email: 'Alice@contoso.test', displayName: 'Alice' } },
    ...extra,
  } as GraphDriveItem;
}
const folder = (id: string, parentId: string, name: string) =>
  item(id, parentId, name, { folder: { childCount: 1 } });
const file = (id: string, parentId: string, name: string, size = 10) =>
  item(id, parentId, name, { file: { mimeType: 'text/plain' }, size });

const itemRow = (g: GraphDriveItem) => driveItem.toRow(g, rowCtx({ drive_id: DRIVE }));
const entries = (...items: Array<GraphDriveItem | string>) =>
  items.map((x) => (typeof x === 'string' ? { id: x } : { id: x.id, row: itemRow(x) }));

async function paths(store: Store, live = true): Promise<Record<string, string | null>> {
  let q = store.db
    .selectFrom('drive_items')
    .select(['id', 'path'])
    .where('integration_id', '=', INTEGRATION)
    .where('drive_id', '=', DRIVE);
  if (live) q = q.where('deleted_at', 'is', null);
  const rows = await q.execute();
  return Object.fromEntries(rows.map((r) => [r.id, r.path]));
}

async function history(store: Store, resourceType?: ResourceType) {
  let q = store.db.selectFrom('changes').selectAll().orderBy('id');
  if (resourceType) q = q.where('resource_type', '=', resourceType);
  const rows = await q.execute();
  return rows.map((r) =>
    decodeRow({ fields: { kind: 'json' }, before: { kind: 'json' }, after: { kind: 'json' } }, r as never),
  ) as Array<{
    resource_type: string;
    resource_id: string;
    change_type: string;
    fields: string[];
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    actor: string | null;
    source: string;
    drive_id: string | null;
    item_id: string | null;
  }>;
}

for (const dialect of testDialects()) {
  describe(`store on ${dialect}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
    });
    after(async () => {
      await cleanup();
    });
    const reset = async () => {
      for (const t of ['changes', 'users', 'drive_items', 'permissions', 'sync_errors', 'sync_state']) {
        await sql`delete from ${sql.table(t)}`.execute(store.db);
      }
    };

    test('migrations create every resource table with exactly the documented columns', async () => {
      for (const def of resources) {
        const cols =
          dialect === 'postgres'
            ? (
                await sql<{ name: string }>`select column_name as name from information_schema.columns
                  where table_schema = current_schema() and table_name = ${def.table}`.execute(store.db)
              ).rows
            : (
                await sql<{ name: string }>`select name from pragma_table_info(${def.table})`.execute(
                  store.db,
                )
              ).rows;
        const actual = cols.map((c) => c.name).sort();
        const expected = [
          ...new Set([...Object.keys(STANDARD_COLUMNS), ...def.key, ...Object.keys(def.columns)]),
        ].sort();
        assert.deepEqual(actual, expected, `${def.table} columns`);
        for (const [name, c] of Object.entries(def.columns))
          assert.ok(c.description.length >= 4, `${name} described`);
      }
    });

    test('upsert writes added, then nothing for an unchanged re-read, then modified with fields', async () => {
      await reset();
      const u = anyDef(user);
      const r1 = await upsertRows(ctxOf(store), u, [
        user.toRow(graphUser('a'), rowCtx()),
        user.toRow(graphUser('b'), rowCtx()),
      ]);
      assert.deepEqual(
        r1.changes.map((c) => [c.id, c.changeType]),
        [
          ['a', 'added'],
          ['b', 'added'],
        ],
      );
      const seen1 = await store.db
        .selectFrom('users')
        .select(['id', 'last_seen', 'first_seen'])
        .orderBy('id')
        .execute();

      const r2 = await upsertRows(ctxOf(store), u, [
        user.toRow(graphUser('a'), rowCtx()),
        user.toRow(
          graphUser('b', { signInActivity: { lastSignInDateTime: '2025-01-02T00:00:00Z' } }),
          rowCtx(),
        ),
      ]);
      assert.equal(r2.changes.length, 0, 'unchanged re-read and a volatile-only change write no history');
      const seen2 = await store.db
        .selectFrom('users')
        .select(['id', 'last_seen', 'first_seen', 'sign_in_last'])
        .orderBy('id')
        .execute();
      assert.ok(seen2[0].last_seen > seen1[0].last_seen, 'last_seen bumped');
      assert.equal(seen2[0].first_seen, seen1[0].first_seen, 'first_seen kept');
      assert.equal(seen2[1].sign_in_last, '2025-01-02T00:00:00.000Z', 'volatile column still updated');

      const r3 = await upsertRows(ctxOf(store, store.db, 'delta'), u, [
        user.toRow(graphUser('a', { accountEnabled: false, displayName: 'Renamed' }), rowCtx()),
      ]);
      assert.equal(r3.changes.length, 1);
      const h = await history(store, 'user');
      assert.equal(h.length, 3);
      const mod = h[2];
      assert.equal(mod.change_type, 'modified');
      assert.deepEqual(mod.fields.sort(), ['account_enabled', 'display_name']);
      assert.deepEqual(mod.before, { account_enabled: true, display_name: 'User a' });
      assert.deepEqual(mod.after, { account_enabled: false, display_name: 'Renamed' });
      assert.equal(mod.source, 'delta');

      const row = await store.db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', 'a')
        .executeTakeFirstOrThrow();
      const decoded = decodeRow(user.columns, row as never);
      assert.equal(decoded.account_enabled, false);
      assert.deepEqual(decoded.assigned_licenses, []);
    });

    test('remove tombstones once, a returning row is added again', async () => {
      await reset();
      const u = anyDef(user);
      await upsertRows(ctxOf(store), u, [user.toRow(graphUser('a'), rowCtx())]);
      const rm = await removeRows(ctxOf(store), u, {}, ['a', 'unknown']);
      assert.deepEqual(
        rm.map((c) => [c.id, c.changeType]),
        [['a', 'removed']],
      );
      assert.equal((await removeRows(ctxOf(store), u, {}, ['a'])).length, 0, 'second removal is a no-op');
      const row = await store.db.selectFrom('users').select('deleted_at').executeTakeFirstOrThrow();
      assert.ok(row.deleted_at);
      const back = await upsertRows(ctxOf(store), u, [user.toRow(graphUser('a'), rowCtx())]);
      assert.equal(back.changes[0].changeType, 'added');
      const row2 = await store.db.selectFrom('users').select('deleted_at').executeTakeFirstOrThrow();
      assert.equal(row2.deleted_at, null);
      assert.deepEqual(
        (await history(store)).map((c) => c.change_type),
        ['added', 'removed', 'added'],
      );
    });

    test('scoped set replace adds, modifies and removes inside the scope only', async () => {
      await reset();
      const p = anyDef(permission);
      const perm = (id: string, extra: Partial<GraphPermission> = {}): GraphPermission =>
        ({
          id,
          roles: ['read'],
          grantedToV2: { user: { id: 'x', email: 'bob@contoso.test' } },
          ...extra,
        }) as GraphPermission;
      const rows = (itemId: string, ps: GraphPermission[]) =>
        ps.map((x) => permission.toRow(x, rowCtx({ drive_id: DRIVE, item_id: itemId })));
      await replaceScope(
        ctxOf(store),
        p,
        { drive_id: DRIVE, item_id: 'i1' },
        rows('i1', [perm('p1'), perm('p2')]),
      );
      await replaceScope(ctxOf(store), p, { drive_id: DRIVE, item_id: 'i2' }, rows('i2', [perm('p1')]));
      const changes = await replaceScope(
        ctxOf(store),
        p,
        { drive_id: DRIVE, item_id: 'i1' },
        rows('i1', [
          perm('p1', { roles: ['write'] }),
          perm('p3', { link: { type: 'view', scope: 'anonymous' }, grantedToV2: null }),
        ]),
      );
      assert.deepEqual(changes.map((c) => [c.id, c.changeType]).sort(), [
        ['p1', 'modified'],
        ['p2', 'removed'],
        ['p3', 'added'],
      ]);
      const live = await store.db
        .selectFrom('permissions')
        .select(['item_id', 'id', 'link_scope', 'recipient_kind'])
        .where('deleted_at', 'is', null)
        .orderBy('item_id')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        live.map((r) => `${r.item_id}/${r.id}/${r.link_scope}/${r.recipient_kind}`),
        ['i1/p1/null/user', 'i1/p3/anonymous/link', 'i2/p1/null/user'],
      );
      const h = await history(store, 'permission');
      assert.ok(h.every((c) => c.drive_id === DRIVE && c.item_id !== null));
      assert.equal((await applyPermissionSet(ctxOf(store), DRIVE, 'i1', [])).length, 2, 'emptied set');
    });

    test('sweep removes what a fresh enumeration did not see', async () => {
      await reset();
      const u = anyDef(user);
      await upsertRows(
        ctxOf(store),
        u,
        ['a', 'b', 'c'].map((id) => user.toRow(graphUser(id), rowCtx())),
      );
      const start = ctxOf(store).now;
      await upsertRows(
        ctxOf(store, store.db, 'resync'),
        u,
        ['a', 'c'].map((id) => user.toRow(graphUser(id), rowCtx())),
      );
      const swept = await sweepScope(ctxOf(store, store.db, 'resync'), u, {}, start);
      assert.deepEqual(
        swept.map((c) => [c.id, c.changeType]),
        [['b', 'removed']],
      );
      const h = await history(store);
      assert.equal(h.at(-1)?.source, 'resync');
    });

    test('paths: children before parents, repeats, renames and moves of subtrees, deletes', async () => {
      await reset();
      const tx = async (...xs: Array<GraphDriveItem | string>) =>
        store.db
          .transaction()
          .execute((trx) => applyItemsPage(ctxOf(store, trx), { driveId: DRIVE, entries: entries(...xs) }));

      // Page 1: grandchildren and children before their parents; root last.
      await tx(file('f1', 'b', 'deep 100%_x.txt'), folder('b', 'a', 'B'), file('f0', 'a', 'a.txt'));
      assert.deepEqual(await paths(store), { f1: null, b: null, f0: null });
      await tx(folder('a', 'root', 'A'), item('root', null, 'root'));
      assert.deepEqual(await paths(store), {
        root: '/',
        a: '/A',
        b: '/A/B',
        f0: '/A/a.txt',
        f1: '/A/B/deep 100%_x.txt',
      });
      // An item appearing twice in one page: the last occurrence wins.
      await tx(file('f0', 'a', 'first.txt'), file('f0', 'a', 'second.txt'));
      assert.equal((await paths(store)).f0, '/A/second.txt');

      // Sibling with a shared prefix must not be touched by the rename of A.
      await tx(
        folder('ab', 'root', 'A B'),
        file('g', 'ab', 'g.txt'),
        folder('a2', 'root', 'A0'),
        file('h', 'a2', 'h'),
      );
      // Rename A → Z and, in the same page, rename its subfolder B → Y.
      await tx(folder('b', 'a', 'Y'), folder('a', 'root', 'Z'));
      assert.deepEqual(await paths(store), {
        root: '/',
        a: '/Z',
        b: '/Z/Y',
        f0: '/Z/second.txt',
        f1: '/Z/Y/deep 100%_x.txt',
        ab: '/A B',
        g: '/A B/g.txt',
        a2: '/A0',
        h: '/A0/h',
      });
      // Move Y under "A B".
      await tx(folder('b', 'ab', 'Y'));
      assert.equal((await paths(store)).f1, '/A B/Y/deep 100%_x.txt');
      // A move under an unknown parent leaves the subtree waiting, then the parent arrives.
      await tx(folder('b', 'later', 'Y'));
      assert.equal((await paths(store)).f1, null);
      await tx(folder('later', 'root', 'Later'));
      assert.equal((await paths(store)).f1, '/Later/Y/deep 100%_x.txt');

      // Permissions on an item inside the subtree that gets deleted.
      await store.db
        .transaction()
        .execute((trx) =>
          applyPermissionSet(ctxOf(store, trx), DRIVE, 'f1', [
            permission.toRow(
              { id: 'p', roles: ['read'], link: { scope: 'anonymous', type: 'view' } } as GraphPermission,
              rowCtx({ drive_id: DRIVE, item_id: 'f1' }),
            ),
          ]),
        );
      const removed = await tx('later');
      assert.deepEqual(removed.map((c) => `${c.resourceType}:${c.id}:${c.changeType}`).sort(), [
        'drive_item:b:removed',
        'drive_item:f1:removed',
        'drive_item:later:removed',
        'permission:p:removed',
      ]);
      assert.deepEqual(Object.keys(await paths(store)).sort(), ['a', 'a2', 'ab', 'f0', 'g', 'h', 'root']);
      // Deleting again (the feed repeats deletions) writes nothing.
      assert.equal((await tx('later', 'b')).length, 0);
      const h = await history(store, 'drive_item');
      assert.equal(h.filter((c) => c.change_type === 'removed').length, 3);
      const renamed = h.find((c) => c.resource_id === 'a' && c.change_type === 'modified');
      assert.deepEqual(renamed?.fields.sort(), ['name', 'path']);
      assert.equal(renamed?.actor, 'alice@contoso.test');
    });

    test('sync state checkpoints and errors (deduplicated, resolved)', async () => {
      await reset();
      await putSyncState(store.db, INTEGRATION, 'drive:1', {
        phase: 'enumerating',
        nextLink: 'https://x/next',
      });
      await putSyncState(store.db, INTEGRATION, 'drive:1', {
        phase: 'idle',
        nextLink: null,
        deltaLink: 'https://x/d',
      });
      const s = await getSyncState(store.db, INTEGRATION, 'drive:1');
      assert.equal(s?.phase, 'idle');
      assert.equal(s?.nextLink, null);
      assert.equal(s?.deltaLink, 'https://x/d');
      const e = {
        integrationId: INTEGRATION,
        resourceType: 'signInActivity' as const,
        code: 'accessDenied',
        message: 'no',
        requestId: 'r1',
      };
      await recordSyncError(store.db, e);
      await recordSyncError(store.db, { ...e, requestId: 'r2' });
      await recordSyncError(store.db, {
        ...e,
        resourceType: 'drive_item',
        resourceId: 'i1',
        code: 'invalidPayload',
      });
      const open = await listSyncErrors(store.db, INTEGRATION, { open: true });
      assert.equal(open.length, 2);
      assert.equal(open[0].count, 2);
      assert.equal(open[0].request_id, 'r2');
      assert.equal(await resolveSyncErrors(store.db, INTEGRATION, 'signInActivity'), 1);
      assert.equal((await listSyncErrors(store.db, INTEGRATION, { open: true })).length, 1);
      // Type-wide: the whole type's 403, never an unreadable entry that had no id.
      const denied = { integrationId: INTEGRATION, resourceType: 'user' as const, message: 'no' };
      await recordSyncError(store.db, { ...denied, code: 'Authorization_RequestDenied' });
      await recordSyncError(store.db, { ...denied, code: 'invalidPayload' });
      await recordSyncError(store.db, { ...denied, resourceId: 'u1', code: 'Authorization_RequestDenied' });
      assert.equal(await resolveSyncErrors(store.db, INTEGRATION, 'user', { onlyTypeWide: true }), 1);
      const left = await listSyncErrors(store.db, INTEGRATION, { open: true, resourceType: 'user' });
      assert.deepEqual(
        left.map((e) => [e.resource_id, e.code]),
        [
          [null, 'invalidPayload'],
          ['u1', 'Authorization_RequestDenied'],
        ],
      );
    });

    test('integrations: secrets sealed, never listed; delete purges every table', async () => {
      await reset();
      const box = SecretBox.fromKey(Buffer.alloc(32, 7).toString('base64'));
      const repo = new IntegrationRepository(store, box);
      await assert.rejects(repo.create({ tenantId: 't', clientId: 'c' }), /client secret or a certificate/);
      const created = await repo.create({
        name: 'acme',
        tenantId: 't',
        clientId: 'c',
        clientSecret: 'hunter2-secret',
      });
      await repo.create({ name: 'other', tenantId: 't2', clientId: 'c2', clientSecret: 's2' });
      await assert.rejects(
        repo.create({ name: 'acme', tenantId: 't', clientId: 'c', clientSecret: 'x' }),
        /already exists/,
      );
      const listed = await repo.list();
      assert.equal(listed.length, 2);
      assert.ok(!JSON.stringify(listed).includes('hunter2'), 'list never carries secrets');
      const raw = await store.db
        .selectFrom('integrations')
        .selectAll()
        .where('name', '=', 'acme')
        .executeTakeFirstOrThrow();
      assert.ok(raw.secret_enc?.startsWith('v1:') && !raw.secret_enc.includes('hunter2'));
      const full = await repo.getWithCredentials('acme');
      assert.equal(full.clientOptions.clientSecret, 'hunter2-secret');
      await repo.setEnabled('acme', false);
      assert.equal((await repo.get(created.id))?.enabled, false);
      await repo.setProbe('acme', { users: 'granted', signInActivity: 'missing' });
      assert.deepEqual((await repo.get('acme'))?.probe, { users: 'granted', signInActivity: 'missing' });

      // Rows of both integrations everywhere.
      for (const integrationId of [created.id, 'keep']) {
        const c = { ...ctxOf(store), integrationId };
        await upsertRows(c, anyDef(user), [
          { ...user.toRow(graphUser('u'), rowCtx()), integration_id: integrationId },
        ]);
        await putSyncState(store.db, integrationId, 'users', { phase: 'idle' });
        await recordSyncError(store.db, { integrationId, resourceType: 'user', code: 'x', message: 'y' });
      }
      const counts = await repo.delete('acme');
      assert.equal(counts.users, 1);
      assert.equal(counts.changes, 1);
      assert.equal(counts.sync_state, 1);
      assert.equal(counts.sync_errors, 1);
      assert.equal(await repo.get('acme'), undefined);
      const left = await store.db.selectFrom('users').select('integration_id').execute();
      assert.deepEqual(
        left.map((r) => r.integration_id),
        ['keep'],
      );
      assert.equal((await store.db.selectFrom('changes').select('id').execute()).length, 1);
    });

    test('bulk apply: every item row gets exactly one history record', async () => {
      await reset();
      const n = dialect === 'sqlite' ? 20_000 : 5_000;
      const pageSize = 500;
      const started = performance.now();
      const folders = 50;
      for (let p = 0; p * pageSize < n; p++) {
        const xs: GraphDriveItem[] = [];
        if (p === 0) {
          xs.push(item('root', null, 'root'));
          for (let f = 0; f < folders; f++) xs.push(folder(`d${f}`, 'root', `Folder ${f}`));
        }
        for (let i = p * pageSize; i < Math.min(n, (p + 1) * pageSize); i++) {
          xs.push(file(`i${i}`, `d${i % folders}`, `file-${i}.docx`, i));
        }
        await store.db
          .transaction()
          .execute((trx) => applyItemsPage(ctxOf(store, trx), { driveId: DRIVE, entries: entries(...xs) }));
      }
      const secs = (performance.now() - started) / 1000;
      const rate = Math.round(n / secs);
      console.log(
        `store throughput on ${dialect}: ${n} item rows with history in ${secs.toFixed(2)} s = ${rate} rows/s`,
      );
      const count = await store.db
        .selectFrom('changes')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), n + folders + 1);
    });
  });
}
