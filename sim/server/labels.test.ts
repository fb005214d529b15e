import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GRAPH_ERROR_SHAPE, startTestSim, type TestSim } from '../../test/support/simulator.ts';

/** Tenant settings, the label catalogue and extractSensitivityLabels, as the simulator serves them. */

const EXTRACT = 'POST /drives/{id}/items/{id}/extractSensitivityLabels';

describe('GET /admin/sharepoint/settings', () => {
  let ts: TestSim;
  before(async () => {
    ts = await startTestSim({
      sharepointSettings: { overrides: { sharingBlockedDomainList: ['evil.example'] } },
    });
  });
  after(() => ts.close());

  test('serves the mixed preset with overrides, honours $select, costs 1 RU', async () => {
    await ts.admin.resetCounters();
    const all = await ts.get('/admin/sharepoint/settings');
    assert.equal(all.status, 200);
    assert.equal(all.body['@odata.type'], '#microsoft.graph.sharepointSettings');
    assert.equal(all.body.sharingCapability, 'externalUserSharingOnly');
    assert.equal(all.body.sharingDomainRestrictionMode, 'none');
    assert.equal(all.body.isResharingByExternalUsersEnabled, false);
    assert.deepEqual(all.body.idleSessionSignOut, {
      isEnabled: false,
      warnAfterInSeconds: 0,
      signOutAfterInSeconds: 0,
    });
    assert.deepEqual(all.body.sharingBlockedDomainList, ['evil.example']);
    const some = await ts.get('/admin/sharepoint/settings?$select=sharingCapability,idleSessionSignOut');
    assert.deepEqual(
      Object.keys(some.body)
        .filter((k) => !k.startsWith('@'))
        .sort(),
      ['idleSessionSignOut', 'sharingCapability'],
    );
    const bad = await ts.get('/admin/sharepoint/settings?$select=nope');
    assert.equal(bad.status, 400);
    assert.ok(GRAPH_ERROR_SHAPE(bad.body));
    assert.equal((await ts.admin.counters()).ruSpent, 3);
  });

  test('setSharepointSettings changes what is served; bad values are refused naming the property', async () => {
    await ts.admin.mutate({
      op: 'setSharepointSettings',
      settings: {
        sharingCapability: 'disabled',
        idleSessionSignOut: { isEnabled: true, signOutAfterInSeconds: 900 },
      },
    });
    const s = (await ts.get('/admin/sharepoint/settings')).body;
    assert.equal(s.sharingCapability, 'disabled');
    assert.deepEqual(s.idleSessionSignOut, {
      isEnabled: true,
      warnAfterInSeconds: 0,
      signOutAfterInSeconds: 900,
    });
    await assert.rejects(
      ts.admin.mutate({ op: 'setSharepointSettings', settings: { sharingCapability: 'everyone' } }),
      /sharingCapability must be one of disabled/,
    );
    await assert.rejects(
      ts.admin.mutate({ op: 'setSharepointSettings', settings: { noSuchSetting: true } }),
      /unknown property 'noSuchSetting'/,
    );
  });

  test('without SharePointTenantSettings.Read.All: 403 accessDenied', async () => {
    await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'tenantSettings' }]);
    try {
      const res = await ts.get('/admin/sharepoint/settings');
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'accessDenied');
    } finally {
      await ts.admin.setFaults([]);
    }
  });
});

describe('sensitivity labels', () => {
  let ts: TestSim;
  before(async () => {
    ts = await startTestSim({ labels: { share: 0.5, lockedShare: 0.05 }, items: 600 });
  });
  after(() => ts.close());

  test('the catalogue nests sublabels; displayName is null, name carries the name', async () => {
    const res = await ts.get('/security/dataSecurityAndGovernance/sensitivityLabels');
    assert.equal(res.status, 200);
    const names = res.body.value.map((l: { name: string }) => l.name);
    assert.deepEqual(names, ['Public', 'General', 'Confidential', 'Highly Confidential']);
    const highly = res.body.value[3];
    assert.equal(highly.isAppliable, false);
    assert.deepEqual(
      highly.sublabels.map((l: { name: string }) => l.name),
      ['All Employees', 'Finance'],
    );
    assert.equal(highly.displayName, null);
    await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'sensitivityLabels' }]);
    try {
      assert.equal((await ts.get('/security/dataSecurityAndGovernance/sensitivityLabels')).status, 403);
    } finally {
      await ts.admin.setFaults([]);
    }
  });

  test('extractSensitivityLabels: labels of a labelled file, none, 423 when locked, errors for folders and other types', async () => {
    const { files } = await ts.admin.labels();
    const labelled = files.find((f) => !f.locked && f.labelIds.length > 0);
    const locked = files.find((f) => f.locked);
    assert.ok(labelled && locked, 'the tenant has labelled and locked files');
    await ts.admin.resetCounters();
    const url = (d: string, i: string) => `/drives/${d}/items/${i}/extractSensitivityLabels`;
    const res = await ts.call('POST', url(labelled.driveId, labelled.itemId));
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.labels.map((l: { sensitivityLabelId: string }) => l.sensitivityLabelId),
      labelled.labelIds,
    );
    assert.equal(res.body.labels[0].tenantId, ts.sim.tenantId);
    assert.match(res.body.labels[0].assignmentMethod, /^(standard|auto|privileged)$/);
    assert.equal((await ts.admin.counters()).ruSpent, 2, 'a POST action is priced like a write');

    const gone = await ts.call('POST', url(locked.driveId, locked.itemId));
    assert.equal(gone.status, 423);
    assert.equal(gone.body.error.code, 'fileDoubleKeyEncrypted');

    const items = await ts.admin.items(labelled.driveId);
    const folder = items.find((i) => i.isFolder && i.parentId !== null);
    const text = items.find(
      (i) => !i.isFolder && !i.deleted && /\.(txt|png|jpg|csv|zip|md|json)$/.test(i.name),
    );
    const plain = items.find(
      (i) =>
        !i.isFolder && !i.deleted && /\.(docx|pdf)$/.test(i.name) && !files.some((f) => f.itemId === i.id),
    );
    assert.ok(folder && text && plain);
    assert.equal((await ts.call('POST', url(labelled.driveId, folder.id))).status, 400);
    const unsupported = await ts.call('POST', url(labelled.driveId, text.id));
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body.error.code, 'notSupported');
    assert.deepEqual((await ts.call('POST', url(labelled.driveId, plain.id))).body.labels, []);
    assert.equal((await ts.call('POST', url(labelled.driveId, 'nope'))).status, 404);
  });

  test('setItemLabels is a content change; the labels follow; it works in $batch', async () => {
    const { catalogue, files } = await ts.admin.labels();
    const file = files.find((f) => !f.locked && f.labelIds.length > 0);
    assert.ok(file);
    const finance = catalogue.find((l) => l.name === 'Finance');
    const before = await ts.get(`/drives/${file.driveId}/items/${file.itemId}`);
    await ts.admin.mutate({
      op: 'setItemLabels',
      driveId: file.driveId,
      itemId: file.itemId,
      labelIds: [finance?.id ?? ''],
    });
    const after = await ts.get(`/drives/${file.driveId}/items/${file.itemId}`);
    assert.notEqual(after.body.cTag, before.body.cTag);
    assert.notEqual(after.body.file.hashes.quickXorHash, before.body.file.hashes.quickXorHash);
    await ts.admin.resetCounters();
    const batch = await ts.call('POST', '/$batch', {
      requests: [
        {
          id: '1',
          method: 'POST',
          url: `/drives/${file.driveId}/items/${file.itemId}/extractSensitivityLabels`,
        },
      ],
    });
    assert.equal(batch.body.responses[0].status, 200);
    assert.deepEqual(batch.body.responses[0].body.labels, [
      { sensitivityLabelId: finance?.id, assignmentMethod: 'privileged', tenantId: ts.sim.tenantId },
    ]);
    const counters = await ts.admin.counters();
    assert.equal(counters.requestsByEndpoint[EXTRACT], 1);
    const highly = catalogue.find((l) => l.name === 'Highly Confidential');
    await assert.rejects(
      ts.admin.mutate({
        op: 'setItemLabels',
        driveId: file.driveId,
        itemId: file.itemId,
        labelIds: [highly?.id ?? ''],
      }),
      /has sublabels and cannot be applied/,
    );
  });
});

describe('wrapSingleValues', () => {
  let ts: TestSim;
  before(async () => {
    ts = await startTestSim({ wrapSingleValues: true, labels: { share: 1 } });
  });
  after(() => ts.close());

  test('serves the settings and extraction results in {"value": …} like the documentation examples', async () => {
    const settings = await ts.get('/admin/sharepoint/settings');
    assert.equal(settings.body.value.sharingCapability, 'externalUserSharingOnly');
    assert.equal(settings.body.sharingCapability, undefined);
    const { files } = await ts.admin.labels();
    const f = files[0];
    const res = await ts.call('POST', `/drives/${f.driveId}/items/${f.itemId}/extractSensitivityLabels`);
    assert.equal(res.body.value['@odata.type'], '#microsoft.graph.extractSensitivityLabelsResult');
    assert.equal(res.body.value.labels.length, 1);
  });
});
