import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import { Prng } from '../../sim/model/prng.ts';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { driveItem, type GraphDriveItem } from '../resources/drive-item.ts';
import type { Exposure } from '../resources/grant.ts';
import { type GraphPermission, permission } from '../resources/permission.ts';
import type { ResourceRow, RowContext } from '../resources/types.ts';
import { backfillAccess, pendingAccessSql, propagateAccessSql, rebuildAccess } from './access.ts';
import type { ApplyContext } from './apply.ts';
import { applyItemsPage, applyPermissionSet, subtreeIdsSql } from './items.ts';
import type { Store } from './store.ts';

/**
 * Effective access against a small model: a drive tree with explicit permissions, mutated at
 * random (create, move across sharing roots, share, unshare, delete shared folders), each
 * step applied the way the delta feed reports it. After every step the stored access root
 * and exposure of every live item equal the model's, and a rebuild from scratch agrees.
 */

const INTEGRATION = 'int-a';
const TENANT = 'tenant-a';
const DRIVE = 'drive-a';
const DOMAINS = ['contoso.test'];

type Share = 'anonymous' | 'organization' | 'internal' | 'guest' | 'external' | 'existing';

interface Node {
  id: string;
  parent: string | null;
  name: string;
  folder: boolean;
  shares: Array<{ id: string; kind: Share }>;
}

class Model {
  nodes = new Map<string, Node>();
  private n = 0;
  constructor() {
    this.nodes.set('root', { id: 'root', parent: null, name: 'root', folder: true, shares: [] });
  }
  newId(): string {
    return `i${++this.n}`;
  }
  live(): Node[] {
    return [...this.nodes.values()];
  }
  ancestorsOrSelf(id: string): Node[] {
    const out: Node[] = [];
    for (let cur = this.nodes.get(id); cur; cur = cur.parent ? this.nodes.get(cur.parent) : undefined)
      out.push(cur);
    return out;
  }
  descendants(id: string): Node[] {
    return this.live().filter((x) => x.id !== id && this.ancestorsOrSelf(x.id).some((a) => a.id === id));
  }
  accessRoot(id: string): string | null {
    return this.ancestorsOrSelf(id).find((a) => a.shares.length > 0)?.id ?? null;
  }
  exposure(id: string): Exposure {
    const kinds = this.ancestorsOrSelf(id).flatMap((a) => a.shares.map((s) => s.kind));
    if (kinds.includes('anonymous')) return 'public';
    if (kinds.includes('guest') || kinds.includes('external')) return 'external';
    if (kinds.includes('organization') || kinds.includes('internal')) return 'internal';
    return 'private';
  }
  /** What GET …/permissions returns for a sharing root: the owner, its own and inherited permissions. */
  permissionsOf(id: string): GraphPermission[] {
    const out: GraphPermission[] = [
      {
        id: 'owner',
        roles: ['owner'],
        grantedToV2: { user: { id: 'u-owner', email: 'owner@contoso.test' } },
      },
    ];
    for (const a of this.ancestorsOrSelf(id)) for (const s of a.shares) out.push(graphPermission(s));
    return out;
  }
}

function graphPermission(s: { id: string; kind: Share }): GraphPermission {
  switch (s.kind) {
    case 'anonymous':
      return { id: s.id, roles: ['read'], link: { type: 'view', scope: 'anonymous' } };
    case 'organization':
      return { id: s.id, roles: ['write'], link: { type: 'edit', scope: 'organization' } };
    case 'existing':
      return { id: s.id, roles: ['read'], link: { type: 'view', scope: 'existingAccess' } };
    case 'internal':
      return {
        id: s.id,
        roles: ['read'],
        grantedToV2: {
          user: { id: 'u-bob', email: 'bob@contoso.test' },
          siteUser: { loginName: 'i:0#.f|membership|bob@contoso.test' },
        },
      };
    case 'guest':
      return {
        id: s.id,
        roles: ['read'],
        grantedToV2: {
          user: { id: 'u-guest', email: 'gina@fabrikam.test' },
          siteUser: { loginName: 'i:0#.f|membership|gina_fabrikam.test#ext#@contoso.onmicrosoft.test' },
        },
      };
    case 'external':
      return {
        id: s.id,
        roles: ['read'],
        grantedToV2: {
          user: { email: 'ext@gmail.com' },
          siteUser: { loginName: 'i:0#.f|membership|urn:spo:guest#ext@gmail.com' },
        },
        invitation: { email: 'ext@gmail.com', signInRequired: true },
      };
  }
}

const rowCtx = (scope: Record<string, string>): RowContext => ({
  integrationId: INTEGRATION,
  tenantId: TENANT,
  verifiedDomains: DOMAINS,
  scope,
});

function itemRow(node: Node): ResourceRow {
  const g: GraphDriveItem = {
    id: node.id,
    name: node.name,
    ...(node.parent ? { parentReference: { id: node.parent, driveId: DRIVE } } : { root: {} }),
    ...(node.folder ? { folder: { childCount: 0 } } : { file: { mimeType: 'text/plain' } }),
    ...(node.shares.length > 0 ? { shared: { scope: 'users' } } : {}),
  };
  return driveItem.toRow(g, rowCtx({ drive_id: DRIVE }));
}

/** A page as the delta feed gives it: the items, each sharing root with its permission set just read. */
function page(m: Model, ids: string[], deleted: string[] = []) {
  const entries: Array<{ id: string; row?: ResourceRow }> = [];
  const sharing = new Map<string, ResourceRow[] | null>();
  for (const id of ids) {
    const node = m.nodes.get(id);
    if (!node) continue;
    entries.push({ id, row: itemRow(node) });
    sharing.set(
      id,
      node.shares.length > 0
        ? m.permissionsOf(id).map((p) => permission.toRow(p, rowCtx({ drive_id: DRIVE, item_id: id })))
        : null,
    );
  }
  for (const id of deleted) entries.push({ id });
  return { driveId: DRIVE, entries, sharing };
}

let clock = Date.parse('2025-03-01T00:00:00.000Z');
function ctxOf(store: Store, db = store.db): ApplyContext {
  clock += 1000;
  return {
    db,
    dialect: store.dialect,
    integrationId: INTEGRATION,
    tenantId: TENANT,
    source: 'delta',
    now: new Date(clock).toISOString(),
    verifiedDomains: DOMAINS,
  };
}

async function applyPage(store: Store, p: ReturnType<typeof page>): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    await applyItemsPage(ctxOf(store, trx), p);
  });
}

async function storedAccess(store: Store): Promise<Map<string, string>> {
  const rows = await store.db
    .selectFrom('drive_items')
    .select(['id', 'access_root_id', 'exposure'])
    .where('integration_id', '=', INTEGRATION)
    .where('deleted_at', 'is', null)
    .execute();
  return new Map(rows.map((r) => [r.id, `${r.access_root_id ?? '-'} ${r.exposure ?? 'pending'}`]));
}

function expectedAccess(m: Model): Map<string, string> {
  return new Map(m.live().map((x) => [x.id, `${m.accessRoot(x.id) ?? '-'} ${m.exposure(x.id)}`]));
}

function diff(actual: Map<string, string>, expected: Map<string, string>): string[] {
  const out: string[] = [];
  for (const [id, e] of expected)
    if (actual.get(id) !== e) out.push(`${id}: stored ${actual.get(id)}, want ${e}`);
  for (const id of actual.keys()) if (!expected.has(id)) out.push(`${id}: stored but not live`);
  return out;
}

function shuffle<T>(rng: Prng, list: T[]): T[] {
  for (let k = list.length - 1; k > 0; k--) {
    const j = rng.int(0, k);
    [list[k], list[j]] = [list[j], list[k]];
  }
  return list;
}

/** A tree of folders and files, listed in a random order (children before parents too). */
function seedTree(m: Model, rng: Prng, size: number): void {
  const folders = ['root'];
  for (let k = 0; k < size; k++) {
    const folder = rng.next() < 0.3;
    const id = m.newId();
    m.nodes.set(id, { id, parent: rng.pick(folders), name: `n${id}`, folder, shares: [] });
    if (folder) folders.push(id);
  }
  const kinds: Share[] = ['anonymous', 'organization', 'internal', 'guest', 'external', 'existing'];
  for (const x of m.live()) {
    if (x.id !== 'root' && rng.next() < 0.15) x.shares.push({ id: `p-${x.id}-0`, kind: rng.pick(kinds) });
  }
}

for (const dialect of testDialects()) {
  describe(`effective access on ${dialect}`, () => {
    let store: Store;
    let cleanup: () => Promise<void> = async () => {};
    // A fresh store per test: the tests reuse item ids.
    beforeEach(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
    });
    afterEach(async () => cleanup());

    test('random mutations keep every access root and exposure exact; a rebuild agrees', async () => {
      const rng = new Prng(dialect === 'sqlite' ? 11 : 12);
      const m = new Model();
      seedTree(m, rng, 120);
      // First enumeration: shuffled, in pages of 25, so children often come before parents.
      const order = shuffle(
        rng,
        m.live().map((x) => x.id),
      );
      for (let k = 0; k < order.length; k += 25) await applyPage(store, page(m, order.slice(k, k + 25)));
      assert.deepEqual(diff(await storedAccess(store), expectedAccess(m)), [], 'after the enumeration');

      const kinds: Share[] = ['anonymous', 'organization', 'internal', 'guest', 'external', 'existing'];
      let serial = 0;
      for (let step = 0; step < 300; step++) {
        const nodes = m.live().filter((x) => x.id !== 'root');
        const folders = m.live().filter((x) => x.folder);
        const x = rng.pick(nodes);
        const roll = rng.next();
        let changed: string[] = [x.id];
        let deleted: string[] = [];
        let what: string;
        if (roll < 0.25) {
          // Move, often across sharing roots (never into itself).
          const target = rng.pick(
            folders.filter((f) => f.id !== x.id && !m.ancestorsOrSelf(f.id).includes(x)),
          );
          if (!target) continue;
          x.parent = target.id;
          what = `move ${x.id} under ${target.id}`;
        } else if (roll < 0.5) {
          x.shares.push({ id: `p-${x.id}-${++serial}`, kind: rng.pick(kinds) });
          what = `share ${x.id}`;
        } else if (roll < 0.7) {
          const sharedNodes = nodes.filter((n) => n.shares.length > 0);
          if (sharedNodes.length === 0) continue;
          const s = rng.pick(sharedNodes);
          s.shares = rng.next() < 0.5 ? [] : s.shares.slice(1);
          changed = [s.id];
          what = `unshare ${s.id}`;
        } else if (roll < 0.8) {
          // Delete a folder (shared or not) with its subtree.
          const f = rng.pick(folders.filter((n) => n.id !== 'root'));
          if (!f) continue;
          const gone = [f, ...m.descendants(f.id)];
          for (const g of gone) m.nodes.delete(g.id);
          changed = [];
          deleted = [f.id];
          what = `delete ${f.id}`;
        } else {
          const id = m.newId();
          const parent = rng.pick(folders);
          m.nodes.set(id, { id, parent: parent.id, name: `n${id}`, folder: rng.next() < 0.3, shares: [] });
          changed = [id];
          what = `create ${id}`;
        }
        // Graph reports the changed item and, for a sharing or position change of a folder,
        // the sharing roots below it (their inherited permissions changed). Half the time the
        // feed also lists every descendant, as it may.
        for (const id of [...changed]) {
          const below = m.descendants(id);
          changed.push(
            ...(rng.next() < 0.5 ? below : below.filter((n) => n.shares.length > 0)).map((n) => n.id),
          );
        }
        await applyPage(store, page(m, [...new Set(changed)], deleted));
        const problems = diff(await storedAccess(store), expectedAccess(m));
        assert.deepEqual(problems, [], `after step ${step}: ${what}`);
      }

      const incremental = await storedAccess(store);
      const grantsBefore = await store.db
        .selectFrom('grants')
        .selectAll()
        .orderBy(['item_id', 'permission_id', 'recipient_key'])
        .execute();
      await store.db.transaction().execute((trx) => rebuildAccess(ctxOf(store, trx), DRIVE));
      assert.deepEqual(
        await storedAccess(store),
        incremental,
        'a rebuild from scratch gives the same access',
      );
      const grantsAfter = await store.db
        .selectFrom('grants')
        .selectAll()
        .orderBy(['item_id', 'permission_id', 'recipient_key'])
        .execute();
      assert.deepEqual(grantsAfter, grantsBefore, 'and the same grants');
      assert.ok(grantsBefore.length > 0, 'the run ends with grants to compare');
    });

    test('a permission set written on its own (outside a page) updates the subtree', async () => {
      const m = new Model();
      const f = m.newId();
      const sub = m.newId();
      const file = m.newId();
      m.nodes.set(f, { id: f, parent: 'root', name: 'F', folder: true, shares: [] });
      m.nodes.set(sub, { id: sub, parent: f, name: 'S', folder: true, shares: [] });
      m.nodes.set(file, { id: file, parent: sub, name: 'key.pem', folder: false, shares: [] });
      const DRIVE_ROWS = page(m, ['root', f, sub, file]);
      await applyPage(store, DRIVE_ROWS);
      const anyone = permission.toRow(
        graphPermission({ id: 'link-1', kind: 'anonymous' }),
        rowCtx({ drive_id: DRIVE, item_id: f }),
      );
      await store.db
        .transaction()
        .execute((trx) => applyPermissionSet(ctxOf(store, trx), DRIVE, f, [anyone]));
      const stored = await storedAccess(store);
      assert.equal(stored.get(file), `${f} public`, 'the key file in a folder shared with Anyone is public');
      await store.db.transaction().execute((trx) => applyPermissionSet(ctxOf(store, trx), DRIVE, f, []));
      assert.equal((await storedAccess(store)).get(file), '- private', 'unshared again: private');
    });

    test('a store collected before effective access gets it filled in (the backfill after migration 0200)', async () => {
      const rng = new Prng(dialect === 'sqlite' ? 21 : 22);
      const m = new Model();
      seedTree(m, rng, 80);
      await applyPage(
        store,
        page(
          m,
          m.live().map((x) => x.id),
        ),
      );
      const expected = expectedAccess(m);
      assert.deepEqual(diff(await storedAccess(store), expected), []);
      // The backfill classifies recipients against the integration's verified domains.
      const now = new Date().toISOString();
      await store.db
        .insertInto('integrations')
        .values({
          id: INTEGRATION,
          name: 'backfill',
          tenant_id: TENANT,
          client_id: 'client',
          secret_enc: null,
          certificate_enc: null,
          graph_base_url: null,
          authority_url: null,
          management_base_url: null,
          ca_pem: null,
          verified_domains: JSON.stringify(DOMAINS),
          enabled: store.dialect === 'sqlite' ? 1 : true,
          created_at: now,
          updated_at: now,
          probe: null,
          probed_at: null,
        })
        .execute();
      // As an inventory from before 0200 looks: no access columns, no grants.
      await store.db.updateTable('drive_items').set({ access_root_id: null, exposure: null }).execute();
      await store.db.deleteFrom('grants').execute();
      await backfillAccess(store.db, store.dialect);
      assert.deepEqual(
        diff(await storedAccess(store), expected),
        [],
        'filled in from the stored permissions',
      );
      const grants = await store.db.selectFrom('grants').select('item_id').distinct().execute();
      assert.equal(
        grants.length,
        m.live().filter((x) => x.shares.length > 0).length,
        'every sharing root has grants',
      );
    });
  });
}

test("SQLite: a folder's access change walks its subtree by the parent index, never by exposure", async () => {
  // The plan the 0720 indexes gave without INDEXED BY: the recursive step searched
  // drive_items_api_exposure (integration, exposure) — every item of that exposure in the
  // tenant, once per level — and a folder shared at 200k items took minutes. Then, with the
  // index named but `drive_items c join sub`, SQLite kept drive_items as the outer loop: each
  // step read the drive's whole parent index (integration_id, drive_id) for one folder.
  const { store, cleanup } = await openTestStore('sqlite');
  try {
    for (const before of [
      { root: null, exposure: 'private' as Exposure },
      { root: 'old-root', exposure: 'internal' as Exposure },
    ]) {
      const { text, params } = propagateAccessSql(ctxOf(store), 'drive', 'folder', before, {
        root: 'folder',
        exposure: 'public' as Exposure,
      });
      assertParentRangeSearches(await planOf(store, text, params), 2);
    }
  } finally {
    await cleanup();
  }
});

test("SQLite: a deleted folder's subtree is walked one parent_id range per folder", async () => {
  const { store, cleanup } = await openTestStore('sqlite');
  try {
    const { text, params } = subtreeIdsSql(ctxOf(store), 'drive', ['folder-a', 'folder-b']);
    assertParentRangeSearches(await planOf(store, text, params), 1);
  } finally {
    await cleanup();
  }
});

test('SQLite: pending access is found and resolved through drive_items_access_pending only', async () => {
  // drive_items_api_path's (integration_id, drive_id) prefix served these too, reading every
  // live item of the drive on every page of its feed.
  const { store, cleanup } = await openTestStore('sqlite');
  try {
    const { probe, update } = pendingAccessSql(ctxOf(store));
    for (const text of [probe, update]) {
      const details = await planOf(store, text, [INTEGRATION, DRIVE]);
      const own = details.filter((d) => /SEARCH drive_items /.test(d));
      assert.equal(own.length, 1, details.join('\n'));
      assert.match(own[0], /drive_items_access_pending/, details.join('\n'));
    }
  } finally {
    await cleanup();
  }
});

async function planOf(store: Store, text: string, params: unknown[]): Promise<string[]> {
  const plan = await store.db.executeQuery<{ detail: string }>(
    CompiledQuery.raw(`explain query plan ${text}`, params),
  );
  return plan.rows.map((r) => r.detail);
}

/** Every search of the walk's `c` is a parent_id range of drive_items_parent. */
function assertParentRangeSearches(details: string[], atLeast: number): void {
  const searches = details.filter((d) => /SEARCH c /.test(d));
  assert.ok(searches.length >= atLeast, details.join('\n'));
  for (const d of searches)
    assert.match(
      d,
      /drive_items_parent \(integration_id=\? AND drive_id=\? AND parent_id=\?\)/,
      details.join('\n'),
    );
}
