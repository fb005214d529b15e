import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { simClient, simContext } from '../../test/support/collector.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { defaultParams } from '../rules/definition.ts';
import { BUILTIN_RULES_DIR, loadRuleFolder } from '../rules/loader.ts';
import { runRule } from '../rules/run-rule.ts';
import { decodeValue } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import { listSyncErrors } from '../store/sync-state.ts';
import { syncIntegration } from './sync.ts';
import { refreshTenantConfig } from './tenant-config.ts';

/** Tenant settings against the simulator: collected with history, re-read on the directory schedule. */

const SIM = { users: 10, items: 200 };
const SETTINGS = 'GET /admin/sharepoint/settings';

async function history(store: Store, integrationId: string) {
  const rows = await store.db
    .selectFrom('changes')
    .select(['resource_id', 'change_type', 'fields', 'before', 'after', 'source'])
    .where('integration_id', '=', integrationId)
    .where('resource_type', '=', 'tenant_settings')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    ...r,
    fields: decodeValue('json', r.fields),
    before: decodeValue('json', r.before),
    after: decodeValue('json', r.after),
  }));
}

async function settingsRow(store: Store, integrationId: string) {
  return store.db
    .selectFrom('tenant_settings')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
}

const sharingRule = loadRuleFolder(join(BUILTIN_RULES_DIR, 'tenant_external_sharing_limited'), 'builtin');
const idleRule = loadRuleFolder(join(BUILTIN_RULES_DIR, 'tenant_idle_sign_out_enabled'), 'builtin');

async function status(store: Store, integrationId: string, rule = sharingRule) {
  const rows = await runRule(store, rule, {
    integrationId,
    params: defaultParams(rule),
    now: new Date().toISOString(),
  });
  return rows.map((r) => r.status).join(',');
}

for (const dialect of testDialects()) {
  describe(`tenant settings against the simulator (${dialect})`, () => {
    let ts: TestSim;
    before(async () => {
      ts = await startTestSim(SIM);
    });
    after(() => ts.close());

    test('collected with history; a change seen on the directory schedule is a modified row and flips the rules', async () => {
      const { store, cleanup } = await openTestStore(dialect);
      const client = simClient(ts.sim);
      try {
        const ctx = simContext(store, ts.sim, client, 'int-settings');
        const result = await syncIntegration(ctx, { mode: 'full', items: false });
        assert.equal(result.resources.tenant_settings, 'ok');
        const row = await settingsRow(store, 'int-settings');
        assert.equal(row?.id, ts.sim.tenantId);
        assert.equal(row?.sharing_capability, 'externalUserSharingOnly');
        assert.equal(row?.sharing_domain_restriction_mode, 'none');
        assert.equal(decodeValue('boolean', row?.idle_sign_out_enabled), false);
        assert.equal(row?.personal_site_default_storage_limit_mb, 1_048_576);
        assert.deepEqual(decodeValue('json', row?.sharing_allowed_domains), []);
        assert.equal((decodeValue('json', row?.raw) as Record<string, unknown>).isLoopEnabled, true);
        assert.deepEqual(
          (await history(store, 'int-settings')).map((h) => [h.change_type, h.source]),
          [['added', 'full']],
        );
        assert.equal(await status(store, 'int-settings'), 'alarm');
        assert.equal(await status(store, 'int-settings', idleRule), 'alarm');

        await ts.admin.mutate({
          op: 'setSharepointSettings',
          settings: {
            sharingCapability: 'existingExternalUserSharingOnly',
            idleSessionSignOut: { isEnabled: true, warnAfterInSeconds: 1500, signOutAfterInSeconds: 1800 },
          },
        });
        const before = await ts.admin.counters();
        assert.deepEqual(await refreshTenantConfig(ctx, 'poll'), {
          tenant_settings: 'ok',
          sensitivity_label: 'ok',
        });
        const counters = await ts.admin.counters();
        assert.equal(counters.requestsByEndpoint[SETTINGS] - before.requestsByEndpoint[SETTINGS], 1);
        const changes = await history(store, 'int-settings');
        assert.equal(changes.length, 2);
        assert.deepEqual(changes[1], {
          resource_id: ts.sim.tenantId,
          change_type: 'modified',
          fields: [
            'sharing_capability',
            'idle_sign_out_enabled',
            'idle_sign_out_warn_after_seconds',
            'idle_sign_out_after_seconds',
          ],
          before: {
            sharing_capability: 'externalUserSharingOnly',
            idle_sign_out_enabled: false,
            idle_sign_out_warn_after_seconds: 0,
            idle_sign_out_after_seconds: 0,
          },
          after: {
            sharing_capability: 'existingExternalUserSharingOnly',
            idle_sign_out_enabled: true,
            idle_sign_out_warn_after_seconds: 1500,
            idle_sign_out_after_seconds: 1800,
          },
          source: 'poll',
        });
        assert.equal(await status(store, 'int-settings'), 'ok');
        assert.equal(await status(store, 'int-settings', idleRule), 'ok');

        await refreshTenantConfig(ctx, 'poll');
        assert.equal(
          (await history(store, 'int-settings')).length,
          2,
          'an unchanged re-read writes no history',
        );
      } finally {
        await ts.admin.mutate({
          op: 'setSharepointSettings',
          settings: { sharingCapability: 'externalUserSharingOnly' },
        });
        await client.close();
        await cleanup();
      }
    });
  });
}

describe('tenant settings the app may not read, or wrapped in value', () => {
  let ts: TestSim;
  before(async () => {
    ts = await startTestSim({ ...SIM, wrapSingleValues: true, sharepointSettings: { preset: 'hardened' } });
  });
  after(() => ts.close());

  test('without SharePointTenantSettings.Read.All: an error of tenant_settings, nothing stored, the rest collected', async () => {
    const { store, cleanup } = await openTestStore('sqlite');
    const client = simClient(ts.sim);
    try {
      await ts.admin.setFaults([{ kind: 'forbidden403', resourceType: 'tenantSettings' }]);
      const ctx = simContext(store, ts.sim, client, 'int-denied');
      const result = await syncIntegration(ctx, { mode: 'full', items: false });
      assert.equal(result.resources.tenant_settings, 'accessDenied');
      assert.equal(result.resources.user, 'ok');
      assert.equal(await settingsRow(store, 'int-denied'), undefined);
      const errors = await listSyncErrors(store.db, 'int-denied', {
        open: true,
        resourceType: 'tenant_settings',
      });
      assert.deepEqual(
        errors.map((e) => [e.status, e.code, e.resource_id]),
        [[403, 'accessDenied', null]],
      );
      assert.equal(await status(store, 'int-denied'), '', 'no row: the engine reports the missing data');

      await ts.admin.setFaults([]);
      await refreshTenantConfig(ctx, 'poll');
      assert.equal(
        (await listSyncErrors(store.db, 'int-denied', { open: true, resourceType: 'tenant_settings' }))
          .length,
        0,
      );
      // The {"value": …} shape of the documentation's example reads like the bare object.
      const row = await settingsRow(store, 'int-denied');
      assert.equal(row?.sharing_capability, 'existingExternalUserSharingOnly');
      assert.deepEqual(decodeValue('json', row?.sharing_allowed_domains), [
        'fabrikam.test',
        'partner.example',
      ]);
      assert.equal(await status(store, 'int-denied'), 'ok');
    } finally {
      await ts.admin.setFaults([]);
      await client.close();
      await cleanup();
    }
  });
});
