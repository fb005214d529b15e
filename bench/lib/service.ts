import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseChannelConfig } from '../../src/alerts/channels/config.ts';
import type { AlertsService } from '../../src/app/alerts.ts';
import { type AppContext, openApp } from '../../src/app/context.ts';
import { type Service, startService } from '../../src/server/service.ts';
import { freePort } from '../../test/support/ports.ts';

/** The rule whose findings the bench alerts on: a file's first Anyone link opens one. */
export const ALERTED_RULE = 'permission_anonymous_link_absent';

/**
 * The product's service (`drivewarden serve` in this process, embedded: its in-process job
 * queue on the SQLite store) for a synced tenant, with webhooks to 127.0.0.1:port and an
 * alert policy on ALERTED_RULE sending each finding opened to a webhook receiver in this
 * process, which records when each alert arrives, by the finding's resource (the item's id).
 * Delta runs and rule evaluations are the service's jobs, as in production.
 */
export interface BenchService {
  app: AppContext;
  service: Service;
  /** performance.now() when the alert naming the item (the finding's resource) arrived. */
  arrivals: Map<string, number>;
  /** drive.delta jobs completed since the service's start-up collection ended. */
  deltaRuns(): number;
  /** Resolves once no notification is debounced and no job is queued or running. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** Opens the store in `dataDir` and starts the service for it, once `integrationId` is collected and subscribed. */
export async function startBenchService(dataDir: string, integrationId: string): Promise<BenchService> {
  const port = await freePort();
  const receiver = await startAlertReceiver();
  const app = await openApp({
    dataDir,
    logLevel: process.env.DW_LOG_LEVEL ?? 'warn',
    server: { host: '127.0.0.1', port, publicUrl: `http://127.0.0.1:${port}` },
    'alerts.allowPrivateTargets': ['127.0.0.1/32'],
  });
  let service: Service | undefined;
  try {
    service = await startService(app, { listen: { host: '127.0.0.1', port }, api: false });
    // The start-up collection ends with a full evaluation: the findings already there are
    // opened before the policy exists, so only the bench's own changes are alerted.
    await service.ready;
    await requireSubscriptions(app, integrationId);
    if (!service.alerts) throw new Error('the service routes no alerts');
    await addAlertPolicy(service.alerts, receiver.url);
    const started = service;
    const completedRuns = () => started.jobs.queue.stats().completedByKind['drive.delta'] ?? 0;
    const runsAtStart = completedRuns();
    return {
      app,
      service: started,
      arrivals: receiver.arrivals,
      deltaRuns: () => completedRuns() - runsAtStart,
      async idle() {
        await started.realtime.coordinator.idle();
        await started.jobs.queue.idle();
      },
      async close() {
        await started.close();
        await new Promise((ok) => receiver.server.close(ok));
        await app.close();
      },
    };
  } catch (err) {
    await service?.close().catch(() => undefined);
    await new Promise((ok) => receiver.server.close(ok));
    await app.close();
    throw err;
  }
}

/** Fails unless every live drive of the integration has an active subscription. */
async function requireSubscriptions(app: AppContext, integrationId: string): Promise<void> {
  const count = async (query: Promise<{ n: string | number | bigint }>) => Number((await query).n);
  const drives = await count(
    app.store.db
      .selectFrom('drives')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('integration_id', '=', integrationId)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow(),
  );
  const subscribed = await count(
    app.store.db
      .selectFrom('graph_subscriptions')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('integration_id', '=', integrationId)
      .where('status', '=', 'active')
      .where('resource', 'like', '/drives/%')
      .executeTakeFirstOrThrow(),
  );
  if (subscribed < drives)
    throw new Error(`${subscribed} of ${drives} drives subscribed after the service's start-up`);
}

async function addAlertPolicy(alerts: AlertsService, url: string): Promise<void> {
  await alerts.channels.add(
    'bench',
    parseChannelConfig('webhook', { url, secret: `whsec_${Buffer.alloc(32, 7).toString('base64')}` }),
  );
  await alerts.policies.add({
    name: 'bench-anyone-links',
    kind: 'rule',
    channels: ['bench'],
    filter: { rules: [ALERTED_RULE] },
    digestThreshold: 100_000,
  });
}

/** A webhook channel's receiver: the first arrival of each alerted resource. */
async function startAlertReceiver(): Promise<{ url: string; server: Server; arrivals: Map<string, number> }> {
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
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, server, arrivals };
}
