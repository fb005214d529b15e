/**
 * End to end through the real simulator (HTTPS, real tokens, real tenant model): a drive subscription
 * receives a notification for an admin mutation, and the audit feed serves the matching events.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Receiver } from '../../test/support/sim-events.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { waitFor } from '../../test/support/wait.ts';

let ts: TestSim;
let receiver: Receiver;

before(async () => {
  ts = await startTestSim({ allowHttpNotifications: true, users: 8, items: 120 });
  receiver = await new Receiver().start();
});
after(async () => {
  await receiver?.close();
  await ts?.close();
});

test('subscription → notification → audit content, through the real simulator', async () => {
  const drives = await ts.admin.drives();
  const drive = drives[0];
  assert.ok(drive, 'the tenant has a drive');

  const created = await ts.call('POST', '/subscriptions', {
    changeType: 'updated',
    notificationUrl: `${receiver.url}/hook`,
    resource: `/drives/${drive.id}/root`,
    expirationDateTime: new Date(Date.now() + 24 * 3600_000).toISOString(),
    clientState: 'e2e-state',
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(receiver.validations().length, 1);

  const { itemId } = await ts.admin.mutate<{ itemId: string }>({
    op: 'createItem',
    driveId: drive.id,
    parentId: drive.rootId,
    name: 'e2e-report.xlsx',
  });
  await ts.admin.mutate({ op: 'share', driveId: drive.id, itemId, kind: 'anonymous' });
  await waitFor('a notification', () => receiver.notifications().length >= 1);
  const entry = receiver.notifications()[0].json!.value[0];
  assert.equal(entry.subscriptionId, created.body.id);
  assert.equal(entry.clientState, 'e2e-state');
  assert.equal(entry.tenantId, ts.sim.tenantId);
  assert.equal(entry.resourceData, null);

  const mgmt = { authorization: `Bearer ${await ts.token('management')}` };
  const feed = `${ts.sim.managementBaseUrl}/${ts.sim.tenantId}/activity/feed`;
  const noToken = await ts.call('GET', `${feed}/subscriptions/list`, undefined, { authorization: '' });
  assert.equal(noToken.status, 401);
  const graphToken = await ts.call('GET', `${feed}/subscriptions/list`);
  assert.equal(graphToken.status, 401, 'a Graph token is not a management token');
  assert.equal(
    (await ts.call('POST', `${feed}/subscriptions/start?contentType=Audit.SharePoint`, undefined, mgmt))
      .status,
    200,
  );
  await ts.admin.mutate({ op: 'advanceClock', seconds: 30 });
  const listing = await ts.call(
    'GET',
    `${feed}/subscriptions/content?contentType=Audit.SharePoint`,
    undefined,
    mgmt,
  );
  assert.equal(listing.status, 200, listing.text);
  assert.ok(listing.body.length >= 1);
  const records = [];
  for (const c of listing.body) {
    const blob = await ts.call('GET', c.contentUri, undefined, mgmt);
    assert.equal(blob.status, 200);
    records.push(...blob.body);
  }
  const mine = records.filter((r) => r.ListItemUniqueId === itemId);
  assert.deepEqual(
    mine.map((r) => r.Operation),
    ['FileUploaded', 'AnonymousLinkCreated'],
  );
  assert.equal(mine[0].SourceFileName, 'e2e-report.xlsx');
  assert.equal(mine[0].SourceFileExtension, 'xlsx');
  assert.equal(mine[0].UserId, drive.ownerUserPrincipalName);

  const stats = await ts.call('GET', `${ts.sim.adminUrl}/events/stats`, undefined, {
    authorization: `Bearer ${ts.sim.adminSecret}`,
  });
  assert.equal(stats.status, 200);
  assert.equal(stats.body.subscriptions.length, 1);
  const counters = await ts.admin.counters();
  assert.ok(counters.notificationsDelivered >= 1);

  assert.equal((await ts.call('DELETE', `/subscriptions/${created.body.id}`)).status, 204);
});

test('rename and move of generated items (never seen by the audit feed) → FileRenamed / FileMoved', async () => {
  const drive = (await ts.admin.drives()).find((d) => d.itemCount > 10)!;
  const items = await ts.admin.items(drive.id);
  const folders = items.filter((i) => i.isFolder && !i.deleted && i.parentId !== null);
  const files = items.filter((i) => !i.isFolder && !i.deleted);
  const renamed = files[0];
  const moved = files.find((f) => f !== renamed && folders.some((x) => x.id !== f.parentId))!;
  const target = folders.find((x) => x.id !== moved.parentId)!;
  const folder = folders.find((x) => x.id !== target.id && !target.path.startsWith(`${x.path}/`))!;
  assert.ok(renamed && moved && target && folder, 'a tenant with files and folders');

  const mgmt = { authorization: `Bearer ${await ts.token('management')}` };
  const feed = `${ts.sim.managementBaseUrl}/${ts.sim.tenantId}/activity/feed`;
  await ts.call('POST', `${feed}/subscriptions/start?contentType=Audit.SharePoint`, undefined, mgmt);
  await ts.admin.mutate({
    op: 'renameItem',
    driveId: drive.id,
    itemId: renamed.id,
    name: `renamed-${renamed.name}`,
  });
  await ts.admin.mutate({ op: 'moveItem', driveId: drive.id, itemId: moved.id, newParentId: target.id });
  await ts.admin.mutate({ op: 'renameItem', driveId: drive.id, itemId: folder.id, name: 'Renamed folder' });
  await ts.admin.mutate({ op: 'advanceClock', seconds: 30 });

  const listing = await ts.call(
    'GET',
    `${feed}/subscriptions/content?contentType=Audit.SharePoint`,
    undefined,
    mgmt,
  );
  assert.equal(listing.status, 200, listing.text);
  // biome-ignore lint/suspicious/noExplicitAny: audit records are JSON
  const records: any[] = [];
  for (const c of listing.body) records.push(...(await ts.call('GET', c.contentUri, undefined, mgmt)).body);
  const of = (id: string) => records.filter((r) => r.ListItemUniqueId === id);

  const [rename] = of(renamed.id);
  assert.equal(rename?.Operation, 'FileRenamed');
  assert.equal(rename.SourceFileName, renamed.name);
  assert.equal(rename.DestinationFileName, `renamed-${renamed.name}`);
  assert.equal(rename.SourceRelativeUrl, rename.DestinationRelativeUrl, 'same folder');

  const [move] = of(moved.id);
  assert.equal(move?.Operation, 'FileMoved');
  assert.equal(move.SourceFileName, moved.name);
  assert.equal(move.DestinationFileName, moved.name);
  const parentOf = (p: string) => p.slice(0, p.lastIndexOf('/'));
  assert.ok(move.SourceRelativeUrl.endsWith(parentOf(moved.path)), move.SourceRelativeUrl);
  assert.ok(move.DestinationRelativeUrl.endsWith(target.path), move.DestinationRelativeUrl);
  assert.notEqual(move.SourceRelativeUrl, move.DestinationRelativeUrl);

  const [folderRename] = of(folder.id);
  assert.equal(folderRename?.Operation, 'FolderRenamed');
  assert.equal(folderRename.SourceFileName, folder.name);
  assert.equal(folderRename.DestinationFileName, 'Renamed folder');
});

test('SimOptions.events reach the event half; subscriptions carry the app id', async () => {
  const own = await startTestSim({
    allowHttpNotifications: true,
    users: 6,
    items: 60,
    events: { managementRateLimitPerMinute: 2 },
  });
  try {
    const drive = (await own.admin.drives())[0];
    const created = await own.call('POST', '/subscriptions', {
      changeType: 'updated',
      notificationUrl: `${receiver.url}/hook`,
      resource: `/drives/${drive.id}/root`,
      expirationDateTime: new Date(Date.now() + 3600_000).toISOString(),
      clientState: 'opts',
    });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.applicationId, own.sim.clientId);
    const mgmt = { authorization: `Bearer ${await own.token('management')}` };
    const list = `${own.sim.managementBaseUrl}/${own.sim.tenantId}/activity/feed/subscriptions/list`;
    const statuses = [];
    for (let k = 0; k < 3; k++) statuses.push((await own.call('GET', list, undefined, mgmt)).status);
    assert.deepEqual(statuses, [200, 200, 429], 'the configured per-minute limit applies');
  } finally {
    await own.close();
  }
});
