import { type AppContext, openApp } from '../../src/app/context.ts';
import type { SyncContext } from '../../src/collect/context.ts';
import { syncDrive } from '../../src/collect/drive-sync.ts';
import type { DeltaRunner, RunSource } from '../../src/collect/realtime/types.ts';
import { syncIntegration } from '../../src/collect/sync.ts';
import { type RealtimeHandle, startRealtime } from '../../src/server/realtime.ts';
import { freePort } from '../../test/support/ports.ts';

export { freePort };

export interface RunRecord {
  driveId: string;
  source: RunSource;
  startedAt: number;
  finishedAt: number;
  ok: boolean;
}

export interface BenchRealtime {
  app: AppContext;
  ctx: SyncContext;
  rt: RealtimeHandle;
  port: number;
  driveIds: string[];
  runs: RunRecord[];
  close(): Promise<void>;
}

/**
 * Opens the store in `dataDir` and starts the real-time path for one integration on
 * 127.0.0.1:port, its delta runs made in hand (not queued) so that each is recorded: what
 * webhook-load measures. The realtime scenario runs the service itself (service.ts).
 */
export async function startBenchRealtime(
  dataDir: string,
  integrationId: string,
  opts: { serverThread?: boolean } = {},
): Promise<BenchRealtime> {
  const port = await freePort();
  const app = await openApp({
    dataDir,
    logLevel: process.env.DW_LOG_LEVEL ?? 'warn',
    server: { host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}` },
  });
  const integration = await app.integrations.getWithCredentials(integrationId);
  const client = app.graphClientFor(integration);
  const ctx: SyncContext = {
    store: app.store,
    client,
    integration: { ...integration },
    logger: app.logger,
    concurrency: app.config.sync.concurrency,
  };
  const driveIds = (
    await app.store.db
      .selectFrom('drives')
      .select('id')
      .where('integration_id', '=', integrationId)
      .where('deleted_at', 'is', null)
      .execute()
  ).map((d) => d.id);
  const runs: RunRecord[] = [];
  const runner: DeltaRunner = {
    async runDriveDelta(_id, driveId, source) {
      const rec: RunRecord = { driveId, source, startedAt: performance.now(), finishedAt: 0, ok: false };
      runs.push(rec);
      const result = await syncDrive(ctx, driveId, { source: source === 'poll' ? 'poll' : 'webhook' });
      rec.finishedAt = performance.now();
      if (result.error) throw new Error(`drive ${driveId}: ${result.error.code}: ${result.error.message}`);
      rec.ok = true;
    },
    async runUsersDelta() {
      await syncIntegration(ctx, { mode: 'delta', items: false });
    },
  };
  const rt = await startRealtime({
    store: app.store,
    config: app.config,
    logger: app.logger,
    graphClientFor: () => client,
    runner,
    integrations: async () => [
      { id: integrationId, tenantId: integration.tenantId, enabled: true, driveIds },
    ],
    listen: { host: '127.0.0.1', port },
    serverThread: opts.serverThread,
    recordRequestTimings: true,
  });
  const reports = await rt.firstSync;
  const errors = reports.flatMap((r) => r.errors);
  if (errors.length > 0) throw new Error(`subscriptions failed: ${JSON.stringify(errors).slice(0, 1000)}`);
  return {
    app,
    ctx,
    rt,
    port,
    driveIds,
    runs,
    async close() {
      await rt.close();
      await client.close();
      await app.close();
    },
  };
}
