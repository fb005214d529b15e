import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import type { SimDriveSummary, SimItemSummary } from '../admin-client.ts';

/**
 * The calls common Graph clients make for OneDrive, over plain HTTP: an item by id and by
 * path (drive and user forms, with and without the closing colon), children with $top and
 * @odata.nextLink paging (by id and by path), $expand=children, and Graph's error shapes.
 */

const enc = (path: string) =>
  path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');

describe('simulator: calls of standard Graph clients', () => {
  let env: TestSim;
  let drive: SimDriveSummary;
  let ownerId: string;
  let items: SimItemSummary[];
  let folder: SimItemSummary;
  let file: SimItemSummary;
  let kidsOf: (id: string) => SimItemSummary[];
  before(async () => {
    env = await startTestSim({ seed: 3, users: 6, items: 400 });
    const drives = await env.admin.drives();
    drive = drives.reduce((a, b) => (b.itemCount > a.itemCount ? b : a));
    ownerId = drive.ownerId;
    items = (await env.admin.items(drive.id)).filter((i) => !i.deleted);
    kidsOf = (id) => items.filter((i) => i.parentId === id);
    const folders = items.filter((i) => i.isFolder && i.parentId !== null);
    folder = folders.reduce((a, b) => (kidsOf(b.id).length > kidsOf(a.id).length ? b : a));
    file = items.filter((i) => !i.isFolder && i.path.split('/').length > 2)[0];
    assert.ok(kidsOf(folder.id).length >= 5, 'a folder with several children');
    assert.ok(file, 'a file below a folder');
  });
  after(async () => env?.close());

  test('an item by id and by path: the same item, in the drive and user forms', async () => {
    const byId = await env.get(`/drives/${drive.id}/items/${file.id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body.id, file.id);
    assert.equal(byId.body.name, file.name);
    assert.match(byId.body['@odata.context'], /\$metadata#drives\('.+'\)\/items\/\$entity$/);
    const parentPath = file.path.slice(0, file.path.lastIndexOf('/'));
    assert.equal(byId.body.parentReference.path, `/drive/root:${parentPath}`);
    for (const url of [
      `/drives/${drive.id}/root:${enc(file.path)}`,
      `/drives/${drive.id}/root:${enc(file.path)}:`,
      `/users/${ownerId}/drive/root:${enc(file.path)}:`,
      `/users/${ownerId}/drive/items/${file.id}`,
      `/drives/${drive.id}/root:${enc(file.path.toUpperCase())}`,
      `/drives/${drive.id}/items/${file.parentId}:/${encodeURIComponent(file.name)}:`,
    ]) {
      const r = await env.get(url);
      assert.equal(r.status, 200, `${url}: ${r.text}`);
      assert.deepEqual({ ...r.body, '@odata.context': null }, { ...byId.body, '@odata.context': null }, url);
    }
    const root = await env.get(`/drives/${drive.id}/root:/`);
    assert.equal(root.status, 200);
    assert.equal(root.body.id, drive.rootId);
    assert.ok(root.body.root);
  });

  test('children by id and by path, paged with $top and @odata.nextLink', async () => {
    const expected = kidsOf(folder.id)
      .map((k) => k.id)
      .sort();
    for (const first of [
      `/drives/${drive.id}/items/${folder.id}/children?$top=2`,
      `/drives/${drive.id}/root:${enc(folder.path)}:/children?$top=2`,
      `/users/${ownerId}/drive/items/${folder.id}/children?$top=2&$select=id,name`,
    ]) {
      const seen: string[] = [];
      let url: string | undefined = first;
      let pages = 0;
      while (url) {
        const r = await env.get(url);
        assert.equal(r.status, 200, `${url}: ${r.text}`);
        assert.ok(r.body.value.length <= 2, 'at most $top per page');
        for (const v of r.body.value) seen.push(v.id);
        if (first.includes('$select')) for (const v of r.body.value) assert.equal(v.size, undefined);
        url = r.body['@odata.nextLink'];
        pages++;
      }
      assert.equal(pages, Math.ceil(expected.length / 2), first);
      assert.deepEqual(seen.sort(), expected, first);
    }
    const rootKids = await env.get(`/users/${ownerId}/drive/root/children`);
    assert.deepEqual(
      rootKids.body.value.map((v: { id: string }) => v.id).sort(),
      kidsOf(drive.rootId)
        .map((k) => k.id)
        .sort(),
    );
  });

  test('$expand=children inlines the children, with their own $select', async () => {
    const r = await env.get(`/drives/${drive.id}/items/${folder.id}?$expand=children`);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.children.map((c: { id: string }) => c.id).sort(),
      kidsOf(folder.id)
        .map((k) => k.id)
        .sort(),
    );
    const listed = await env.get(`/drives/${drive.id}/items/${folder.id}/children`);
    const first = listed.body.value[0];
    assert.deepEqual(
      r.body.children.find((c: { id: string }) => c.id === first.id),
      first,
    );
    const narrow = await env.get(
      `/drives/${drive.id}/root:${enc(folder.path)}:?$select=id,name&$expand=children($select=id,name)`,
    );
    assert.equal(narrow.status, 200, narrow.text);
    assert.equal(narrow.body.id, folder.id);
    assert.equal(narrow.body.size, undefined);
    for (const c of narrow.body.children) {
      assert.deepEqual(
        Object.keys(c)
          .filter((k) => !k.startsWith('@'))
          .sort(),
        ['id', 'name'],
      );
    }
    const ofFile = await env.get(`/drives/${drive.id}/items/${file.id}?$expand=children`);
    assert.deepEqual(ofFile.body.children, []);
  });

  test("Graph's errors: missing path or item, unknown drive, bad $top", async () => {
    const cases: Array<[string, number, string]> = [
      [`/drives/${drive.id}/root:/no/such/file.txt`, 404, 'itemNotFound'],
      [`/drives/${drive.id}/root:${enc(file.path)}/below-a-file`, 404, 'itemNotFound'],
      [`/drives/${drive.id}/items/01NOSUCHITEM`, 404, 'itemNotFound'],
      [`/drives/b!nosuchdrive/root:/Documents`, 404, 'itemNotFound'],
      [`/drives/${drive.id}/items/${folder.id}/children?$top=abc`, 400, 'invalidRequest'],
      [`/drives/${drive.id}/items/${folder.id}/children?$top=1000`, 400, 'invalidRequest'],
    ];
    for (const [url, status, code] of cases) {
      const r = await env.get(url);
      assert.equal(r.status, status, `${url}: ${r.text}`);
      assert.equal(r.body.error.code, code, url);
      assert.equal(typeof r.body.error.message, 'string');
      assert.ok(r.body.error.innerError['request-id'], 'innerError carries the request id');
    }
  });
});
