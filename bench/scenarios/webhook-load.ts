/**
 * webhook-load: bursts of change notifications, sent over real HTTP from this process to
 * the running receiver (valid subscription ids and clientState taken from its table),
 * while a full sync runs in the same process (as in `drivewarden serve`). Measures the
 * time to the receiver's 2xx per POST and checks that every acknowledged notification
 * became a delta run (its inbox row processed).
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Pool } from 'undici';
import { numberFlag, percentile, round, type Scenario } from '../harness.ts';
import { startSimProcess } from '../lib/processes.ts';
import { addIntegration, checkAgainstTruth, productEnv, runSync } from '../lib/product.ts';
import { startBenchRealtime } from '../lib/realtime.ts';
import { profileArgs, scenarioDir, sleep } from '../lib/temp.ts';

export const webhookLoad: Scenario = {
  name: 'webhook-load',
  description: 'notification bursts against the receiver during a sync: ack latency, nothing lost',
  async run(ctx) {
    const users = numberFlag(ctx, 'users', 200, 8);
    const items = numberFlag(ctx, 'items', 100_000, 2_000);
    const total = numberFlag(ctx, 'notifications', 20_000, 600);
    const burst = numberFlag(ctx, 'burst', 200, 100);
    const gapMs = numberFlag(ctx, 'burst-gap-ms', 100, 50);
    const connections = numberFlag(ctx, 'connections', 50, 20);
    const drainTimeoutMs = numberFlag(ctx, 'drain-timeout-ms', 180_000, 60_000);
    const tmp = scenarioDir('webhook-load', ctx.flags.keep === 'true');
    const sim = await startSimProcess(
      tmp.dir,
      ['--seed', '1', '--users', String(users), '--items', String(items), '--allow-http-notifications'],
      { extraNodeArgs: profileArgs(ctx.flags, 'sim') },
    );
    let bench: Awaited<ReturnType<typeof startBenchRealtime>> | undefined;
    let pool: Pool | undefined;
    try {
      const p = productEnv(tmp.dir);
      const integrationId = await addIntegration(p, sim);
      await runSync(p);
      bench = await startBenchRealtime(p.dataDir, integrationId);
      const db = bench.app.store.db;
      const subs = await db
        .selectFrom('graph_subscriptions')
        .select(['id', 'client_state', 'resource', 'notification_url', 'tenant_id', 'expiration'])
        .where('integration_id', '=', integrationId)
        .where('status', '=', 'active')
        .where('resource', 'like', '/drives/%')
        .execute();
      if (subs.length === 0) throw new Error('no active drive subscription to notify');
      const url = new URL(subs[0].notification_url);
      pool = new Pool(url.origin, { connections });
      const bodies = subs.map((s) =>
        JSON.stringify({
          value: [
            {
              subscriptionId: s.id,
              subscriptionExpirationDateTime: s.expiration,
              clientState: s.client_state,
              changeType: 'updated',
              resource: s.resource,
              tenantId: s.tenant_id,
              resourceData: null,
            },
          ],
        }),
      );
      await bench.rt.coordinator.idle();
      const loadStart = new Date().toISOString();
      ctx.log(
        `${total} notifications in bursts of ${burst} over ${subs.length} subscriptions while a full sync runs`,
      );
      const syncStarted = performance.now();
      let syncSeconds = 0;
      const withSync = ctx.flags.sync !== 'false';
      const sync = (async () => {
        if (!withSync) return;
        const { syncIntegration } = await import('../../src/collect/sync.ts');
        await syncIntegration(bench.ctx, { mode: 'full' });
        syncSeconds = (performance.now() - syncStarted) / 1000;
      })();

      const acks: number[] = [];
      let acked = 0;
      let refused = 0;
      const send = async (k: number) => {
        const t0 = performance.now();
        try {
          const res = await pool!.request({
            path: url.pathname + url.search,
            method: 'POST',
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body: bodies[k % bodies.length],
          });
          await res.body.dump();
          const ms = performance.now() - t0;
          if (res.statusCode >= 200 && res.statusCode < 300) {
            acked++;
            acks.push(ms);
          } else refused++;
        } catch {
          refused++;
        }
      };
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      const loadStarted = performance.now();
      const inFlight: Promise<void>[] = [];
      for (let sent = 0; sent < total; sent += burst) {
        const n = Math.min(burst, total - sent);
        const wave: Promise<void>[] = [];
        for (let j = 0; j < n; j++) wave.push(send(sent + j));
        inFlight.push(...wave);
        await sleep(gapMs);
      }
      await Promise.all(inFlight);
      loop.disable();
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      const syncStillRunning = syncSeconds === 0;
      await sync;
      ctx.log(
        `load sent in ${round(loadSeconds, 1)} s; sync took ${round(syncSeconds, 1)} s; draining the inbox`,
      );

      // Every acknowledged notification must end processed (a delta run covered it).
      const drainStart = performance.now();
      let unprocessed = Number.POSITIVE_INFINITY;
      while (performance.now() - drainStart < drainTimeoutMs) {
        const row = await db
          .selectFrom('webhook_inbox')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('processed_at', 'is', null)
          .executeTakeFirstOrThrow();
        unprocessed = Number(row.n);
        if (unprocessed === 0) break;
        await sleep(100);
      }
      await bench.rt.coordinator.idle();
      const processedRow = await db
        .selectFrom('webhook_inbox')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('lifecycle_event', 'is', null)
        .where('received_at', '>=', loadStart)
        .where('processed_at', 'is not', null)
        .executeTakeFirstOrThrow();
      const processed = Number(processedRow.n);
      const webhookRuns = bench.runs.filter((r) => r.source === 'webhook');
      const check = await checkAgainstTruth(bench.app.store, integrationId, sim.admin);
      if (!check.correct) ctx.log(`inventory differs from the truth:\n${check.detail}`);
      const under3s = acks.filter((ms) => ms < 3000).length;
      return {
        notifications: total,
        acked,
        refused,
        ack_p50_ms: round(percentile(acks, 50), 1),
        ack_p99_ms: round(percentile(acks, 99), 1),
        ack_max_ms: round(Math.max(...acks), 1),
        acked_under_3s_pct: round((100 * under3s) / total, 2),
        event_loop_delay_p99_ms: round(loop.percentile(99) / 1e6, 1),
        event_loop_delay_max_ms: round(loop.max / 1e6, 1),
        load_seconds: round(loadSeconds, 2),
        sync_seconds: round(syncSeconds, 2),
        load_during_sync: syncStillRunning,
        lost: Math.max(0, acked - processed),
        unprocessed: Number.isFinite(unprocessed) ? unprocessed : -1,
        delta_runs: webhookRuns.length,
        correct: check.correct,
      };
    } finally {
      await pool?.close();
      await bench?.close().catch((err) => ctx.log(`closing the real-time path: ${(err as Error).message}`));
      await sim.close();
      tmp.cleanup();
    }
  },
};
