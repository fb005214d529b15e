import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type AnyJson,
  call,
  GRAPH_TOKEN,
  type Harness,
  MGMT_TOKEN,
  startHarness,
  TENANT,
} from '../../test/support/sim-events.ts';

const feed = `/api/v1.0/${TENANT}/activity/feed`;
const m = (h: Harness, method: string, path: string, auth: string | null = MGMT_TOKEN) =>
  call(h, method, `${feed}/${path}`, undefined, auth);

interface Content {
  contentType: string;
  contentId: string;
  contentUri: string;
  contentCreated: string;
  contentExpiration: string;
}

/** Lists every content entry of the default window, following NextPageUri. */
async function listAll(
  h: Harness,
  query = 'contentType=Audit.SharePoint',
): Promise<{ items: Content[]; pages: number }> {
  let url: string | null = `${h.base}${feed}/subscriptions/content?${query}`;
  const items: Content[] = [];
  let pages = 0;
  while (url) {
    const res: Response = await fetch(url, { headers: { authorization: MGMT_TOKEN } });
    assert.equal(res.status, 200, await res.clone().text());
    items.push(...((await res.json()) as Content[]));
    pages++;
    url = res.headers.get('NextPageUri');
    assert.ok(pages < 100, 'paging terminates');
  }
  return { items, pages };
}

async function events(items: Content[]): Promise<AnyJson[]> {
  const out: AnyJson[] = [];
  for (const c of items) {
    const res = await fetch(c.contentUri, { headers: { authorization: MGMT_TOKEN } });
    assert.equal(res.status, 200);
    out.push(...((await res.json()) as AnyJson[]));
  }
  return out;
}

describe('Office 365 Management Activity API', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ auditBlobSeconds: 5 });
  });
  after(() => h.close());

  test('401 without a management token (a Graph token is not enough); 403 without the permission', async () => {
    for (const auth of [null, GRAPH_TOKEN]) {
      const res = await m(h, 'GET', 'subscriptions/list', auth);
      assert.equal(res.status, 401);
      assert.ok(res.body.error.code);
    }
    h.runtime.forbidden.add('audit');
    try {
      const res = await m(h, 'GET', 'subscriptions/list');
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'AF10001');
    } finally {
      h.runtime.forbidden.delete('audit');
    }
    const otherTenant = await call(
      h,
      'GET',
      '/api/v1.0/other-tenant/activity/feed/subscriptions/list',
      undefined,
      MGMT_TOKEN,
    );
    assert.equal(otherTenant.status, 400);
  });

  test('start, list and stop subscriptions; content needs an enabled subscription', async () => {
    const early = await m(h, 'GET', 'subscriptions/content?contentType=Audit.SharePoint');
    assert.equal(early.status, 400);
    assert.equal(early.body.error.code, 'AF20022');
    const bad = await m(h, 'POST', 'subscriptions/start?contentType=Audit.Nope');
    assert.equal(bad.status, 400);
    const missing = await m(h, 'POST', 'subscriptions/start');
    assert.equal(missing.body.error.code, 'AF20001');
    const emptyJson = await fetch(`${h.base}${feed}/subscriptions/start?contentType=Audit.Exchange`, {
      method: 'POST',
      headers: { authorization: MGMT_TOKEN, 'content-type': 'application/json' },
    });
    assert.equal(emptyJson.status, 200, 'an empty body with a JSON content type is fine');
    for (const type of ['Audit.SharePoint', 'Audit.General']) {
      const res = await m(h, 'POST', `subscriptions/start?contentType=${type}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { contentType: type, status: 'enabled', webhook: null });
    }
    const list = await m(h, 'GET', 'subscriptions/list');
    assert.deepEqual(
      list.body.map((s: { contentType: string; status: string }) => `${s.contentType}:${s.status}`).sort(),
      ['Audit.Exchange:enabled', 'Audit.General:enabled', 'Audit.SharePoint:enabled'],
    );
    assert.equal((await m(h, 'POST', 'subscriptions/stop?contentType=Audit.General')).status, 200);
    assert.equal(
      (await m(h, 'GET', 'subscriptions/content?contentType=Audit.General')).body.error.code,
      'AF20022',
    );
    assert.ok(
      (await m(h, 'GET', 'subscriptions/list')).body.some((s: { status: string }) => s.status === 'disabled'),
    );
  });

  test('content window errors', async () => {
    const now = h.runtime.clock.now();
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);
    const cases: Array<[string, string]> = [
      [`startTime=${iso(now - 25 * 3600_000)}&endTime=${iso(now)}`, 'AF20055'],
      [`startTime=${iso(now - 3600_000)}&endTime=${iso(now - 7200_000)}`, 'AF20055'],
      [`startTime=${iso(now - 3600_000)}`, 'AF20055'],
      [`startTime=${iso(now - 8 * 86400_000)}&endTime=${iso(now - 8 * 86400_000 + 3600_000)}`, 'AF20056'],
      ['startTime=yesterday&endTime=today', 'AF20054'],
      [`startTime=${iso(now - 3600_000)}&endTime=${iso(now)}&nextPage=bad`, 'AF20031'],
    ];
    for (const [q, code] of cases) {
      const res = await m(h, 'GET', `subscriptions/content?contentType=Audit.SharePoint&${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.body.error.code, code, q);
      assert.ok(res.body.error.message.length > 10);
    }
    const ok = await m(
      h,
      'GET',
      `subscriptions/content?contentType=Audit.SharePoint&startTime=${iso(now - 24 * 3600_000)}&endTime=${iso(now)}`,
    );
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, []);
  });

  test('a sequence of changes becomes audit events with the documented fields', async () => {
    const r = h.runtime;
    const d = 'd-alice';
    const act = { actorId: 'u-alice', clientIp: '203.0.113.5' };
    r.setItem(d, 'f1', '/Reports', true);
    r.emit({ kind: 'item', op: 'created', driveId: d, itemId: 'f1', ...act });
    r.setItem(d, 'i1', '/Plan.docx');
    r.emit({ kind: 'item', op: 'created', driveId: d, itemId: 'i1', ...act });
    r.emit({ kind: 'item', op: 'updated', driveId: d, itemId: 'i1', ...act });
    r.setItem(d, 'i1', '/Budget.xlsx');
    r.emit({ kind: 'item', op: 'updated', driveId: d, itemId: 'i1', ...act });
    r.setItem(d, 'i1', '/Reports/Budget.xlsx');
    r.emit({ kind: 'item', op: 'updated', driveId: d, itemId: 'i1', ...act });
    const share = { kind: 'permission' as const, op: 'shared' as const, driveId: d, itemId: 'i1', ...act };
    r.emit({ ...share, permissionId: 'p-anon', linkScope: 'anonymous' });
    r.emit({ ...share, permissionId: 'p-org', linkScope: 'organization' });
    r.emit({ ...share, permissionId: 'p-ext', linkScope: 'users', targetEmail: 'eve@fabrikam.test' });
    r.emit({ ...share, permissionId: 'p-int', linkScope: 'users', targetEmail: 'bob@contoso.test' });
    r.emit({ kind: 'permission', op: 'unshared', driveId: d, itemId: 'i1', permissionId: 'p-anon', ...act });
    r.emit({
      kind: 'access',
      op: 'downloaded',
      driveId: d,
      itemId: 'i1',
      actorId: 'u-bob',
      clientIp: '192.0.2.77',
    });
    r.emit({ kind: 'access', op: 'accessed', driveId: d, itemId: 'i1', actorUpn: 'carol@contoso.test' });
    r.setItem(d, 'i1', '/Reports/Budget.xlsx', false, true);
    r.emit({ kind: 'item', op: 'deleted', driveId: d, itemId: 'i1', ...act });
    r.setItem(d, 'f1', '/Reports', true, true);
    r.emit({ kind: 'item', op: 'deleted', driveId: d, itemId: 'f1', ...act });
    r.emit({ kind: 'user', op: 'updated', userId: 'u-bob' }); // no audit record

    const before = await listAll(h);
    assert.equal(before.items.length, 0, 'not available before the blob window closed');
    r.clock.advance(6);
    const { items } = await listAll(h);
    assert.ok(items.length >= 1);
    for (const c of items) {
      assert.equal(c.contentType, 'Audit.SharePoint');
      assert.ok(c.contentUri.startsWith(`${h.base}${feed}/audit/`));
      assert.equal(Date.parse(c.contentExpiration) - Date.parse(c.contentCreated), 7 * 86400_000);
    }
    const all = await events(items);
    assert.deepEqual(
      all.map((e) => e.Operation),
      [
        'FolderCreated',
        'FileUploaded',
        'FileModified',
        'FileRenamed',
        'FileMoved',
        'AnonymousLinkCreated',
        'CompanyLinkCreated',
        'SharingInvitationCreated',
        'SharingSet',
        'SharingRevoked',
        'FileDownloaded',
        'FileAccessed',
        'FileDeleted',
        'FolderDeleted',
      ],
    );
    assert.equal(new Set(all.map((e) => e.Id)).size, all.length, 'unique Ids');
    const [folder, upload, , rename, move, anon, , invite, direct, revoke, download, access] = all;
    assert.deepEqual(
      {
        RecordType: upload.RecordType,
        UserId: upload.UserId,
        UserType: upload.UserType,
        Workload: upload.Workload,
        ObjectId: upload.ObjectId,
        ClientIP: upload.ClientIP,
        SiteUrl: upload.SiteUrl,
        SourceRelativeUrl: upload.SourceRelativeUrl,
        SourceFileName: upload.SourceFileName,
        SourceFileExtension: upload.SourceFileExtension,
        ItemType: upload.ItemType,
        OrganizationId: upload.OrganizationId,
      },
      {
        RecordType: 6,
        UserId: 'alice@contoso.test',
        UserType: 0,
        Workload: 'OneDrive',
        ObjectId: 'https://contoso-my.sharepoint.test/personal/alice_contoso_test/Documents/Plan.docx',
        ClientIP: '203.0.113.5',
        SiteUrl: 'https://contoso-my.sharepoint.test/personal/alice_contoso_test/',
        SourceRelativeUrl: 'Documents',
        SourceFileName: 'Plan.docx',
        SourceFileExtension: 'docx',
        ItemType: 'File',
        OrganizationId: TENANT,
      },
    );
    assert.match(
      upload.CreationTime,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/,
      'UTC without zone, as the real API',
    );
    assert.ok(upload.UserAgent);
    assert.equal(folder.ItemType, 'Folder');
    assert.equal(folder.SourceFileExtension, undefined);
    assert.deepEqual([rename.SourceFileName, rename.DestinationFileName], ['Plan.docx', 'Budget.xlsx']);
    assert.deepEqual(
      [move.SourceRelativeUrl, move.DestinationRelativeUrl],
      ['Documents', 'Documents/Reports'],
    );
    assert.equal(anon.RecordType, 14);
    assert.equal(anon.UniqueSharingId, 'p-anon');
    assert.deepEqual(
      [invite.TargetUserOrGroupName, invite.TargetUserOrGroupType],
      ['eve@fabrikam.test', 'Guest'],
    );
    assert.deepEqual(
      [direct.TargetUserOrGroupName, direct.TargetUserOrGroupType],
      ['bob@contoso.test', 'Member'],
    );
    assert.equal(revoke.RecordType, 14);
    assert.deepEqual(
      [download.UserId, download.ClientIP, download.RecordType],
      ['bob@contoso.test', '192.0.2.77', 6],
    );
    assert.equal(access.UserId, 'carol@contoso.test');
  });

  test('rename/move of an item never seen before is detected from optional previousName/previousParentId hints', async () => {
    const p = await startHarness({ auditBlobSeconds: 1 });
    try {
      await call(
        p,
        'POST',
        `${feed}/subscriptions/start?contentType=Audit.SharePoint`,
        undefined,
        MGMT_TOKEN,
      );
      p.runtime.setItem('d-bob', 'g1', '/Docs/new name.pptx');
      p.runtime.emit({
        kind: 'item',
        op: 'updated',
        driveId: 'd-bob',
        itemId: 'g1',
        previousName: 'old name.pptx',
      } as never);
      p.runtime.setItem('d-bob', 'g2', '/Archive/b.txt');
      p.runtime.emit({
        kind: 'item',
        op: 'updated',
        driveId: 'd-bob',
        itemId: 'g2',
        previousParentId: 'f9',
      } as never);
      p.runtime.setItem('d-bob', 'g3', '/c.txt');
      p.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-bob', itemId: 'g3' });
      p.runtime.clock.advance(2);
      const all = await events((await listAll(p)).items);
      assert.deepEqual(
        all.map((e) => [e.Operation, e.SourceFileName, e.DestinationFileName]),
        [
          ['FileRenamed', 'old name.pptx', 'new name.pptx'],
          ['FileMoved', 'b.txt', 'b.txt'],
          ['FileModified', 'c.txt', undefined],
        ],
      );
    } finally {
      await p.close();
    }
  });

  test('paging through NextPageUri returns every blob exactly once', async () => {
    const p = await startHarness({ auditBlobSeconds: 1, auditContentPageSize: 3 });
    try {
      assert.equal(
        (
          await call(
            p,
            'POST',
            `${feed}/subscriptions/start?contentType=Audit.SharePoint`,
            undefined,
            MGMT_TOKEN,
          )
        ).status,
        200,
      );
      p.runtime.setItem('d-bob', 'x', '/x.txt');
      for (let i = 0; i < 8; i++) {
        p.runtime.emit({ kind: 'item', op: 'updated', driveId: 'd-bob', itemId: 'x', actorId: 'u-bob' });
        p.runtime.clock.advance(1);
      }
      p.runtime.clock.advance(2);
      const { items, pages } = await listAll(p);
      assert.equal(items.length, 8);
      assert.equal(pages, 3);
      assert.equal(new Set(items.map((c) => c.contentId)).size, 8);
      const sorted = [...items].sort((a, b) => Date.parse(a.contentCreated) - Date.parse(b.contentCreated));
      assert.deepEqual(items, sorted);
      assert.equal((await events(items)).length, 8);
    } finally {
      await p.close();
    }
  });

  test('late content: delayed events, out-of-order blobs and duplicates that de-duplicate on Id', async () => {
    const p = await startHarness({
      auditBlobSeconds: 60,
      auditDelaySeconds: 600,
      auditLateRate: 0.5,
      auditDuplicateRate: 0.5,
    });
    try {
      await call(
        p,
        'POST',
        `${feed}/subscriptions/start?contentType=Audit.SharePoint`,
        undefined,
        MGMT_TOKEN,
      );
      p.runtime.setItem('d-bob', 'x', '/x.txt');
      for (let i = 0; i < 40; i++) {
        p.runtime.emit({ kind: 'access', op: 'accessed', driveId: 'd-bob', itemId: 'x', actorId: 'u-bob' });
        p.runtime.clock.advance(30);
      }
      // 20 minutes after the last event: the 10-minute delay has passed, the late ones have not.
      const early = await events((await listAll(p)).items);
      const earlyIds = new Set(early.map((e) => e.Id));
      assert.ok(earlyIds.size > 0 && earlyIds.size < 40, `some on time, some late (${earlyIds.size})`);
      p.runtime.clock.advance(13 * 3600);
      const start = new Date(p.runtime.clock.now() - 24 * 3600_000 + 60_000).toISOString();
      const end = new Date(p.runtime.clock.now()).toISOString();
      const all = await events(
        (await listAll(p, `contentType=Audit.SharePoint&startTime=${start}&endTime=${end}`)).items,
      );
      const ids = new Set(all.map((e) => e.Id));
      assert.equal(ids.size, 40, 'every event arrives eventually');
      assert.ok(all.length > 40, 'some arrive twice');
      const times = all.map((e) => e.CreationTime as string);
      assert.notDeepEqual(times, [...times].sort(), 'out of order across blobs');
    } finally {
      await p.close();
    }
  });

  test('more than the per-minute budget answers 429 AF429 until the next minute', async () => {
    const p = await startHarness({ managementRateLimitPerMinute: 5 });
    try {
      // Align to the start of a simulated minute so the window does not roll over mid-test.
      const now = p.runtime.clock.now();
      p.runtime.clock.advance((60_000 - (now % 60_000) + 100) / 1000);
      for (let i = 0; i < 5; i++) assert.equal((await m(p, 'GET', 'subscriptions/list')).status, 200);
      const res = await m(p, 'GET', 'subscriptions/list');
      assert.equal(res.status, 429);
      assert.equal(res.body.error.code, 'AF429');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      p.runtime.clock.advance(60);
      assert.equal((await m(p, 'GET', 'subscriptions/list')).status, 200);
    } finally {
      await p.close();
    }
  });
});
