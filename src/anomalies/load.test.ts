import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { insertAuditEvents } from '../store/audit.ts';
import { encodeValue } from '../store/codec.ts';
import type { Store } from '../store/store.ts';
import { loadActivityEvents, loadDetectorSettings, loadHistoryRemovals, loadQuotaSamples } from './load.ts';
import { runDetectors } from './run.ts';
import { resolveDetectorSettings } from './settings.ts';

const T0 = Date.parse('2026-03-10T10:00:00Z');

for (const dialect of testDialects()) {
  describe(`anomaly inputs from the store (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
    });
    after(async () => cleanup());

    test('events, quota history and per-integration settings load; runDetectors finds a burst', async () => {
      const rows = Array.from({ length: 60 }, (_, k) => ({
        id: `dl-${k}`,
        time: new Date(T0 + k * 500).toISOString(),
        operation: 'FileDownloaded',
        record_type: 6,
        workload: 'OneDrive',
        actor_upn: 'ann@contoso.test',
        actor_id: 'u1',
        actor_type: 'regular',
        client_ip: '198.51.100.10',
        user_agent: null,
        object_url: `https://h/f${k}.docx`,
        site_url: null,
        drive_id: 'd1',
        item_id: `i${k}`,
        item_type: 'File',
        file_name: `f${k}.docx`,
        extension: 'docx',
        target_name: null,
        target_type: null,
        link_scope: null,
        content_id: 'c1',
        raw: {},
      }));
      await insertAuditEvents(store.db, store.dialect, 'int-l', rows, new Date(T0).toISOString());
      const events = await loadActivityEvents(
        store.db,
        'int-l',
        new Date(T0 - 1000).toISOString(),
        new Date(T0 + 3600_000).toISOString(),
      );
      assert.equal(events.length, 60);
      assert.equal(events[0].time, T0);
      assert.equal(events[0].actor, 'ann@contoso.test');

      await store.db
        .insertInto('changes')
        .values({
          integration_id: 'int-l',
          tenant_id: 't',
          resource_type: 'drive',
          resource_id: 'd1',
          drive_id: 'd1',
          item_id: null,
          group_id: null,
          change_type: 'modified',
          fields: encodeValue('json', ['quota_used'], store.dialect),
          before: encodeValue('json', { quota_used: 100 * 1024 ** 3 }, store.dialect),
          after: encodeValue('json', { quota_used: 140 * 1024 ** 3 }, store.dialect),
          actor: null,
          source: 'poll',
          observed_at: new Date(T0).toISOString(),
        })
        .execute();
      await store.db
        .insertInto('changes')
        .values({
          integration_id: 'int-l',
          tenant_id: 't',
          resource_type: 'drive_item',
          resource_id: 'gone-1',
          drive_id: 'd2',
          item_id: null,
          group_id: null,
          change_type: 'removed',
          fields: encodeValue('json', ['name'], store.dialect),
          before: encodeValue('json', { name: 'a.docx' }, store.dialect),
          after: null,
          actor: null,
          source: 'delta',
          observed_at: new Date(T0).toISOString(),
        })
        .execute();
      const removals = await loadHistoryRemovals(
        store.db,
        'int-l',
        new Date(T0 - 1000).toISOString(),
        new Date(T0 + 1000).toISOString(),
      );
      assert.deepEqual(
        removals.map((r) => [r.driveId, r.itemId, r.operation, r.time]),
        [['d2', 'gone-1', 'FileDeleted', T0]],
      );
      const quota = await loadQuotaSamples(store.db, 'int-l', new Date(T0 - 3600_000).toISOString());
      assert.deepEqual(
        quota.map((q) => [q.driveId, q.used]),
        [
          ['d1', 100 * 1024 ** 3],
          ['d1', 140 * 1024 ** 3],
        ],
      );

      await store.db
        .insertInto('rule_settings')
        .values({
          integration_id: 'int-l',
          rule_id: 'mass_download',
          enabled: encodeValue('boolean', true, store.dialect) as boolean,
          params: encodeValue('json', { threshold: 70 }, store.dialect),
          updated_at: new Date(T0).toISOString(),
          updated_by: null,
        })
        .execute();
      const settings = await loadDetectorSettings(store.db, 'int-l');
      assert.equal(settings.params.mass_download.threshold, 70);
      const withOverride = await runDetectors(store.db, 'int-l', { now: T0 + 3600_000 });
      assert.deepEqual(
        withOverride.map((d) => d.detector),
        ['quota_spike'],
        '60 downloads < the override of 70',
      );
      const withDefaults = await runDetectors(store.db, 'int-l', {
        now: T0 + 3600_000,
        settings: resolveDetectorSettings(),
      });
      assert.deepEqual(withDefaults.map((d) => d.detector).sort(), ['mass_download', 'quota_spike']);
    });
  });
}
