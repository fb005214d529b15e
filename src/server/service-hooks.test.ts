import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simCredentials } from '../../sim/connection.ts';
import { startTestApi } from '../../test/support/api.ts';
import { startTestSim } from '../../test/support/simulator.ts';
import { testDialects } from '../../test/support/store.ts';
import { waitFor } from '../../test/support/wait.ts';
import type { ServiceHooks } from '../app/commands/types.ts';
import { countExposure } from '../store/exposure-daily.ts';
import { type Service, startService } from './service.ts';

const liveItems = async (db: Awaited<ReturnType<typeof startTestApi>>['app']['store']['db'], id: string) =>
  Number(
    (
      await db
        .selectFrom('drive_items')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('integration_id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow()
    ).n,
  );

for (const dialect of testDialects()) {
  test(`an integration added through the API while the service runs is collected without a restart (${dialect})`, async () => {
    const sim = await startTestSim({ users: 6, items: 90 });
    let service: Service | undefined;
    // The API's commands reach the running service through its hooks (as on `serve`).
    const hooks: Partial<ServiceHooks> = {
      integrationAdded: (id) => service?.hooks.integrationAdded(id),
      integrationRemoved: (id) => service?.hooks.integrationRemoved(id),
    };
    const api = await startTestApi({ dialect, hooks, config: { sync: { pollIntervalSeconds: 1 } } });
    try {
      service = await startService(api.app, {
        listen: false,
        rules: false,
        alerts: false,
        heartbeatMs: 60_000,
      });
      await service.ready; // nothing to collect at start
      const res = await api.admin.post('/api/v1/integrations', {
        ...simCredentials(sim.sim),
        name: 'late',
        verifiedDomains: sim.sim.verifiedDomains,
      });
      assert.equal(res.status, 201, res.text);
      const id = res.body.integration.id as string;
      await service.added();
      const items = await liveItems(api.app.store.db, id);
      assert.ok(items > 0, 'items collected');
      const row = (await api.viewer.get(`/api/v1/integrations/${id}`)).body;
      assert.equal(row.items, items);
      assert.ok(['ok', 'degraded'].includes(row.status), row.status);
      // Its exposure is counted for the overview's trend once collected (exposure_daily).
      await waitFor(
        "today's exposure count",
        async () =>
          (await api.app.store.db
            .selectFrom('exposure_daily')
            .selectAll()
            .where('integration_id', '=', id)
            .executeTakeFirst()) !== undefined,
        { timeoutMs: 10_000, intervalMs: 50 },
      );
      const counted = await api.app.store.db
        .selectFrom('exposure_daily')
        .selectAll()
        .where('integration_id', '=', id)
        .executeTakeFirstOrThrow();
      const live = await countExposure(api.app.store.db, id);
      assert.equal(counted.day, new Date().toISOString().slice(0, 10));
      assert.deepEqual(
        [Number(counted.public_files), Number(counted.private_files), Number(counted.private_bytes)],
        [live.public.files, live.private.files, live.private.bytes],
      );
      assert.ok(live.private.files + live.public.files > 0);
      // Then real time: the polling safety net (every second here) now covers its drives.
      const [drive] = await sim.admin.drives();
      await sim.admin.mutate({
        op: 'createItem',
        driveId: drive.id,
        parentId: drive.rootId,
        name: 'added-while-serving.txt',
      });
      await waitFor(
        'the new file through the real-time path',
        async () =>
          (
            await api.app.store.db
              .selectFrom('drive_items')
              .select('id')
              .where('integration_id', '=', id)
              .where('name', '=', 'added-while-serving.txt')
              .execute()
          ).length === 1,
        { timeoutMs: 20_000, intervalMs: 100 },
      );

      // Disabled: dropped from the service; enabled: collected again.
      assert.equal((await api.admin.post(`/api/v1/integrations/${id}/disable`)).status, 200);
      assert.equal((await api.admin.post(`/api/v1/integrations/${id}/enable`)).status, 200);
      await service.added();
      assert.equal(await liveItems(api.app.store.db, id), items + 1);
    } finally {
      await service?.close();
      await api.close();
      await sim.close();
    }
  });
}
