import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { SimLabelsSummary } from '../../sim/admin-client.ts';
import type { TruthRecord } from '../../sim/contracts.ts';
import { simClient, simContext } from '../../test/support/collector.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { LABEL_FILE_EXTENSIONS } from '../resources/item-label.ts';
import { defaultParams } from '../rules/definition.ts';
import { BUILTIN_RULES_DIR, loadRuleFolder } from '../rules/loader.ts';
import { runRule } from '../rules/run-rule.ts';
import { decodeValue } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import { listSyncErrors } from '../store/sync-state.ts';
import type { SyncContext } from './context.ts';
import { syncIntegration } from './sync.ts';
import { refreshTenantConfig } from './tenant-config.ts';

/**
 * Sensitivity labels against the simulator: read only for files exposed outside the
 * organization, once per content; the number of Graph calls is asserted every time.
 */

const EXTRACT = 'POST /drives/{id}/items/{id}/extractSensitivityLabels';
const SIM = {
  seed: 11,
  users: 12,
  items: 700,
  sharedRatio: 0.08,
  anonymousRatio: 0.03,
  labels: { share: 0.6, lockedShare: 0.04 },
};

type TruthItem = Extract<TruthRecord, { kind: 'item' }>;

const capable = (name: string) =>
  LABEL_FILE_EXTENSIONS.includes(name.slice(name.lastIndexOf('.') + 1).toLowerCase());
const exposed = (i: TruthItem) => i.exposure === 'public' || i.exposure === 'external';

async function truthItems(ts: TestSim): Promise<TruthItem[]> {
  return (await ts.admin.truthArray()).filter((r): r is TruthItem => r.kind === 'item');
}

/** The files that must have been read: live, exposed outside, label-capable. */
const expectedReads = (items: TruthItem[]) =>
  items.filter((i) => !i.isFolder && exposed(i) && capable(i.name)).map((i) => i.id);

async function extractCalls(ts: TestSim, run: () => Promise<unknown>): Promise<number> {
  const before = (await ts.admin.counters()).requestsByEndpoint[EXTRACT] ?? 0;
  await run();
  return ((await ts.admin.counters()).requestsByEndpoint[EXTRACT] ?? 0) - before;
}

async function liveLabels(store: Store, integrationId: string) {
  const rows = await store.db
    .selectFrom('item_labels')
    .select(['item_id', 'id', 'label_name', 'c_tag', 'assignment_method'])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute();
  const byItem = new Map<string, typeof rows>();
  for (const r of rows) byItem.set(r.item_id, [...(byItem.get(r.item_id) ?? []), r]);
  return byItem;
}

async function extractions(store: Store, integrationId: string) {
  const rows = await store.db
    .selectFrom('label_extractions')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .execute();
  return new Map(rows.map((r) => [r.item_id, r]));
}

/** What the store holds equals what the simulator serves, for exactly the exposed files. */
async function assertLabelsMatch(store: Store, integrationId: string, ts: TestSim, items: TruthItem[]) {
  const sim: SimLabelsSummary = await ts.admin.labels();
  const simFiles = new Map(sim.files.map((f) => [f.itemId, f]));
  const names = new Map(sim.catalogue.map((l) => [l.id, l.name]));
  const reads = expectedReads(items);
  const records = await extractions(store, integrationId);
  assert.deepEqual(
    [...records.keys()].sort(),
    [...reads].sort(),
    'a record for every exposed file, no other',
  );
  const labels = await liveLabels(store, integrationId);
  for (const itemId of reads) {
    const f = simFiles.get(itemId);
    const rec = records.get(itemId);
    if (f?.locked) {
      assert.equal(rec?.outcome, 'locked');
      assert.equal(rec?.error_code, 'fileDoubleKeyEncrypted');
      continue;
    }
    const want = f?.labelIds ?? [];
    assert.equal(rec?.outcome, want.length > 0 ? 'labeled' : 'unlabeled', itemId);
    const got = labels.get(itemId) ?? [];
    assert.deepEqual(got.map((l) => l.id).sort(), [...want].sort(), `labels of ${itemId}`);
    for (const l of got) {
      assert.equal(l.label_name, names.get(l.id));
      assert.equal(l.c_tag, rec?.c_tag);
      assert.match(l.c_tag ?? '', /^qxh:/);
    }
  }
  for (const itemId of labels.keys()) assert.ok(reads.includes(itemId), `${itemId} is exposed`);
}

for (const dialect of testDialects()) {
  describe(`sensitivity labels against the simulator (${dialect})`, () => {
    let ts: TestSim;
    before(async () => {
      ts = await startTestSim(SIM);
    });
    after(() => ts.close());

    test('read for exactly the exposed label-capable files, once; a quiet round reads none', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      const client = simClient(ts.sim);
      try {
        const ctx = simContext(store, ts.sim, client, 'int-labels');
        const items = await truthItems(ts);
        const reads = expectedReads(items);
        assert.ok(reads.length >= 20, `the tenant has exposed files (${reads.length})`);
        assert.ok(
          items.filter((i) => !i.isFolder && capable(i.name)).length > reads.length * 2,
          'most label-capable files are not exposed',
        );
        let first: Awaited<ReturnType<typeof syncIntegration>> | undefined;
        const calls = await extractCalls(ts, async () => {
          first = await syncIntegration(ctx, { mode: 'full' });
        });
        assert.equal(calls, reads.length, 'one call per exposed label-capable file');
        assert.equal(first?.labelCalls, reads.length);
        assert.equal(first?.resources.sensitivity_label, 'ok');
        assert.equal(first?.resources.tenant_settings, 'ok');
        await assertLabelsMatch(store, 'int-labels', ts, items);
        const history = await store.db
          .selectFrom('changes')
          .select(['change_type', 'source'])
          .where('integration_id', '=', 'int-labels')
          .where('resource_type', '=', 'item_label')
          .execute();
        assert.ok(history.length > 0);
        assert.ok(history.every((h) => h.change_type === 'added' && h.source === 'full'));

        const again = await extractCalls(ts, () => syncIntegration(ctx, { mode: 'delta' }));
        assert.equal(again, 0, 'nothing changed: nothing read again');
      } finally {
        await client.close();
        await cleanup();
      }
    });
  });
}

describe('sensitivity labels follow content and exposure', () => {
  let ts: TestSim;
  let store: Store;
  let cleanup: () => Promise<void>;
  let ctx: SyncContext;
  let client: ReturnType<typeof simClient>;
  before(async () => {
    ts = await startTestSim(SIM);
    ({ store, cleanup } = await openTestStore('sqlite'));
    client = simClient(ts.sim);
    ctx = simContext(store, ts.sim, client, 'int-follow');
    await syncIntegration(ctx, { mode: 'full' });
  });
  after(async () => {
    await client.close();
    await cleanup();
    await ts.close();
  });

  const delta = () => extractCalls(ts, () => syncIntegration(ctx, { mode: 'delta', directory: false }));

  test('a content change is read again; a rename, or a change to a file nobody outside reaches, is not', async () => {
    const items = await truthItems(ts);
    const { files } = await ts.admin.labels();
    const reads = expectedReads(items);
    const labelled = files.find((f) => !f.locked && reads.includes(f.itemId) && f.labelIds.length > 0);
    const other = items.find((i) => reads.includes(i.id) && i.id !== labelled?.itemId);
    const hidden = items.find((i) => !i.isFolder && capable(i.name) && !exposed(i));
    assert.ok(labelled && other && hidden);
    const tagBefore = (await extractions(store, 'int-follow')).get(labelled.itemId)?.c_tag;
    await ts.admin.mutate({
      op: 'modifyItem',
      driveId: labelled.driveId,
      itemId: labelled.itemId,
      size: 77_777,
    });
    await ts.admin.mutate({
      op: 'renameItem',
      driveId: other.driveId,
      itemId: other.id,
      name: `renamed-${other.name}`,
    });
    await ts.admin.mutate({ op: 'modifyItem', driveId: hidden.driveId, itemId: hidden.id, size: 12_345 });
    assert.equal(await delta(), 1, 'only the exposed file whose content changed');
    const record = (await extractions(store, 'int-follow')).get(labelled.itemId);
    assert.notEqual(record?.c_tag, tagBefore);
    assert.equal(await delta(), 0);
  });

  test('new labels replace the old ones, with history', async () => {
    const items = await truthItems(ts);
    const { catalogue, files } = await ts.admin.labels();
    const reads = expectedReads(items);
    const finance = catalogue.find((l) => l.name === 'Finance');
    const file = files.find(
      (f) =>
        !f.locked && reads.includes(f.itemId) && f.labelIds.length === 1 && f.labelIds[0] !== finance?.id,
    );
    assert.ok(file && finance);
    await ts.admin.mutate({
      op: 'setItemLabels',
      driveId: file.driveId,
      itemId: file.itemId,
      labelIds: [finance.id],
    });
    assert.equal(await delta(), 1);
    const labels = (await liveLabels(store, 'int-follow')).get(file.itemId);
    assert.deepEqual(
      labels?.map((l) => [l.id, l.label_name, l.assignment_method]),
      [[finance.id, 'Finance', 'privileged']],
    );
    const history = await store.db
      .selectFrom('changes')
      .select(['change_type', 'resource_id', 'source'])
      .where('integration_id', '=', 'int-follow')
      .where('resource_type', '=', 'item_label')
      .where('item_id', '=', file.itemId)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      history.map((h) => [h.change_type, h.resource_id, h.source]),
      [
        ['added', file.labelIds[0], 'full'],
        ['added', finance.id, 'delta'],
        ['removed', file.labelIds[0], 'delta'],
      ],
    );
  });

  test('a labelled file inside a folder shared with Anyone is read and alarms; a deleted file loses its labels', async () => {
    const items = await truthItems(ts);
    const under = (folder: TruthItem, i: TruthItem) => i.path.startsWith(`${folder.path}/`);
    // A folder nobody but its owner reaches, nothing below it shared, holding label-capable files.
    const folder = items.find(
      (f) =>
        f.isFolder &&
        !f.isRoot &&
        f.exposure === 'private' &&
        items.every((i) => !under(f, i) || i.exposure === 'private') &&
        items.some((i) => !i.isFolder && capable(i.name) && under(f, i)),
    );
    assert.ok(folder);
    const inside = items.filter((i) => !i.isFolder && capable(i.name) && under(folder, i));
    const target = inside[0];
    const { catalogue } = await ts.admin.labels();
    const confidential = catalogue.find((l) => l.name === 'Confidential');
    assert.ok(confidential);
    await ts.admin.mutate({
      op: 'setItemLabels',
      driveId: target.driveId,
      itemId: target.id,
      labelIds: [confidential.id],
    });
    assert.equal(await delta(), 0, 'a private file is not read, labelled or not');
    await ts.admin.mutate({ op: 'share', driveId: folder.driveId, itemId: folder.id, kind: 'anonymous' });
    assert.equal(await delta(), inside.length, 'every label-capable file the link opened up, once');

    const rule = loadRuleFolder(join(BUILTIN_RULES_DIR, 'item_labeled_file_not_exposed'), 'builtin');
    const rows = await runRule(store, rule, {
      integrationId: 'int-follow',
      params: defaultParams(rule),
      now: new Date().toISOString(),
    });
    const row = rows.find((r) => r.resource_id === target.id);
    assert.equal(row?.status, 'alarm', row?.reason);
    assert.equal(row?.details.exposure, 'public');

    await ts.admin.mutate({ op: 'deleteItem', driveId: target.driveId, itemId: target.id });
    assert.equal(await delta(), 0);
    assert.equal((await liveLabels(store, 'int-follow')).get(target.id), undefined);
    assert.equal((await extractions(store, 'int-follow')).get(target.id), undefined);
    const after = await runRule(store, rule, {
      integrationId: 'int-follow',
      params: defaultParams(rule),
      now: new Date().toISOString(),
    });
    assert.equal(
      after.find((r) => r.resource_id === target.id),
      undefined,
    );
  });
});

describe('sensitivity labels without their permissions', () => {
  let ts: TestSim;
  before(async () => {
    ts = await startTestSim({ ...SIM, items: 400 });
  });
  after(() => ts.close());

  test('no catalogue: labels kept by id without names, the error recorded; names come once it is readable', async () => {
    const { store, cleanup } = await openTestStore('sqlite');
    const client = simClient(ts.sim);
    try {
      await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'sensitivityLabels' }]);
      const ctx = simContext(store, ts.sim, client, 'int-nocat');
      const result = await syncIntegration(ctx, { mode: 'full' });
      assert.equal(result.resources.sensitivity_label, 'accessDenied');
      const labels = [...(await liveLabels(store, 'int-nocat')).values()].flat();
      assert.ok(labels.length > 0);
      assert.ok(labels.every((l) => l.id && l.label_name === null));
      const errors = await listSyncErrors(store.db, 'int-nocat', {
        open: true,
        resourceType: 'sensitivity_label',
      });
      assert.equal(errors.length, 1);
      await ts.admin.setFaults([]);
      assert.deepEqual(await refreshTenantConfig(ctx, 'poll'), {
        tenant_settings: 'ok',
        sensitivity_label: 'ok',
      });
      const named = [...(await liveLabels(store, 'int-nocat')).values()].flat();
      assert.ok(named.every((l) => typeof l.label_name === 'string'));
      assert.equal(
        (await listSyncErrors(store.db, 'int-nocat', { open: true, resourceType: 'sensitivity_label' }))
          .length,
        0,
      );
    } finally {
      await ts.admin.setFaults([]);
      await client.close();
      await cleanup();
    }
  });

  test('extraction denied: one refused batch per drive, an error of item_label, the drives still synced', async () => {
    const { store, cleanup } = await openTestStore('sqlite');
    const client = simClient(ts.sim);
    try {
      await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'labels' }]);
      const ctx = simContext(store, ts.sim, client, 'int-nolabels');
      const result = await syncIntegration(ctx, { mode: 'full' });
      assert.equal(result.drives.failed, 0);
      const errors = await listSyncErrors(store.db, 'int-nolabels', {
        open: true,
        resourceType: 'item_label',
      });
      assert.equal(errors.length, 1);
      assert.equal(errors[0].resource_id, null);
      assert.equal((await extractions(store, 'int-nolabels')).size, 0, 'nothing recorded: read again later');
      await ts.admin.setFaults([]);
      const items = await truthItems(ts);
      const calls = await extractCalls(ts, () => syncIntegration(ctx, { mode: 'delta', directory: false }));
      assert.equal(calls, expectedReads(items).length);
      assert.equal(
        (await listSyncErrors(store.db, 'int-nolabels', { open: true, resourceType: 'item_label' })).length,
        0,
      );
      const raw = decodeValue(
        'json',
        (await store.db.selectFrom('item_labels').select('raw').executeTakeFirst())?.raw,
      );
      assert.ok((raw as { sensitivityLabelId?: string })?.sensitivityLabelId);
    } finally {
      await ts.admin.setFaults([]);
      await client.close();
      await cleanup();
    }
  });
});
