/**
 * webhook-load: bursts of change notifications, sent over real HTTP from this process to
 * the running receiver (valid subscription ids and clientState taken from its table),
 * while a full sync runs in the same process (as in `drivewarden serve`: the HTTP server in
 * its own worker thread, `--server-thread false` keeps it on the collector's thread). Measures the
 * time to the receiver's 2xx per POST and checks that every acknowledged notification
 * became a delta run (its inbox row processed).
 */
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
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
      bench = await startBenchRealtime(p.dataDir, integrationId, {
        serverThread: ctx.flags['server-thread'] !== 'false',
      });
      const db = bench.app.store.db;
      const subs = await db
        .selectFrom('graph_subscriptions')
        .select(['id', 'resource', 'notification_url', 'tenant_id', 'expiration'])
        .where('integration_id', '=', integrationId)
        .where('status', '=', 'active')
        .where('resource', 'like', '/drives/%')
        .execute();
      if (subs.length === 0) throw new Error('no active drive subscription to notify');
      // The store keeps only a digest of each clientState: Graph (the simulator) knows the secret.
      const client = bench.app.graphClientFor(await bench.app.integrations.getWithCredentials(integrationId));
      const listed = await client.request<{ value: { id: string; clientState: string | null }[] }>({
        url: '/subscriptions',
        resource: 'subscriptions',
      });
      await client.close();
      const secretOf = new Map(listed.body.value.map((s) => [s.id, s.clientState ?? '']));
      const url = new URL(subs[0].notification_url);
      pool = new Pool(url.origin, { connections });
      const bodies = subs.map((s) =>
        JSON.stringify({
          value: [
            {
              subscriptionId: s.id,
              subscriptionExpirationDateTime: s.expiration,
              clientState: secretOf.get(s.id),
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
      // The sender runs in its own thread by default (`--client thread`), like Graph, whose
      // timing does not depend on our event loop; `--client inline` sends from the product's
      // event loop (the earlier method: a blocked loop then also delays the sending).
      const clientMode = ctx.flags.client === 'inline' ? 'inline' : 'thread';
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      // Stalls: a 5 ms timer that fires late by more than 50 ms means the event loop was
      // blocked (one synchronous chunk) for that long; nothing can be acknowledged meanwhile.
      // The process's CPU time over the stall tells a blocked loop (busy: CPU ≈ wall time)
      // from a process the OS did not run (a loaded machine: CPU ≪ wall time).
      const stalls: number[] = [];
      let busyStalls = 0;
      let lastTick = performance.now();
      let lastCpu = process.cpuUsage();
      const ticker = setInterval(() => {
        const now = performance.now();
        const cpu = process.cpuUsage();
        const late = now - lastTick - 5;
        if (late > 50) {
          stalls.push(late);
          const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
          if (cpuMs >= 0.8 * (now - lastTick)) busyStalls++;
        }
        lastTick = now;
        lastCpu = cpu;
      }, 5);
      // Server side: from the request's headers parsed to its response finished (no client
      // queueing), measured where the server runs (its own thread by default).
      await bench.rt.requestTimings(); // drop the subscription validation POSTs
      const loadStarted = performance.now();
      if (clientMode === 'thread') {
        const result = await sendFromThread({
          origin: url.origin,
          path: url.pathname + url.search,
          bodies,
          total,
          burst,
          gapMs,
          connections,
        });
        acks.push(...result.acks);
        acked = result.acked;
        refused = result.refused;
      } else {
        const inFlight: Promise<void>[] = [];
        for (let sent = 0; sent < total; sent += burst) {
          const n = Math.min(burst, total - sent);
          const wave: Promise<void>[] = [];
          for (let j = 0; j < n; j++) wave.push(send(sent + j));
          inFlight.push(...wave);
          await sleep(gapMs);
        }
        await Promise.all(inFlight);
      }
      const server = await bench.rt.requestTimings();
      const serverMs = server.ms;
      loop.disable();
      clearInterval(ticker);
      stalls.sort((a, b) => b - a);
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      const syncStillRunning = syncSeconds === 0;
      await sync;
      ctx.log(
        `load sent in ${round(loadSeconds, 1)} s; sync took ${round(syncSeconds, 1)} s; draining the inbox`,
      );

      // Every acknowledged notification must end processed (a delta run covered it).
      const drainStart = performance.now();
      let unprocessed = Number.POSITIVE_INFINITY;
      // The inbox the receiver wrote (its own file next to the SQLite store).
      const inbox = bench.rt.inbox;
      while (performance.now() - drainStart < drainTimeoutMs) {
        unprocessed = await inbox.count({ processed: false });
        if (unprocessed === 0) break;
        await sleep(100);
      }
      await bench.rt.coordinator.idle();
      const processed = await inbox.count({ lifecycle: false, receivedSince: loadStart, processed: true });
      const webhookRuns = bench.runs.filter((r) => r.source === 'webhook');
      const check = await checkAgainstTruth(bench.app.store, integrationId, sim.admin);
      if (!check.correct) ctx.log(`inventory differs from the truth:\n${check.detail}`);
      const under3s = acks.filter((ms) => ms < 3000).length;
      return {
        client: clientMode,
        server_thread: bench.rt.serverThread,
        notifications: total,
        acked,
        refused,
        ack_p50_ms: round(percentile(acks, 50), 1),
        ack_p99_ms: round(percentile(acks, 99), 1),
        ack_max_ms: round(Math.max(...acks), 1),
        server_p50_ms: round(percentile(serverMs, 50), 1),
        server_p99_ms: round(percentile(serverMs, 99), 1),
        // The server thread's own: each inbox group commit, and how long its loop was held (a
        // request that arrived meanwhile waited that long before its server time starts).
        server_commits: server.commitMs.length,
        server_rows_per_commit: server.commitMs.length > 0 ? round(acked / server.commitMs.length, 1) : null,
        server_commit_p50_ms: server.commitMs.length > 0 ? round(percentile(server.commitMs, 50), 1) : null,
        server_commit_p99_ms: server.commitMs.length > 0 ? round(percentile(server.commitMs, 99), 1) : null,
        server_commit_max_ms: server.commitMs.length > 0 ? round(Math.max(...server.commitMs), 1) : null,
        server_loop_delay_p99_ms: server.loopDelayP99Ms === null ? null : round(server.loopDelayP99Ms, 1),
        server_loop_delay_max_ms: server.loopDelayMaxMs === null ? null : round(server.loopDelayMaxMs, 1),
        acked_under_3s_pct: round((100 * under3s) / total, 2),
        event_loop_delay_p99_ms: round(loop.percentile(99) / 1e6, 1),
        event_loop_delay_max_ms: round(loop.max / 1e6, 1),
        event_loop_stalls_over_50ms: stalls.length,
        event_loop_stalls_over_100ms: stalls.filter((ms) => ms > 100).length,
        event_loop_stalls_cpu_busy: busyStalls,
        event_loop_stalled_ms: round(
          stalls.reduce((a, b) => a + b, 0),
          0,
        ),
        event_loop_longest_stalls_ms: stalls
          .slice(0, 5)
          .map((ms) => round(ms, 0))
          .join(' '),
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

interface SendPlan {
  origin: string;
  path: string;
  bodies: string[];
  total: number;
  burst: number;
  gapMs: number;
  connections: number;
}

/** The load generator in a worker thread: same bursts, same pool, its own event loop. */
const SENDER = `
const { parentPort, workerData } = require('node:worker_threads');
const { Pool } = require(workerData.undici);
const plan = workerData.plan;
const pool = new Pool(plan.origin, { connections: plan.connections });
const acks = [];
let acked = 0;
let refused = 0;
const send = async (k) => {
  const t0 = performance.now();
  try {
    const res = await pool.request({
      path: plan.path,
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: plan.bodies[k % plan.bodies.length],
    });
    await res.body.dump();
    const ms = performance.now() - t0;
    if (res.statusCode >= 200 && res.statusCode < 300) { acked++; acks.push(ms); } else refused++;
  } catch { refused++; }
};
(async () => {
  const inFlight = [];
  for (let sent = 0; sent < plan.total; sent += plan.burst) {
    const n = Math.min(plan.burst, plan.total - sent);
    for (let j = 0; j < n; j++) inFlight.push(send(sent + j));
    await new Promise((r) => setTimeout(r, plan.gapMs));
  }
  await Promise.all(inFlight);
  await pool.close();
  parentPort.postMessage({ acks, acked, refused });
})();
`;

async function sendFromThread(plan: SendPlan): Promise<{ acks: number[]; acked: number; refused: number }> {
  const undici = createRequire(import.meta.url).resolve('undici');
  const worker = new Worker(SENDER, { eval: true, workerData: { plan, undici } });
  try {
    return await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`sender thread exited (${code})`)));
    });
  } finally {
    await worker.terminate();
  }
}
