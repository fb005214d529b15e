import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../../store/schema.ts';

/**
 * Prometheus metrics (`GET /metrics`, viewer: a scrape job uses an API token). Values that
 * live in the database (open findings, sync lag, alert outcomes, queue depths) are read at
 * scrape time; the webhook acknowledgement latency is observed here; the Graph clients'
 * counters live on the main thread and arrive as `GraphUsage` snapshots.
 */

/** One integration's Graph client counters (cumulative since the process started). */
export interface GraphUsage {
  integration: string;
  ruSpent: number;
  requests: number;
  throttledResponses: number;
  throttleWaitMs: number;
}

export interface Metrics {
  registry: Registry;
  /** Observes a webhook POST's server time (seconds) and counts it by answer status. */
  observeWebhookAck(seconds: number, status?: number): void;
  /** The latest Graph counters from the main thread. */
  setGraphUsage(usage: GraphUsage[]): void;
}

export function createMetrics(db: Kysely<Database>): Metrics {
  const registry = new Registry();
  const ack = new Histogram({
    name: 'dw_webhook_ack_seconds',
    help: 'Server time of Graph webhook notification POSTs, headers to response',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3],
    registers: [registry],
  });
  // Refused requests (400 invalid JSON, 413 too large, 429 flooding source, 503) next to the
  // 202s and 200 handshakes: floods and probes show up here, not only in the latency.
  const answers = new Counter({
    name: 'dw_webhook_requests_total',
    help: 'Graph webhook POSTs answered, by HTTP status',
    labelNames: ['status'],
    registers: [registry],
  });
  new Gauge({
    name: 'dw_webhook_rejected_entries',
    help: 'Notification entries dropped (forged client state, unknown subscription, wrong tenant, malformed), by reason',
    labelNames: ['reason'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('webhook_rejections')
        .select(['reason', (eb) => eb.fn.sum<number>('count').as('n')])
        .groupBy('reason')
        .execute();
      this.reset();
      for (const r of rows) this.set({ reason: r.reason }, Number(r.n));
    },
  });
  let graph: GraphUsage[] = [];
  const graphGauge = (name: string, help: string, pick: (u: GraphUsage) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['integration'],
      registers: [registry],
      collect() {
        this.reset();
        for (const u of graph) this.set({ integration: u.integration }, pick(u));
      },
    });
  graphGauge(
    'dw_graph_ru_spent_total',
    'Graph resource units spent (estimated) since start',
    (u) => u.ruSpent,
  );
  graphGauge('dw_graph_requests_total', 'Graph requests since start', (u) => u.requests);
  graphGauge('dw_graph_throttled_total', 'Graph 429/503 answers since start', (u) => u.throttledResponses);
  graphGauge(
    'dw_graph_throttle_wait_seconds_total',
    'Time paused by throttling since start',
    (u) => u.throttleWaitMs / 1000,
  );

  new Gauge({
    name: 'dw_open_findings',
    help: 'Open findings by severity',
    labelNames: ['severity'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('findings')
        .select(['severity', (eb) => eb.fn.countAll<number>().as('n')])
        .where('status', '=', 'open')
        .groupBy('severity')
        .execute();
      this.reset();
      for (const r of rows) this.set({ severity: r.severity }, Number(r.n));
    },
  });
  new Gauge({
    name: 'dw_sync_lag_seconds',
    help: 'Seconds since each scope (users, groups, drive:<id>, …) was last collected without error',
    labelNames: ['integration', 'scope'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('sync_state')
        .select(['integration_id', 'scope', 'last_success_at'])
        .where('last_success_at', 'is not', null)
        .execute();
      const now = Date.now();
      this.reset();
      for (const r of rows)
        this.set(
          { integration: r.integration_id, scope: r.scope },
          Math.max(0, (now - new Date(r.last_success_at as string).getTime()) / 1000),
        );
    },
  });
  new Gauge({
    name: 'dw_alerts',
    help: 'Alert deliveries by status (pending, delivered, dead)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const rows = await db
        .selectFrom('alert_outbox')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute();
      this.reset();
      for (const r of rows) this.set({ status: r.status }, Number(r.n));
    },
  });
  new Gauge({
    name: 'dw_queue_depth',
    help: 'Work waiting: alert deliveries not yet processed',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const row = await db
        .selectFrom('alert_outbox')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('processed_at', 'is', null)
        .executeTakeFirst();
      this.set({ queue: 'alert_outbox' }, Number(row?.n ?? 0));
    },
  });
  return {
    registry,
    observeWebhookAck: (seconds, status) => {
      ack.observe(seconds);
      if (status !== undefined) answers.inc({ status: String(status) });
    },
    setGraphUsage: (usage) => {
      graph = usage;
    },
  };
}

/** Counter type re-exported for callers that add their own. */
export type { Counter };

/** `GET /metrics` (viewer) and `GET /readyz` (public: database reachable and migrated). */
export function metricsRoutes(app: FastifyInstance, db: Kysely<Database>, metrics: Metrics): void {
  app.get('/metrics', { config: { access: 'viewer' }, schema: { hide: true } }, async (_req, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
  app.get('/readyz', { config: { access: 'public' }, schema: { hide: true } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(db);
      // The newest migration's table: a store not yet migrated is not ready.
      await db.selectFrom('app_users').select('id').limit(1).execute();
      return reply.send({ status: 'ready' });
    } catch (err) {
      return reply.code(503).send({ status: 'not ready', reason: (err as Error).message });
    }
  });
}
