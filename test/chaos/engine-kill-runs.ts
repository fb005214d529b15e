/**
 * Kill runs of the rule engine and of remediation: each runs in its own process
 * (evaluate-child / remediate-child fixtures), gets kill -9 a seeded random time after it
 * started working, then runs again to the end.
 * - Rules: a twin store receives the same tenant changes and evaluations, never killed; after
 *   each restart the killed store's findings and each finding's events equal the twin's (so
 *   every finding was opened once).
 * - Remediation: anonymous links shared anew each run, a plan removing them killed mid-way
 *   and run again: each step's trail has at most one "done", ends in done or already_gone,
 *   the simulator (ground truth) no longer has the permission, and the re-read inventory
 *   equals the ground truth.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Prng } from '../../sim/model/prng.ts';
import { syncIntegration } from '../../src/collect/sync.ts';
import { makePlan, type RemovalStep } from '../../src/remediate/plan.ts';
import { planForPermission } from '../../src/remediate/targets.ts';
import { evaluateIntegration } from '../../src/rules/evaluate.ts';
import { loadBuiltinRules } from '../../src/rules/loader.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { simClient, simContext } from '../support/collector.ts';
import { startTestSim, type TestSim } from '../support/simulator.ts';
import { describeDiff, diffWithTruth } from '../support/truth.ts';
import type { KillReport } from './kill-runs.ts';
import { mutateTenant } from './kill-runs.ts';

const EVALUATE = fileURLToPath(new URL('./evaluate-child.fixture.ts', import.meta.url));
const REMEDIATE = fileURLToPath(new URL('./remediate-child.fixture.ts', import.meta.url));
const INTEGRATION = 'int-engine';
/** A fixed evaluation time: time-dependent results do not move between the twin and the killed store. */
const NOW = '2026-03-01T00:00:00.000Z';

/** Runs a fixture; with `killAfterMs`, kill -9 that long after it printed "start". */
function runChild(
  fixture: string,
  args: unknown,
  killAfterMs?: number,
): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DW_LOG_LEVEL: 'silent' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      out += text;
      if (killAfterMs !== undefined && text.includes('start'))
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code, signal) => resolve({ code, signal, out }));
  });
}

function simInfo(env: TestSim): Record<string, unknown> {
  const info = { ...env.sim } as Record<string, unknown>;
  delete info.close;
  return info;
}

async function withStore<T>(file: string, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ file });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function sync(env: TestSim, file: string, mode: 'full' | 'delta'): Promise<void> {
  await withStore(file, async (store) => {
    const client = simClient(env.sim);
    try {
      await syncIntegration(simContext(store, env.sim, client, INTEGRATION), { mode });
    } finally {
      await client.close();
    }
  });
}

/** Findings with their events, in a form two stores can be compared by. */
async function findingsOf(store: Store): Promise<string[]> {
  const findings = await store.db
    .selectFrom('findings')
    .select(['id', 'rule_id', 'resource_key', 'status', 'result'])
    .where('integration_id', '=', INTEGRATION)
    .execute();
  const events = await store.db
    .selectFrom('finding_events')
    .select(['finding_id', 'event'])
    .where('integration_id', '=', INTEGRATION)
    .orderBy('id')
    .execute();
  const byFinding = new Map<number, string[]>();
  for (const e of events)
    byFinding.set(Number(e.finding_id), [...(byFinding.get(Number(e.finding_id)) ?? []), e.event]);
  return findings
    .map(
      (f) =>
        `${f.rule_id} ${f.resource_key} ${f.status} ${f.result} [${(byFinding.get(Number(f.id)) ?? []).join(',')}]`,
    )
    .sort();
}

/** Entries in one list and not the other ("- twin only", "+ killed only"). */
function listDiff(expected: string[], actual: string[]): string[] {
  const a = new Set(actual);
  const e = new Set(expected);
  return [
    ...expected.filter((x) => !a.has(x)).map((x) => `- ${x}`),
    ...actual.filter((x) => !e.has(x)).map((x) => `+ ${x}`),
  ];
}

export async function ruleKillRuns(runs: number, seed = 18): Promise<KillReport> {
  const rng = new Prng(seed);
  const report: KillReport = { runs: 0, killedMidway: 0, lost: 0, crashes: 0, problems: [] };
  const env = await startTestSim({ seed, users: 8, items: 500 });
  const dir = mkdtempSync(join(tmpdir(), 'dw-chaos-rules-'));
  const twin = join(dir, 'twin.db');
  const killed = join(dir, 'killed.db');
  const rules = loadBuiltinRules();
  try {
    await sync(env, twin, 'full');
    copyFileSync(twin, killed);
    const drives = await env.admin.drives();
    for (let i = 0; i < runs; i++) {
      if (i > 0) {
        await mutateTenant(env, drives, rng, i);
        await sync(env, twin, 'delta');
        await sync(env, killed, 'delta');
      }
      const mode = i % 3 === 0 ? 'full' : 'incremental';
      await withStore(twin, (store) =>
        evaluateIntegration(store, { integrationId: INTEGRATION, mode, rules, now: NOW }),
      );
      const args = { file: killed, integrationId: INTEGRATION, mode, now: NOW };
      const delay = rng.int(0, 600);
      const first = await runChild(EVALUATE, args, delay);
      report.runs++;
      if (first.signal === 'SIGKILL') report.killedMidway++;
      else if (first.code !== 0) {
        report.crashes++;
        report.problems.push(`rules run ${i}: exited ${first.code}: ${first.out.slice(-400)}`);
      }
      const again = await runChild(EVALUATE, args);
      if (again.code !== 0) {
        report.crashes++;
        report.problems.push(`rules run ${i} restart: exited ${again.code}: ${again.out.slice(-400)}`);
        continue;
      }
      const expected = await withStore(twin, findingsOf);
      const actual = await withStore(killed, findingsOf);
      const diff = listDiff(expected, actual);
      if (diff.length > 0) {
        report.lost += diff.length;
        report.problems.push(
          `rules run ${i} (${mode}, killed after ${delay} ms): ${diff.slice(0, 6).join('; ')}`,
        );
      }
    }
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

export async function remediationKillRuns(runs: number, seed = 19): Promise<KillReport> {
  const rng = new Prng(seed);
  const report: KillReport = { runs: 0, killedMidway: 0, lost: 0, crashes: 0, problems: [] };
  const env = await startTestSim({ seed, users: 6, items: 300 });
  const dir = mkdtempSync(join(tmpdir(), 'dw-chaos-remediate-'));
  const file = join(dir, 'remediate.db');
  try {
    await sync(env, file, 'full');
    const drives = await env.admin.drives();
    for (let i = 0; i < runs; i++) {
      // Fresh anonymous links on a few files, collected, then planned for removal.
      const drive = drives[rng.int(0, drives.length - 1)];
      const files = (await env.admin.items(drive.id)).filter((x) => !x.deleted && !x.isFolder);
      for (let k = 0; k < 6 && files.length > 0; k++) {
        const f = files.splice(rng.int(0, files.length - 1), 1)[0];
        await env.admin.mutate({ op: 'share', driveId: drive.id, itemId: f.id, kind: 'anonymous' });
      }
      await sync(env, file, 'delta');
      const plan = await withStore(file, async (store) => {
        const links = await store.db
          .selectFrom('permissions')
          .select(['id', 'drive_id'])
          .where('integration_id', '=', INTEGRATION)
          .where('link_scope', '=', 'anonymous')
          .where('deleted_at', 'is', null)
          .limit(12)
          .execute();
        const steps: RemovalStep[] = [];
        for (const l of links) {
          try {
            steps.push(...(await planForPermission(store.db, INTEGRATION, l.id, l.drive_id)).steps);
          } catch {
            // An inherited link: its defining permission is planned through its own row.
          }
        }
        return makePlan(INTEGRATION, `chaos run ${i}`, steps);
      });
      if (plan.steps.length === 0) {
        report.problems.push(`remediation run ${i}: no anonymous link to remove`);
        report.crashes++;
        continue;
      }
      const args = { file, integrationId: INTEGRATION, sim: simInfo(env), plan };
      const delay = rng.int(0, 400);
      const first = await runChild(REMEDIATE, args, delay);
      report.runs++;
      if (first.signal === 'SIGKILL') report.killedMidway++;
      else if (first.code !== 0) {
        report.crashes++;
        report.problems.push(`remediation run ${i}: exited ${first.code}: ${first.out.slice(-400)}`);
      }
      const again = await runChild(REMEDIATE, args);
      if (again.code !== 0) {
        report.crashes++;
        report.problems.push(`remediation run ${i} restart: exited ${again.code}: ${again.out.slice(-400)}`);
        continue;
      }
      const bad = await withStore(file, async (store) => {
        const trail = await store.db
          .selectFrom('remediation_actions')
          .select(['drive_id', 'item_id', 'permission_id', 'result'])
          .where('plan_id', '=', plan.id)
          .orderBy('id')
          .execute();
        const problems: string[] = [];
        for (const s of plan.steps) {
          const results = trail
            .filter((t) => t.permission_id === s.permissionId && t.item_id === s.itemId)
            .map((t) => t.result);
          if (results.filter((r) => r === 'done').length > 1)
            problems.push(`${s.permissionId} removed twice`);
          // A restart after the first run had removed and re-read everything (killed on its way
          // out) finds nothing left to do and records `skipped`: judge the last attempt.
          const last = results.filter((r) => r !== 'skipped').at(-1);
          if (last !== 'done' && last !== 'already_gone')
            problems.push(`${s.permissionId} trail ends in ${results.at(-1)}`);
          // What the trail says is gone is gone from the re-read inventory, which (checked below)
          // equals the simulator's ground truth.
          const still = await store.db
            .selectFrom('permissions')
            .select('id')
            .where('integration_id', '=', INTEGRATION)
            .where('drive_id', '=', s.driveId)
            .where('item_id', '=', s.itemId)
            .where('id', '=', s.permissionId)
            .where('deleted_at', 'is', null)
            .executeTakeFirst();
          if (still) problems.push(`${s.permissionId}: the trail says ${last}, the inventory still has it`);
        }
        const diff = await diffWithTruth(store, INTEGRATION, env.admin);
        if (diff.missing.length + diff.extra.length > 0)
          problems.push(`not ground truth: ${describeDiff(diff)}`);
        return problems;
      });
      if (bad.length > 0) {
        report.lost += bad.length;
        report.problems.push(
          `remediation run ${i} (killed after ${delay} ms): ${bad.slice(0, 5).join('; ')}`,
        );
      }
    }
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}
