import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { allPages, GRAPH_ERROR_SHAPE, startTestSim, type TestSim } from '../../test/support/simulator.ts';
import type { TruthRecord } from '../contracts.ts';

const ALL3 = 'deltashowremovedasdeleted, deltatraversepermissiongaps, deltashowsharingchanges';
let ts: TestSim;
let truth: TruthRecord[];
before(async () => {
  ts = await startTestSim({ users: 12, items: 2500, deltaRepeatRate: 0 });
  truth = await ts.admin.truthArray();
});
after(() => ts.close());

const withParam = (url: string, p: string) => `${url}${url.includes('?') ? '&' : '?'}${p}`;
type ItemTruth = Extract<TruthRecord, { kind: 'item' }>;
const itemsOf = (driveId: string) =>
  truth.filter((r): r is ItemTruth => r.kind === 'item' && r.driveId === driveId);
async function biggestDrive() {
  const drives = await ts.admin.drives();
  return drives.reduce((a, b) => (b.itemCount > a.itemCount ? b : a));
}

test('drives: /users/{id}/drive, unprovisioned → 404, /drives/{id} with quota', async () => {
  const users = await ts.admin.users();
  const withDrive = users.find((u) => u.driveId)!;
  const d = await ts.get(`/users/${withDrive.id}/drive`);
  assert.equal(d.status, 200);
  assert.equal(d.body.driveType, 'business');
  assert.equal(d.body.owner.user.id, withDrive.id);
  const q = d.body.quota;
  assert.equal(q.remaining, Math.max(0, q.total - q.used));
  assert.ok(['normal', 'nearing', 'critical', 'exceeded'].includes(q.state));
  const noDrive = users.find((u) => !u.driveId && u.userType === 'Member')!;
  const nd = await ts.get(`/users/${noDrive.id}/drive`);
  assert.equal(nd.status, 404);
  assert.ok(GRAPH_ERROR_SHAPE(nd.body));
  assert.ok(truth.some((r) => r.kind === 'noDrive' && r.userId === noDrive.id));
  const byId = await ts.get(`/drives/${withDrive.driveId}`);
  assert.equal(byId.body.id, withDrive.driveId);
  const tDrive = truth.find((r) => r.kind === 'drive' && r.id === withDrive.driveId) as Extract<
    TruthRecord,
    { kind: 'drive' }
  >;
  assert.equal(byId.body.quota.used, tDrive.quotaUsed);
  assert.equal(byId.body.quota.state, tDrive.quotaState);
  const unknown = await ts.get('/drives/b!doesnotexist');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'itemNotFound');
  const root = await ts.get(`/drives/${withDrive.driveId}/root`);
  assert.ok(root.body.root);
  assert.equal((await ts.get(`/drives/${withDrive.driveId}/items/01AAAAAA0000000`)).status, 404);
});

test('delta: full enumeration = truth, parents may follow children, parentReference without path', async () => {
  const d = await biggestDrive();
  const { items, pages, deltaLink } = await allPages(ts, `/drives/${d.id}/root/delta`);
  assert.ok(deltaLink);
  assert.ok(pages.length > 1, 'several pages of 200');
  assert.equal(pages[0].body.value.length, 200);
  const expected = itemsOf(d.id);
  assert.deepEqual(new Set(items.map((i) => i.id)), new Set(expected.map((e) => e.id)));
  const pos = new Map(items.map((it, k) => [it.id, k]));
  assert.ok(
    items.some((it) => it.parentReference.id && pos.get(it.parentReference.id)! > pos.get(it.id)!),
    'a parent after its child',
  );
  for (const it of items) {
    assert.equal(it.parentReference.path, undefined);
    assert.equal(it.parentReference.driveId, d.id);
    assert.equal(it.parentReference.driveType, 'business');
    assert.ok(it.parentReference.siteId);
  }
  const byId = new Map(expected.map((e) => [e.id, e]));
  for (const it of items) {
    const e = byId.get(it.id)!;
    assert.equal(it.name, e.name);
    assert.equal(it.size, e.size);
    assert.equal(Boolean(it.folder), e.isFolder);
    assert.equal(it.lastModifiedDateTime, e.lastModifiedDateTime);
  }
  const top = await ts.get(`/drives/${d.id}/root/delta?$top=999`);
  assert.equal(top.body.value.length, Math.min(999, expected.length));
  assert.equal((await ts.get(`/drives/${d.id}/root/delta?$top=5000`)).status, 400);
  assert.equal((await ts.get(`/drives/${d.id}/root/delta?token=garbage!!`)).status, 400);
  // both link shapes are served and both work
  const shapes = new Set(
    pages.map((p) =>
      (p.body['@odata.nextLink'] ?? p.body['@odata.deltaLink']).includes('microsoft.graph.delta(')
        ? 'fn'
        : 'qs',
    ),
  );
  assert.equal(shapes.size, 2, 'both ?token= and microsoft.graph.delta(token=…) shapes');
});

test('delta with a token: changes only, deleted facet without name, no cTag, ≤7 tombstones per page, $select drops deleted', async () => {
  const d = await biggestDrive();
  const latest = await ts.get(`/users/${d.ownerId}/drive/root/delta?token=latest`);
  assert.deepEqual(latest.body.value, []);
  const link = latest.body['@odata.deltaLink'];
  assert.ok(link);
  const files = (await ts.admin.items(d.id)).filter((i) => !i.isFolder && !i.deleted);
  const { itemIds } = await ts.admin.mutate<{ itemIds: string[] }>({
    op: 'massDelete',
    driveId: d.id,
    count: 20,
  });
  const modified = files.find((f) => !itemIds.includes(f.id))!;
  await ts.admin.mutate({ op: 'modifyItem', driveId: d.id, itemId: modified.id, size: 12345 });
  const { items, pages } = await allPages(ts, link);
  assert.ok(pages.length >= 3, 'deletions come in small pages');
  for (const p of pages) assert.ok(p.body.value.filter((v: { deleted?: unknown }) => v.deleted).length <= 7);
  const deleted = items.filter((i) => i.deleted);
  assert.deepEqual(new Set(deleted.map((i) => i.id)), new Set(itemIds));
  for (const i of deleted) {
    assert.deepEqual(i.deleted, { state: 'deleted' });
    assert.equal(i.name, undefined);
    assert.equal(i.cTag, undefined);
  }
  const mod = items.find((i) => i.id === modified.id);
  assert.equal(mod.size, 12345);
  assert.equal(mod.cTag, undefined);
  const sel = await allPages(ts, withParam(link, '$select=id,name,size'));
  const selDeleted = sel.items.filter((i) => itemIds.includes(i.id));
  assert.ok(selDeleted.length > 0);
  for (const i of selDeleted) assert.equal(i.deleted, undefined, '$select without deleted drops the facet');
  const withDeleted = await allPages(ts, withParam(link, '$select=id,deleted'));
  assert.ok(
    withDeleted.items.filter((i) => itemIds.includes(i.id)).every((i) => i.deleted?.state === 'deleted'),
  );
});

test('delta: the same item may appear again on a later page (changed during enumeration, or deliberate repeats)', async () => {
  const d = await biggestDrive();
  const first = await ts.get(`/drives/${d.id}/root/delta?$top=50`);
  const seen = first.body.value[5].id;
  await ts.admin.mutate({ op: 'renameItem', driveId: d.id, itemId: seen, name: `renamed-${Date.now()}.txt` });
  const rest = await allPages(ts, first.body['@odata.nextLink']);
  const again = rest.items.filter((i) => i.id === seen);
  assert.equal(again.length, 1);
  assert.match(again[0].name, /^renamed-/);
  const rep = await startTestSim({ users: 10, items: 600, deltaRepeatRate: 0.2, seed: 9 });
  try {
    const drive = (await rep.admin.drives()).reduce((a, b) => (b.itemCount > a.itemCount ? b : a));
    const all = await allPages(rep, `/drives/${drive.id}/root/delta?$top=30`);
    const ids = all.items.map((i) => i.id);
    assert.ok(ids.length > new Set(ids).size, 'repeats present');
    assert.equal(new Set(ids).size, drive.itemCount);
  } finally {
    await rep.close();
  }
});

test('sharing: hierarchicalsharing shows shared only on roots; without it on descendants too; truth permissions match', async () => {
  truth = await ts.admin.truthArray();
  const driveIds = (await ts.admin.drives()).map((d) => d.id);
  let roots = 0;
  for (const id of driveIds.slice(0, 6)) {
    const h = await allPages(ts, `/drives/${id}/root/delta`, { prefer: 'hierarchicalsharing' });
    const plain = await allPages(ts, `/drives/${id}/root/delta`);
    const tItems = new Map(itemsOf(id).map((e) => [e.id, e]));
    for (const it of h.items) assert.equal(it.shared?.scope ?? null, tItems.get(it.id)!.sharedScope);
    const hShared = h.items.filter((i) => i.shared).length;
    roots += hShared;
    assert.ok(plain.items.filter((i) => i.shared).length >= hShared);
  }
  assert.ok(roots > 0);
  // a shared folder with children: descendants carry `shared` only without hierarchicalsharing
  const folderRoot = truth.find(
    (r): r is ItemTruth =>
      r.kind === 'item' &&
      r.isFolder &&
      r.sharedScope !== null &&
      truth.some((c) => c.kind === 'item' && c.parentId === r.id),
  );
  assert.ok(folderRoot, 'a shared folder with children exists');
  const child = truth.find((c): c is ItemTruth => c.kind === 'item' && c.parentId === folderRoot.id)!;
  const hChild = await ts.get(`/drives/${child.driveId}/items/${child.id}`, {
    prefer: 'hierarchicalsharing',
  });
  const pChild = await ts.get(`/drives/${child.driveId}/items/${child.id}`);
  if (child.sharedScope === null) assert.equal(hChild.body.shared, undefined);
  assert.ok(pChild.body.shared?.scope);
  // permissions: explicit + inherited + owner, as the truth says
  const rootsWithPerms = truth
    .filter((r): r is ItemTruth => r.kind === 'item' && r.sharedScope !== null)
    .slice(0, 8);
  for (const r of rootsWithPerms) {
    const res = await ts.get(`/drives/${r.driveId}/items/${r.id}/permissions`);
    assert.equal(res.status, 200);
    const tp = truth.filter((x) => x.kind === 'permission' && x.itemId === r.id) as Array<
      Extract<TruthRecord, { kind: 'permission' }>
    >;
    assert.deepEqual(res.body.value.map((p: { id: string }) => p.id).sort(), tp.map((p) => p.id).sort());
    assert.ok(res.body.value.some((p: { roles: string[] }) => p.roles[0] === 'owner'));
    for (const p of res.body.value) {
      // No expiry: 0001-01-01, or (links only, as Graph also does) no property at all.
      assert.ok(
        p.expirationDateTime === '0001-01-01T00:00:00Z' ||
          (p.expirationDateTime === undefined && p.link) ||
          !Number.isNaN(Date.parse(p.expirationDateTime)),
      );
      if (p.link)
        assert.ok(
          ['view', 'edit'].includes(p.link.type) &&
            typeof p.link.preventsDownload === 'boolean' &&
            p.link.webUrl,
        );
    }
  }
  const all = truth.filter((x) => x.kind === 'permission') as Array<
    Extract<TruthRecord, { kind: 'permission' }>
  >;
  assert.ok(
    all.some((p) => p.recipients.some((r) => r.includes('#ext#'))),
    'guest siteUser loginName #ext#',
  );
  assert.ok(
    all.some((p) => p.recipients.some((r) => /@(gmail|outlook|hotmail|yahoo|icloud)\.com$/.test(r))),
    'consumer mailbox',
  );
  assert.ok(all.some((p) => p.linkScope === 'anonymous'));
  assert.ok(
    all.some((p) => p.expirationDateTime !== null) &&
      all.some((p) => p.linkScope && p.expirationDateTime === null),
  );
});

test('sharing changes: item reappears in delta with the shared facet and sharedChanged only with the three Prefer values', async () => {
  const d = await biggestDrive();
  const items = await ts.admin.items(d.id);
  const folder = items.find(
    (i) =>
      i.isFolder &&
      !i.deleted &&
      i.explicitPermissions === 0 &&
      i.sharedScope === null &&
      items.some((c) => c.parentId === i.id && !c.isFolder && !c.deleted),
  )!;
  const childFile = items.find((c) => c.parentId === folder.id && !c.isFolder && !c.deleted)!;
  const file = items.find(
    (i) => !i.isFolder && !i.deleted && i.sharedScope === null && i.parentId !== folder.id,
  )!;
  const start3 = (await ts.get(`/drives/${d.id}/root/delta?token=latest`, { prefer: ALL3 })).body[
    '@odata.deltaLink'
  ];
  const startH = (await ts.get(`/drives/${d.id}/root/delta?token=latest`, { prefer: 'hierarchicalsharing' }))
    .body['@odata.deltaLink'];
  const startPlain = (await ts.get(`/drives/${d.id}/root/delta?token=latest`)).body['@odata.deltaLink'];
  const { permissionId } = await ts.admin.mutate<{ permissionId: string }>({
    op: 'share',
    driveId: d.id,
    itemId: file.id,
    kind: 'anonymous',
    linkType: 'edit',
  });
  await ts.admin.mutate({ op: 'share', driveId: d.id, itemId: folder.id, kind: 'organization' });
  const with3 = await allPages(ts, start3, { prefer: ALL3 });
  const f3 = with3.items.find((i) => i.id === file.id);
  assert.equal(f3['@microsoft.graph.sharedChanged'], 'True');
  assert.equal(f3.shared.scope, 'anonymous');
  const c3 = with3.items.find((i) => i.id === childFile.id);
  assert.ok(c3, 'a file under the newly shared folder appears with the three Prefer values');
  assert.equal(c3['@microsoft.graph.sharedChanged'], 'True');
  const fo3 = with3.items.find((i) => i.id === folder.id);
  assert.equal(fo3['@microsoft.graph.sharedChanged'], undefined, 'never on folders');
  const hier = await allPages(ts, startH, { prefer: 'hierarchicalsharing' });
  assert.equal(hier.items.find((i) => i.id === file.id).shared.scope, 'anonymous');
  assert.equal(
    hier.items.find((i) => i.id === childFile.id),
    undefined,
    'inherited change not reported without the three values',
  );
  assert.ok(hier.items.every((i) => i['@microsoft.graph.sharedChanged'] === undefined));
  const plain = await allPages(ts, startPlain);
  assert.ok(plain.items.some((i) => i.id === folder.id));
  // DELETE the anonymous link: 204, an unshare, the item reappears without shared
  const del = await ts.call('DELETE', `/drives/${d.id}/items/${file.id}/permissions/${permissionId}`);
  assert.equal(del.status, 204);
  const after = await allPages(ts, with3.deltaLink!, { prefer: ALL3 });
  const fAfter = after.items.find((i) => i.id === file.id);
  assert.equal(fAfter.shared, undefined);
  assert.equal(fAfter['@microsoft.graph.sharedChanged'], 'True');
  const again = await ts.call('DELETE', `/drives/${d.id}/items/${file.id}/permissions/${permissionId}`);
  assert.equal(again.status, 404);
  assert.ok(GRAPH_ERROR_SHAPE(again.body));
  const perms = await ts.get(`/drives/${d.id}/items/${childFile.id}/permissions`);
  const owner = perms.body.value.find((p: { roles: string[] }) => p.roles.includes('owner'));
  assert.equal(
    (await ts.call('DELETE', `/drives/${d.id}/items/${childFile.id}/permissions/${owner.id}`)).status,
    403,
  );
  const inherited = perms.body.value.find(
    (p: { link?: { scope: string } }) => p.link?.scope === 'organization',
  );
  assert.ok(inherited, 'inherited organization link listed on the child');
  assert.equal(
    (await ts.call('DELETE', `/drives/${d.id}/items/${childFile.id}/permissions/${inherited.id}`)).status,
    400,
  );
});

test('410 resyncRequired after invalidateDeltaTokens, with a Location for a fresh enumeration', async () => {
  const d = await biggestDrive();
  const link = (await ts.get(`/drives/${d.id}/root/delta?token=latest`)).body['@odata.deltaLink'];
  await ts.admin.mutate({ op: 'invalidateDeltaTokens', driveId: d.id });
  const gone = await ts.get(link);
  assert.equal(gone.status, 410);
  assert.equal(gone.body.error.code, 'resyncRequired');
  assert.ok(GRAPH_ERROR_SHAPE(gone.body));
  const location = gone.headers.location as string;
  assert.match(location, /\/root\/delta/);
  const fresh = await ts.get(location);
  assert.equal(fresh.status, 200);
});

test('mutations: create, move, rename show up in delta and truth; bad mutations are 4xx with a message', async () => {
  const d = await biggestDrive();
  const link = (await ts.get(`/drives/${d.id}/root/delta?token=latest`)).body['@odata.deltaLink'];
  const { itemId: folderId } = await ts.admin.mutate<{ itemId: string }>({
    op: 'createItem',
    driveId: d.id,
    parentId: d.rootId,
    name: 'New Folder',
    folder: true,
  });
  const { itemId: fileId } = await ts.admin.mutate<{ itemId: string }>({
    op: 'createItem',
    driveId: d.id,
    parentId: d.rootId,
    name: 'plan.docx',
    size: 999,
  });
  await ts.admin.mutate({ op: 'moveItem', driveId: d.id, itemId: fileId, newParentId: folderId });
  const changes = await allPages(ts, link);
  const f = changes.items.find((i) => i.id === fileId);
  assert.equal(f.parentReference.id, folderId);
  assert.equal(f.file.mimeType, 'application/vnd.openxmlformats-officedocument.wordprocessingml.document');
  const t2 = await ts.admin.truthArray();
  const tf = t2.find((r) => r.kind === 'item' && r.id === fileId) as ItemTruth;
  assert.equal(tf.path, '/New Folder/plan.docx');
  await assert.rejects(
    ts.admin.mutate({ op: 'createItem', driveId: d.id, parentId: folderId, name: 'plan.docx' }),
    /already exists/,
  );
  await assert.rejects(
    ts.admin.mutate({ op: 'moveItem', driveId: d.id, itemId: folderId, newParentId: fileId }),
    /file, not a folder/,
  );
  await assert.rejects(
    ts.admin.mutate({ op: 'renameItem', driveId: d.id, itemId: 'nope', name: 'x' }),
    /unknown/,
  );
  await assert.rejects(ts.admin.mutate({ op: 'bogus' } as never), /not a model mutation/);
  const before = (
    truth.find((r) => r.kind === 'drive' && r.id === d.id) as Extract<TruthRecord, { kind: 'drive' }>
  ).quotaTotal;
  await ts.admin.mutate({ op: 'setQuotaUsed', driveId: d.id, used: before });
  const drive = await ts.get(`/drives/${d.id}`);
  assert.equal(drive.body.quota.state, 'exceeded');
  assert.equal(drive.body.quota.remaining, 0);
});

test('$batch: per-sub-request answers, ≤20, dependsOn → 424, bad bodies → 400', async () => {
  const d = await biggestDrive();
  const ok = await ts.call('POST', '/$batch', {
    requests: [
      { id: '1', method: 'GET', url: `/drives/${d.id}` },
      { id: '2', method: 'GET', url: `/drives/${d.id}/items/nope/permissions` },
      { id: '3', method: 'GET', url: `/drives/${d.id}/root`, dependsOn: ['2'] },
      { id: '4', method: 'GET', url: `users?$top=2` },
    ],
  });
  assert.equal(ok.status, 200);
  const by = new Map(ok.body.responses.map((r: { id: string }) => [r.id, r]));
  assert.equal((by.get('1') as { status: number }).status, 200);
  assert.equal((by.get('2') as { status: number }).status, 404);
  assert.equal((by.get('3') as { status: number }).status, 424);
  assert.equal((by.get('4') as { body: { value: unknown[] } }).body.value.length, 2);
  const tooMany = await ts.call('POST', '/$batch', {
    requests: Array.from({ length: 21 }, (_, k) => ({ id: String(k), method: 'GET', url: '/users' })),
  });
  assert.equal(tooMany.status, 400);
  assert.ok(GRAPH_ERROR_SHAPE(tooMany.body));
  for (const bad of [
    '{not json',
    { nope: 1 },
    { requests: [{ id: '1', method: 'GET' }] },
    { requests: [{ id: '1', method: 'GET', url: 'https://evil/x' }] },
  ]) {
    const r = await ts.call('POST', '/$batch', bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.ok(GRAPH_ERROR_SHAPE(r.body));
  }
  const cycle = await ts.call('POST', '/$batch', {
    requests: [
      { id: 'a', method: 'GET', url: '/users', dependsOn: ['b'] },
      { id: 'b', method: 'GET', url: '/users', dependsOn: ['a'] },
    ],
  });
  assert.equal(cycle.status, 400);
});
