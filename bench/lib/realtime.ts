import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseChannelConfig } from '../../src/alerts/channels/config.ts';
import { type AlertsService, startAlerts } from '../../src/app/alerts.ts';
import { type AppContext, openApp } from '../../src/app/context.ts';
import { runRules } from '../../src/app/rules.ts';
import { type RulesScheduler, startRulesScheduler } from '../../src/app/rules-scheduler.ts';
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

/**
 * Alerts at the end of the chain: rules evaluated after each delta run (the service's
 * scheduler), a policy on permission_anonymous_link_absent sending each finding opened to a
 * webhook receiver in this process, which records when each alert arrives, by the finding's
 * resource (the shared item's id).
 */
export interface BenchAlerts {
  /** performance.now() when the alert naming the item (the finding's resource) arrived. */
  arrivals: Map<string, number>;
  alerts: AlertsService;
  rules: RulesScheduler;
}

async function startBenchAlerts(
  app: AppContext,
  integrationId: string,
): Promise<BenchAlerts & { server: Server }> {
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        data: { items: Array<{ resourceId: string }> };
      };
      for (const item of body.data.items)
        if (!arrivals.has(item.resourceId)) arrivals.set(item.resourceId, at);
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  // The findings already there are not alerted: a full evaluation first, then the policy.
  await runRules(app, { integration: integrationId, full: true });
  const alerts = startAlerts(app);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  await alerts.channels.add(
    'bench',
    parseChannelConfig('webhook', { url, secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` }),
  );
  await alerts.policies.add({
    name: 'bench-anyone-links',
    kind: 'rule',
    channels: ['bench'],
    filter: { rules: ['permission_anonymous_link_absent'] },
    digestThreshold: 100_000,
  });
  const rules = startRulesScheduler(app, { onEvaluated: () => void alerts.kick() });
  return { arrivals, alerts, rules, server };
}

export interface BenchRealtime {
  app: AppContext;
  /** With `alerts: true`. */
  alerts?: BenchAlerts;
  ctx: SyncContext;
  rt: RealtimeHandle;
  port: number;
  driveIds: string[];
  runs: RunRecord[];
  close(): Promise<void>;
}

/** Opens the store in `dataDir` and starts the real-time path for one integration on 127.0.0.1:port. */
export async function startBenchRealtime(
  dataDir: string,
  integrationId: string,
  opts: { serverThread?: boolean; alerts?: boolean } = {},
): Promise<BenchRealtime> {
  const port = await freePort();
  const app = await openApp({
    dataDir,
    logLevel: process.env.DW_LOG_LEVEL ?? 'warn',
    server: { host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}` },
    'alerts.allowPrivateTargets': ['127.0.0.1/32'],
  });
  const benchAlerts = opts.alerts ? await startBenchAlerts(app, integrationId) : undefined;
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
      benchAlerts?.rules.changed(integrationId);
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
    ...(benchAlerts ? { alerts: benchAlerts } : {}),
    ctx,
    rt,
    port,
    driveIds,
    runs,
    async close() {
      await benchAlerts?.rules.close();
      await benchAlerts?.alerts.close();
      await new Promise((ok) => benchAlerts?.server.close(ok) ?? ok(undefined));
      await rt.close();
      await client.close();
      await app.close();
    },
  };
}
