/**
 * activity: ingest of a large audit feed (a simulated week of background activity, scaled to
 * `--events`) plus the injected attack scenarios, then a first detection round (baselines built, the week judged) and a later incremental round. Reports
 * events_per_s (collector: listing, blobs, parsing, inventory resolution, storing once per Id),
 * scenarios_injected / scenarios_detected (the expected detector for the attacker) and
 * false_positives (detections no scenario explains). The simulator runs in this process.
 */
import { join } from 'node:path';
import { SimAdminClient } from '../../sim/admin-client.ts';
import { startSimulator } from '../../sim/index.ts';
import { noStats } from '../../src/anomalies/baselines.ts';
import { resolveDetectorSettings } from '../../src/anomalies/settings.ts';
import { recordDetections } from '../../src/app/anomaly-findings.ts';
import { collectActivity } from '../../src/collect/activity/collect.ts';
import { syncIntegration } from '../../src/collect/sync.ts';
import { openStore } from '../../src/store/store.ts';
import { simClient, simContext } from '../../test/support/collector.ts';
import { numberFlag, round, type Scenario } from '../harness.ts';
import { scenarioDir } from '../lib/temp.ts';

const SCENARIOS = {
  massDownload: 'mass_download',
  massDelete: 'mass_delete',
  massExternalShare: 'mass_external_share',
  newCountryIp: 'unusual_ip',
  anonymousLinkOnSensitive: 'new_anonymous_link_on_sensitive',
} as const;

export const activity: Scenario = {
  name: 'activity',
  description:
    'audit feed ingest (1,000,000 events) and the attack scenarios: events/s, detections, false positives',
  async run(ctx) {
    const target = numberFlag(ctx, 'events', 1_000_000, 20_000);
    const users = numberFlag(ctx, 'users', 100, 30);
    // Drives big enough for the 1,000-item mass delete.
    const items = numberFlag(ctx, 'items', 150_000, 6_000);
    const seed = numberFlag(ctx, 'seed', 1, 1);
    const tmp = scenarioDir('activity', ctx.flags.keep === 'true');
    const sim = await startSimulator({
      seed,
      users,
      items,
      events: { auditBlobSeconds: 30, auditDuplicateRate: 0.01, auditContentPageSize: 200 },
    });
    const admin = new SimAdminClient(sim);
    const store = await openStore({ file: join(tmp.dir, 'drivewarden.db') });
    const client = simClient(sim);
    try {
      let offset = 0;
      const now = () => Date.now() + offset;
      const advance = async (seconds: number) => {
        offset = (await admin.advanceClock(seconds)) - Date.now();
      };
      const c = simContext(store, sim, client, 'int-bench');
      await syncIntegration(c, { mode: 'full' });
      // One week at intensity 1 tells the volume per unit; scale to the target.
      const probe = await admin.mutate<{ events: number }>({ op: 'backgroundActivity', days: 7, seed });
      const intensity = Math.max(1, Math.round(target / Math.max(1, probe.events)));
      let background = probe.events;
      if (intensity > 1) {
        const more = await admin.mutate<{ events: number }>({
          op: 'backgroundActivity',
          days: 7,
          seed: seed + 1,
          intensity: intensity - 1,
        });
        background += more.events;
      }
      ctx.log(`background: ${background} events (${users} users, intensity ${intensity})`);
      const injected: Array<{ scenario: string; detector: string; actor: string }> = [];
      for (const [scenario, detector] of Object.entries(SCENARIOS)) {
        const r = await admin.mutate<{ actorUpn: string }>({
          op: 'attack',
          scenario: scenario as keyof typeof SCENARIOS,
          seed,
        });
        injected.push({ scenario, detector, actor: r.actorUpn.toLowerCase() });
      }
      const records = (await admin.auditStats()).records;
      await advance(31);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const read = await collectActivity(c, { now, requestsPerMinute: 2000, fetchConcurrency: 4 });
      const ingestSeconds = (performance.now() - t0) / 1000;
      const ingestCpuSeconds = cpuSecondsSince(cpu0);
      if (read.error) throw new Error(`the audit feed failed: ${read.error.code}: ${read.error.message}`);
      const rssIngest = Math.round(process.resourceUsage().maxRSS / 1024);
      const settings = resolveDetectorSettings();
      // First round: the baselines built from everything stored (in chunks), the week judged.
      const firstStats = noStats();
      const cpu1 = process.cpuUsage();
      const t1 = performance.now();
      const first = await recordDetections(store, 'int-bench', {
        now: now(),
        hours: 7 * 24,
        settings,
        stats: firstStats,
      });
      const detectSeconds = (performance.now() - t1) / 1000;
      const detectCpuSeconds = cpuSecondsSince(cpu1);
      const findings = await store.db
        .selectFrom('findings')
        .select(['rule_id', 'details', 'reason'])
        .where('integration_id', '=', 'int-bench')
        .execute();
      const detections = findings.map((f) => ({
        detector: f.rule_id,
        actor: (JSON.parse(String(f.details)) as { actor: string | null }).actor,
        reason: f.reason,
      }));
      const explained = (d: { detector: string; actor: string | null }) =>
        injected.some((s) => s.detector === d.detector && s.actor === d.actor);
      const detected = injected.filter((s) =>
        detections.some((d) => d.detector === s.detector && d.actor === s.actor),
      );
      const falsePositives = detections.filter((d) => !explained(d));
      for (const d of falsePositives) ctx.log(`false positive: ${d.detector}: ${d.reason}`);
      const stored = await store.db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow();
      // A later round: one more attack arrives; only its windows are judged.
      await admin.mutate({ op: 'attack', scenario: 'massDownload', seed: seed + 7 });
      await advance(31);
      const more = await collectActivity(c, { now, requestsPerMinute: 2000, fetchConcurrency: 4 });
      const roundStats = noStats();
      const cpu2 = process.cpuUsage();
      const t2 = performance.now();
      const next = await recordDetections(store, 'int-bench', { now: now(), settings, stats: roundStats });
      const roundSeconds = (performance.now() - t2) / 1000;
      const roundCpuSeconds = cpuSecondsSince(cpu2);
      return {
        events: Number(stored.n),
        events_expected: records,
        events_served: read.eventsSeen,
        blobs: read.contentRead,
        seconds: round(ingestSeconds, 2),
        events_per_s: round(read.eventsNew / ingestSeconds, 0),
        ingest_cpu_s: round(ingestCpuSeconds, 2),
        detect_first_round_s: round(detectSeconds, 2),
        detect_first_round_cpu_s: round(detectCpuSeconds, 2),
        detect_first_round_rows: firstStats.rows,
        detect_round_s: round(roundSeconds, 2),
        detect_round_cpu_s: round(roundCpuSeconds, 2),
        detect_round_events: more.eventsNew,
        detect_round_rows: roundStats.rows,
        detect_round_opened: next.opened,
        findings_opened: first.opened,
        scenarios_injected: injected.length,
        scenarios_detected: detected.length,
        false_positives: falsePositives.length,
        correct: Number(stored.n) === records && detected.length === injected.length,
        peak_rss_mb_ingest: rssIngest,
        peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
      };
    } finally {
      await client.close();
      await store.close();
      await admin.close();
      await sim.close();
      tmp.cleanup();
    }
  },
};

/** Process CPU (user + system) since `start`, in seconds: the simulator in this process is idle meanwhile. */
function cpuSecondsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}
