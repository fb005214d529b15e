import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { SimItemSummary } from '../../sim/admin-client.ts';
import { Prng } from '../../sim/model/prng.ts';
import { simClient, simContext, simulatorSuite } from '../../test/support/collector.ts';
import { startTestSim } from '../../test/support/simulator.ts';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { describeDiff, diffWithTruth } from '../../test/support/truth.ts';
import type { GraphClient } from '../graph/types.ts';
import { decodeValue } from '../store/codec.ts';
import { openStore, type Store } from '../store/store.ts';
import { getSyncState, listSyncErrors } from '../store/sync-state.ts';
import { type ChangeBatch, ChangeStream } from './change-stream.ts';
import type { SyncContext, SyncProgress } from './context.ts';
import { syncDrive } from './drive-sync.ts';
import { syncIntegration } from './sync.ts';

// timeScale shortens the simulator's Retry-After values (and budget minutes) so fault tests stay fast.
const SIM = { seed: 7, users: 24, items: 2500, timeScale: 20 };
const KILL_PLAN_SEED = 8;

async function historyRows(store: Store, integrationId: string) {
  const rows = await store.db
    .selectFrom('changes')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    ...r,
    fields: decodeValue('json', r.fields) as string[],
    before: decodeValue('json', r.before) as Record<string, unknown> | null,
    after: decodeValue('json', r.after) as Record<string, unknown> | null,
  }));
}

/** Every resource key appears at most once per change type and the whole history is "added" only. */
async function assertOnlyOneAddedPerResource(store: Store, integrationId: string) {
  const { rows } = await sql<{ n: number; k: number }>`
    select count(*) as n, count(distinct resource_type || '|' || coalesce(drive_id, '') || '|' ||
      coalesce(item_id, '') || '|' || coalesce(group_id, '') || '|' || resource_id) as k
    from changes where integration_id = ${integrationId}`.execute(store.db);
  assert.equal(Number(rows[0].n), Number(rows[0].k), 'no duplicate history rows');
  const kinds = await store.db
    .selectFrom('changes')
    .select('change_type')
    .distinct()
    .where('integration_id', '=', integrationId)
    .execute();
  assert.deepEqual(
    kinds.map((k) => k.change_type),
    ['added'],
  );
}

describe('collector against the simulator', () => {
  const suite = simulatorSuite(SIM, 'dw-collect-');
  const withStore = suite.withStore.bind(suite);

  test('full sync equals the ground truth; a second sync writes no history; RU is the minimum', async () => {
    await suite.env.admin.setFaults([]);
    await withStore('full', async (store, client) => {
      const stream = new ChangeStream();
      const batches: ChangeBatch[] = [];
      stream.on('changes', (b) => batches.push(b));
      const progress: SyncProgress[] = [];
      const ctx = simContext(store, suite.env.sim, client, 'int-full', {
        changeStream: stream,
        onProgress: (p) => progress.push(p),
      });
      const before = await suite.env.admin.counters();
      const started = performance.now();
      const result = await syncIntegration(ctx, { mode: 'full' });
      const secs = (performance.now() - started) / 1000;
      const after = await suite.env.admin.counters();
      assert.deepEqual(result.errors, [], 'no errors');
      // Every column, and a history of exactly one added record per live resource.
      const diff = await diffWithTruth(store, 'int-full', suite.env.admin, { history: 'fullSync' });
      assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
      // Every property a group's mapping reads was requested (onPremisesSyncEnabled was not, once).
      const groupRaws = await store.db
        .selectFrom('groups')
        .select('raw')
        .where('integration_id', '=', 'int-full')
        .execute();
      assert.ok(groupRaws.length > 0);
      for (const { raw } of groupRaws) {
        const g = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
        assert.ok('onPremisesSyncEnabled' in g, 'groups are read with onPremisesSyncEnabled');
      }
      console.log(
        `full sync: ${diff.counts.item} items, ${diff.counts.permission} permissions, ${diff.counts.drive} drives in ${secs.toFixed(2)} s = ${Math.round(diff.counts.item / secs)} items/s; RU ${result.graph.ruSpent}, requests ${result.graph.requests}`,
      );

      // RU: the client's count is what the simulator charged; permissions were read once per sharing root.
      assert.equal(result.graph.ruSpent, after.ruSpent - before.ruSpent);
      const roots = Number(
        (
          await store.db
            .selectFrom('drive_items')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('integration_id', '=', 'int-full')
            .where('shared_scope', 'is not', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
      assert.equal(result.permissionCalls, roots);
      const permCalls =
        (after.requestsByEndpoint['GET /drives/{id}/items/{id}/permissions'] ?? 0) -
        (before.requestsByEndpoint['GET /drives/{id}/items/{id}/permissions'] ?? 0);
      assert.equal(permCalls, roots, 'one permission call per sharing root');
      const deltaCalls =
        (after.requestsByEndpoint['GET /drives/{id}/root/delta'] ?? 0) -
        (before.requestsByEndpoint['GET /drives/{id}/root/delta'] ?? 0);
      assert.equal(deltaCalls, diff.counts.drive, 'one delta page per drive (all drives < 999 items)');

      // Progress and change stream.
      const last = progress.at(-1);
      assert.equal(last?.phase, 'done');
      assert.equal(last?.drivesDone, diff.counts.drive);
      assert.equal(last?.ruSpent, result.graph.ruSpent);
      const itemAdds = batches
        .filter((b) => b.resourceType === 'drive_item')
        .reduce((n, b) => n + b.changes.filter((c) => c.changeType === 'added').length, 0);
      assert.equal(itemAdds, diff.counts.item);
      await assertOnlyOneAddedPerResource(store, 'int-full');
      const state = await getSyncState(
        store.db,
        'int-full',
        `drive:${(await suite.env.admin.drives())[0].id}`,
      );
      assert.equal(state?.phase, 'idle');
      assert.ok(state?.deltaLink && state.lastFullSyncAt);

      const historyBefore = (await historyRows(store, 'int-full')).length;
      const second = await syncIntegration(ctx, { mode: 'delta' });
      assert.equal(second.changes, 0);
      assert.equal(
        (await historyRows(store, 'int-full')).length,
        historyBefore,
        'second sync writes no history',
      );
      assert.ok(
        second.graph.ruSpent < result.graph.ruSpent / 4,
        `delta costs little (${second.graph.ruSpent} RU)`,
      );
    });
  });

  test('mutations then a delta sync: exact again, with the right history rows', async () => {
    await suite.env.admin.setFaults([]);
    await withStore('mutations', async (store, client) => {
      const ctx = simContext(store, suite.env.sim, client, 'int-mut');
      await syncIntegration(ctx, { mode: 'full' });
      const drives = await suite.env.admin.drives();
      const drive = drives.reduce((a, b) => (b.itemCount > a.itemCount ? b : a));
      const items = await suite.env.admin.items(drive.id);
      const live = items.filter((i) => !i.deleted);
      const childrenOf = (id: string) => live.filter((i) => i.parentId === id);
      const folders = live.filter((i) => i.isFolder && i.parentId !== null && childrenOf(i.id).length > 0);
      assert.ok(folders.length >= 3, 'drive has folders with children');
      const [renamed, deleted, target] = folders.filter(
        (f, _, all) =>
          !all.some((o) => o !== f && (f.path.startsWith(`${o.path}/`) || o.path.startsWith(`${f.path}/`))),
      );
      assert.ok(renamed && deleted && target, 'three disjoint folders');
      const subtree = (root: SimItemSummary) =>
        live.filter((i) => i === root || i.path.startsWith(`${root.path}/`));
      const deletedCount = subtree(deleted).length;
      const movedFile = live.find(
        (i) =>
          !i.isFolder &&
          ![renamed, deleted, target].some((f) => i.path.startsWith(`${f.path}/`)) &&
          !live.some((o) => o.parentId === target.id && o.name === i.name),
      ) as SimItemSummary;
      assert.ok(movedFile, 'a file outside the three folders to move');
      const toShare = live.find(
        (i) =>
          !i.isFolder &&
          i.explicitPermissions === 0 &&
          i.sharedScope === null &&
          ![renamed, deleted, target].some((f) => i.path.startsWith(`${f.path}/`)) &&
          i !== movedFile,
      ) as SimItemSummary;
      const toUnshare = live.find(
        (i) =>
          i.explicitPermissions > 0 &&
          !i.isFolder &&
          ![renamed, deleted, target].some((f) => i.path.startsWith(`${f.path}/`)) &&
          i !== movedFile &&
          i !== toShare,
      ) as SimItemSummary;
      assert.ok(toShare && toUnshare, 'items to share and unshare');
      const modified = live.find(
        (i) =>
          !i.isFolder &&
          ![renamed, deleted].some((f) => i.path.startsWith(`${f.path}/`)) &&
          i !== movedFile &&
          i !== toShare &&
          i !== toUnshare,
      ) as SimItemSummary;

      await suite.env.admin.mutate({
        op: 'renameItem',
        driveId: drive.id,
        itemId: renamed.id,
        name: `${renamed.name} (renamed)`,
      });
      await suite.env.admin.mutate({
        op: 'moveItem',
        driveId: drive.id,
        itemId: movedFile.id,
        newParentId: target.id,
      });
      await suite.env.admin.mutate({ op: 'deleteItem', driveId: drive.id, itemId: deleted.id });
      await suite.env.admin.mutate({
        op: 'share',
        driveId: drive.id,
        itemId: toShare.id,
        kind: 'anonymous',
        linkType: 'edit',
      });
      await suite.env.admin.mutate({ op: 'unshare', driveId: drive.id, itemId: toUnshare.id });
      await suite.env.admin.mutate({ op: 'modifyItem', driveId: drive.id, itemId: modified.id, size: 12345 });
      const created = await suite.env.admin.mutate<{ itemId: string }>({
        op: 'createItem',
        driveId: drive.id,
        parentId: renamed.id,
        name: 'new.txt',
        size: 10,
      });

      const mark = (await historyRows(store, 'int-mut')).length;
      const result = await syncIntegration(ctx, { mode: 'delta' });
      assert.deepEqual(result.errors, []);
      const diff = await diffWithTruth(store, 'int-mut', suite.env.admin);
      assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));

      const h = (await historyRows(store, 'int-mut')).slice(mark);
      const of = (type: string, id: string) =>
        h.filter((c) => c.resource_type === type && c.resource_id === id);
      const ren = of('drive_item', renamed.id);
      assert.equal(ren.length, 1);
      assert.equal(ren[0].change_type, 'modified');
      assert.ok(ren[0].fields.includes('name') && ren[0].fields.includes('path'), ren[0].fields.join());
      assert.equal(ren[0].after?.path, `${renamed.path} (renamed)`);
      assert.equal(ren[0].source, 'delta');
      const mv = of('drive_item', movedFile.id);
      assert.equal(mv.length, 1);
      assert.ok(mv[0].fields.includes('parent_id') && mv[0].fields.includes('path'));
      const removedItems = h.filter((c) => c.resource_type === 'drive_item' && c.change_type === 'removed');
      assert.equal(removedItems.length, deletedCount, 'one removed row per item of the deleted subtree');
      const shared = h.filter((c) => c.resource_type === 'permission' && c.item_id === toShare.id);
      assert.ok(shared.some((c) => c.change_type === 'added' && c.after?.link_scope === 'anonymous'));
      const unshared = h.filter((c) => c.resource_type === 'permission' && c.item_id === toUnshare.id);
      assert.ok(unshared.length > 0 && unshared.every((c) => c.change_type === 'removed'));
      const mod = of('drive_item', modified.id);
      assert.ok(mod.length === 1 && mod[0].fields.includes('size'));
      assert.equal(of('drive_item', created.itemId)[0]?.change_type, 'added');
      assert.equal(of('drive_item', created.itemId)[0]?.after?.path, `${renamed.path} (renamed)/new.txt`);
      // The descendants of the renamed folder moved along without history rows of their own.
      const child = childrenOf(renamed.id)[0];
      const row = await store.db
        .selectFrom('drive_items')
        .select('path')
        .where('integration_id', '=', 'int-mut')
        .where('id', '=', child.id)
        .executeTakeFirstOrThrow();
      assert.equal(row.path, `${renamed.path} (renamed)/${child.name}`);
      // No duplicate history rows for the same change.
      const keys = h.map(
        (c) => `${c.resource_type}|${c.drive_id}|${c.item_id}|${c.resource_id}|${c.change_type}`,
      );
      assert.equal(new Set(keys).size, keys.length);
    });
  });

  test('faults (429, 503, truncated bodies, a 410 per drive) still give the exact inventory', async () => {
    await withStore('faults', async (store, client) => {
      const ctx = simContext(store, suite.env.sim, client, 'int-faults');
      const faults = [
        { kind: 'throttle429' as const, rate: 0.1 },
        { kind: 'unavailable503' as const, rate: 0.02 },
        { kind: 'truncated' as const, rate: 0.01 },
        { kind: 'gone410' as const, rate: 1, oncePerDrive: true },
      ];
      await suite.env.admin.setFaults(faults);
      try {
        const full = await syncIntegration(ctx, { mode: 'full' });
        assert.deepEqual(full.errors, []);
        assert.ok(full.graph.throttledResponses > 0, 'throttling happened');
        let diff = await diffWithTruth(store, 'int-faults', suite.env.admin);
        assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
        // Changes, then a delta round that meets a 410 on every drive: resync + reconciliation.
        const drives = await suite.env.admin.drives();
        const items = await suite.env.admin.items(drives[0].id);
        const victim = items.find((i) => !i.deleted && !i.isFolder) as SimItemSummary;
        await suite.env.admin.mutate({ op: 'deleteItem', driveId: drives[0].id, itemId: victim.id });
        const delta = await syncIntegration(ctx, { mode: 'delta' });
        assert.deepEqual(delta.errors, []);
        diff = await diffWithTruth(store, 'int-faults', suite.env.admin);
        assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
        const removed = (await historyRows(store, 'int-faults')).filter(
          (c) => c.resource_id === victim.id && c.change_type === 'removed',
        );
        assert.equal(removed.length, 1);
        assert.equal(removed[0].source, 'resync', 'found by the reconciliation after the 410');
      } finally {
        await suite.env.admin.setFaults([]);
      }
    });
  });

  test('a 403 on one resource type is an error for that type; the rest is collected', async () => {
    await withStore('forbidden', async (store, client) => {
      const ctx = simContext(store, suite.env.sim, client, 'int-403');
      await suite.env.admin.setFaults([
        { kind: 'forbidden403', resourceType: 'groups' },
        { kind: 'forbidden403', resourceType: 'signInActivity' },
      ]);
      try {
        const result = await syncIntegration(ctx, { mode: 'full' });
        assert.equal(result.resources.group, 'Authorization_RequestDenied', JSON.stringify(result.resources));
        assert.notEqual(result.resources.signInActivity, 'ok');
        assert.equal(result.resources.drive_item, 'ok');
        const errors = await listSyncErrors(store.db, 'int-403', { open: true });
        const types = errors.map((e) => e.resource_type).sort();
        assert.deepEqual(types, ['group', 'signInActivity']);
        assert.ok(errors.every((e) => e.request_id && e.status === 403));
        const diff = await diffWithTruth(store, 'int-403', suite.env.admin);
        // Groups and members are missing (reported), sign-in times are unknown; everything else is exact.
        const unexpected = [
          ...diff.missing.filter((k) => !/^\["(group|member|user)"/.test(k)),
          ...diff.extra.filter((k) => !/^\["user"/.test(k)),
        ];
        assert.deepEqual(unexpected, [], describeDiff(diff));
        assert.equal(diff.missing.filter((k) => k.startsWith('["group"')).length, diff.counts.group);
        const users = await store.db
          .selectFrom('users')
          .select('id')
          .where('integration_id', '=', 'int-403')
          .execute();
        assert.equal(users.length, diff.counts.user, 'users collected without signInActivity');
        // Once the permission is granted the errors resolve.
        await suite.env.admin.setFaults([]);
        const again = await syncIntegration(ctx, { mode: 'delta' });
        assert.deepEqual(again.errors, []);
        assert.equal((await listSyncErrors(store.db, 'int-403', { open: true })).length, 0);
        const exact = await diffWithTruth(store, 'int-403', suite.env.admin);
        assert.equal(exact.missing.length + exact.extra.length, 0, describeDiff(exact));
      } finally {
        await suite.env.admin.setFaults([]);
      }
    });
  });

  test('syncDrive runs one drive at a time and coalesces callers', async () => {
    await suite.env.admin.setFaults([]);
    await withStore('mutex', async (store, client) => {
      const ctx: SyncContext = simContext(store, suite.env.sim, client, 'int-mutex');
      const [drive] = await suite.env.admin.drives();
      let running = 0;
      let maxRunning = 0;
      const wrapped: GraphClient = {
        ...client,
        pages: async function* (req) {
          running++;
          maxRunning = Math.max(maxRunning, running);
          try {
            yield* client.pages(req);
          } finally {
            running--;
          }
        },
      };
      const c2 = { ...ctx, client: wrapped };
      const a = syncDrive(c2, drive.id, { mode: 'full' });
      const b = syncDrive(c2, drive.id);
      const c = syncDrive(c2, drive.id);
      assert.equal(b, c, 'callers while one run is queued share it');
      const [ra, rb] = await Promise.all([a, b]);
      assert.equal(maxRunning, 1);
      assert.ok(ra.completed && rb.completed);
      assert.ok(ra.items > 0);
      assert.equal(rb.changes, 0);
    });
  });

  test('a delta run that changed items reads its drive again: quota equals the truth', async () => {
    await suite.env.admin.setFaults([]);
    await withStore('quota', async (store, client) => {
      const ctx = simContext(store, suite.env.sim, client, 'int-quota');
      await syncIntegration(ctx, { mode: 'full' });
      const [a, b] = (await suite.env.admin.drives()).filter((d) => d.itemCount > 1);
      const quotaOf = async (driveId: string) => {
        const row = await store.db
          .selectFrom('drives')
          .select(['quota_used', 'quota_remaining', 'quota_deleted', 'quota_state'])
          .where('integration_id', '=', 'int-quota')
          .where('id', '=', driveId)
          .executeTakeFirstOrThrow();
        return {
          used: Number(row.quota_used),
          remaining: Number(row.quota_remaining),
          deleted: Number(row.quota_deleted),
          state: row.quota_state,
        };
      };
      const truthOf = async (driveId: string) => {
        for await (const r of suite.env.admin.truth()) {
          if (r.kind === 'drive' && r.id === driveId)
            return {
              used: r.quotaUsed,
              remaining: r.quotaRemaining,
              deleted: r.quotaDeleted,
              state: r.quotaState,
            };
        }
        throw new Error(`no drive ${driveId} in the truth`);
      };
      const before = await quotaOf(a.id);
      const created = await suite.env.admin.mutate<{ itemId: string }>({
        op: 'createItem',
        driveId: a.id,
        parentId: a.rootId,
        name: 'quota.bin',
        size: 7_654_321,
      });
      assert.notDeepEqual(await truthOf(a.id), before, 'creating a file changed the quota');
      const mark = (await historyRows(store, 'int-quota')).length;
      const ra = await syncDrive(ctx, a.id);
      assert.ok(ra.completed && !ra.error);
      assert.deepEqual(await quotaOf(a.id), await truthOf(a.id));
      const h = (await historyRows(store, 'int-quota')).slice(mark);
      assert.ok(h.some((c) => c.resource_type === 'drive_item' && c.resource_id === created.itemId));
      const d = h.filter((c) => c.resource_type === 'drive' && c.resource_id === a.id);
      assert.equal(d.length, 1, 'one history record for the drive');
      assert.equal(d[0].change_type, 'modified');
      assert.equal(d[0].source, 'delta');
      assert.ok(d[0].fields.includes('quota_used'), d[0].fields.join());

      // A quota change together with a file change (a webhook-triggered run): the store follows.
      const [item] = (await suite.env.admin.items(b.id)).filter((i) => !i.deleted && !i.isFolder);
      await suite.env.admin.mutate({ op: 'setQuotaUsed', driveId: b.id, used: 123_456_789 });
      await suite.env.admin.mutate({
        op: 'modifyItem',
        driveId: b.id,
        itemId: item.id,
        size: item.size + 1000,
      });
      const rb = await syncDrive(ctx, b.id, { source: 'webhook' });
      assert.ok(rb.completed && !rb.error);
      assert.deepEqual(await quotaOf(b.id), await truthOf(b.id));

      // Nothing changed: no drive read, no history.
      const urls: string[] = [];
      const counting: GraphClient = {
        ...client,
        request: (req) => {
          urls.push(req.url);
          return client.request(req);
        },
      };
      const again = await syncDrive({ ...ctx, client: counting }, a.id);
      assert.ok(again.completed);
      assert.equal(again.changes, 0);
      assert.deepEqual(urls, []);
      const diff = await diffWithTruth(store, 'int-quota', suite.env.admin);
      assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
    });
  });

  test('kill -9 at random moments, restart: exact, no duplicate history', async () => {
    await suite.env.admin.setFaults([]);
    const file = suite.path('killed.db');
    const script = fileURLToPath(new URL('./sync-child.fixture.ts', import.meta.url));
    const info = { ...suite.env.sim } as Record<string, unknown>;
    delete info.close;
    // Killed after a random number of committed pages plus a random delay, so the kill lands
    // anywhere: inside a transaction, between pages, during permission fetches. Seeded: the
    // same plan on every run (the kill moments still vary with the machine's speed).
    const rng = new Prng(KILL_PLAN_SEED);
    const runChild = (mode: 'full' | 'delta', killAfterPages?: number) =>
      new Promise<{ code: number | null; signal: string | null; out: string; pages: number }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            '--import',
            'tsx',
            script,
            JSON.stringify({ file, integrationId: 'int-kill', mode, pageSize: 40, sim: info }),
          ],
          { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DW_LOG_LEVEL: 'silent' } },
        );
        let out = '';
        let pages = 0;
        let killing = false;
        child.stdout.on('data', (d: Buffer) => {
          const text = d.toString();
          pages += (text.match(/^p$/gm) ?? []).length;
          out += text.replace(/^p\n/gm, '');
          if (killAfterPages !== undefined && pages >= killAfterPages && !killing) {
            killing = true;
            setTimeout(() => child.kill('SIGKILL'), rng.int(0, 24));
          }
        });
        child.stderr.on('data', (d) => {
          out += d;
        });
        child.on('exit', (code, signal) => resolve({ code, signal, out, pages }));
      });
    const kills: string[] = [];
    let killedMidway = 0;
    for (let i = 0; i < 5; i++) {
      const at = rng.int(3, 32);
      const r = await runChild(i === 0 ? 'full' : 'delta', at);
      kills.push(`${at}/${r.pages}`);
      if (r.signal === 'SIGKILL') killedMidway++;
      else assert.equal(r.code, 0, r.out);
    }
    assert.ok(
      killedMidway >= 4,
      `kills landed mid-sync (${killedMidway} of 5; seed ${KILL_PLAN_SEED}, pages at kill/seen: ${kills.join(', ')})`,
    );
    const final = await runChild('delta');
    assert.equal(final.code, 0, final.out);
    const store = await openStore({ file });
    try {
      const diff = await diffWithTruth(store, 'int-kill', suite.env.admin);
      assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
      await assertOnlyOneAddedPerResource(store, 'int-kill');
    } finally {
      await store.close();
    }
  });
});

// On PostgreSQL too, unless DW_TEST_DIALECTS narrows the dialects (then the output says so).
if (testDialects().includes('postgres')) {
  describe('collector on postgres', () => {
    test('full sync equals the ground truth', async () => {
      const env = await startTestSim({ seed: 12, users: 12, items: 800 });
      const { store, cleanup } = await openTestStore('postgres');
      const client = simClient(env.sim);
      try {
        const ctx = simContext(store, env.sim, client, 'int-pg');
        const result = await syncIntegration(ctx, { mode: 'full' });
        assert.deepEqual(result.errors, []);
        const diff = await diffWithTruth(store, 'int-pg', env.admin);
        assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
        const second = await syncIntegration(ctx, { mode: 'delta' });
        assert.equal(second.changes, 0);
        await assertOnlyOneAddedPerResource(store, 'int-pg');
      } finally {
        await client.close();
        await cleanup();
        await env.close();
      }
    });
  });
}
