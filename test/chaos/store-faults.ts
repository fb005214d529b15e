/**
 * Store faults during a sync against the simulator: SQLite disk full (a real SQLITE_FULL through
 * `max_page_count`), a read-only database file (opened by a process that may not write it: a
 * non-root user, as root runs with the file's permissions ignored) and PostgreSQL restarted
 * mid-sync (a throwaway server of the test's own, never the shared one). Each must end in a
 * StoreFaultError of its kind, leave the store sound (SQLite integrity check, history without
 * duplicates or gaps, the read-only file unchanged) and, once the fault clears, a sync must give
 * an inventory equal to the simulator's ground truth.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { syncIntegration } from '../../src/collect/sync.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { StoreFaultError, type StoreFaultKind } from '../../src/store/store-fault.ts';
import { simClient, simContext } from '../support/collector.ts';
import { startTestSim, type TestSim } from '../support/simulator.ts';
import { startThrowawayPg } from '../support/throwaway-pg.ts';
import { describeDiff, diffWithTruth } from '../support/truth.ts';
import { checkHistory } from './history-check.ts';

export interface StoreFaultReport {
  runs: number;
  faults: number;
  /** Unsound stores, inexact recoveries. */
  lost: number;
  /** Faults that did not end in a StoreFaultError of their kind (or a crash of the sync). */
  crashes: number;
  /** Per scenario: the error the product gave. */
  errors: Array<{ scenario: string; kind?: StoreFaultKind; message: string }>;
  problems: string[];
}

const OPEN_CHILD = fileURLToPath(new URL('./store-open-child.fixture.ts', import.meta.url));
const INTEGRATION = 'int-store-fault';

export async function storeFaultRuns(
  which: Array<'full' | 'readOnly' | 'pgRestart'> = ['full', 'readOnly', 'pgRestart'],
): Promise<StoreFaultReport> {
  const report: StoreFaultReport = { runs: 0, faults: 0, lost: 0, crashes: 0, errors: [], problems: [] };
  const env = await startTestSim({ seed: 17, users: 5, items: 200 });
  const dir = mkdtempSync(join(tmpdir(), 'dw-chaos-store-'));
  try {
    for (const scenario of which) {
      report.runs++;
      report.faults++;
      const run = { full: diskFull, readOnly, pgRestart }[scenario];
      const t0 = Date.now();
      try {
        await run(env, dir, report);
        if (process.env.CHAOS_TIMES) process.stderr.write(`${scenario}: ${Date.now() - t0} ms\n`);
      } catch (e) {
        report.crashes++;
        report.problems.push(`${scenario}: ${(e as Error).stack?.slice(0, 600)}`);
      }
    }
  } finally {
    await env.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

/** What a faulted run ended in: its error's name, kind and message, or that it did not fail. */
interface Outcome {
  name?: string;
  kind?: StoreFaultKind;
  message: string;
}

function expectFault(
  report: StoreFaultReport,
  scenario: string,
  kind: StoreFaultKind,
  outcome: Outcome,
  mustName: string,
): void {
  report.errors.push({ scenario, kind: outcome.kind, message: outcome.message });
  if (outcome.name === 'StoreFaultError' && outcome.kind === kind && outcome.message.includes(mustName))
    return;
  report.crashes++;
  report.problems.push(
    `${scenario}: expected a ${kind} store fault naming ${mustName}, got ${outcome.name ?? ''}: ${outcome.message.slice(0, 400)}`,
  );
}

/** Integrity (SQLite), history, and (after recovery) the ground truth. */
async function checkStore(
  report: StoreFaultReport,
  scenario: string,
  store: Store,
  env: TestSim,
  truth: boolean,
): Promise<void> {
  const bad: string[] = [];
  if (store.dialect === 'sqlite') {
    const { rows } = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(store.db);
    if (rows.map((r) => r.integrity_check).join() !== 'ok') bad.push(`integrity: ${JSON.stringify(rows)}`);
  }
  const history = await checkHistory(store, INTEGRATION);
  bad.push(...history.duplicates.slice(0, 5), ...history.gaps.slice(0, 5));
  if (truth) {
    const diff = await diffWithTruth(store, INTEGRATION, env.admin);
    if (diff.missing.length + diff.extra.length > 0) bad.push(describeDiff(diff));
  }
  if (bad.length > 0) {
    report.lost += bad.length;
    report.problems.push(`${scenario}${truth ? ' after recovery' : ' after the fault'}: ${bad.join('; ')}`);
  }
}

async function outcomeOf(p: Promise<unknown>): Promise<Outcome> {
  try {
    await p;
    return { message: 'finished without an error' };
  } catch (e) {
    const err = e as Error;
    return {
      name: err.name,
      kind: err instanceof StoreFaultError ? err.kind : undefined,
      message: err.message,
    };
  }
}

/** SQLite limited to 40 pages (640 KiB) more than its empty schema: the full sync fills it. */
async function diskFull(env: TestSim, dir: string, report: StoreFaultReport): Promise<void> {
  const file = join(dir, 'full.db');
  const store = await openStore({ file });
  const client = simClient(env.sim);
  try {
    const ctx = simContext(store, env.sim, client, INTEGRATION, { deltaPageSize: 20 });
    const { rows } = await sql<{ page_count: number }>`pragma page_count`.execute(store.db);
    await sql.raw(`pragma max_page_count = ${Number(rows[0].page_count) + 40}`).execute(store.db);
    expectFault(report, 'disk full', 'full', await outcomeOf(syncIntegration(ctx, { mode: 'full' })), file);
    await checkStore(report, 'disk full', store, env, false);
    // The fault clears: room again; the next run resumes.
    await sql.raw('pragma max_page_count = 1073741823').execute(store.db);
    await syncIntegration(ctx, { mode: 'delta' });
    await checkStore(report, 'disk full', store, env, true);
  } finally {
    await client.close();
    await store.close();
  }
}

/** A synced store whose file is made read-only; a process that may not write it opens it. */
async function readOnly(env: TestSim, dir: string, report: StoreFaultReport): Promise<void> {
  const roDir = mkdtempSync(join(dir, 'ro-'));
  const file = join(roDir, 'readonly.db');
  const sync = async (mode: 'full' | 'delta') => {
    const store = await openStore({ file });
    const client = simClient(env.sim);
    try {
      await syncIntegration(simContext(store, env.sim, client, INTEGRATION), { mode });
    } finally {
      await client.close();
      await store.close();
    }
  };
  await sync('full');
  const drive = (await env.admin.drives())[0];
  for (let i = 0; i < 3; i++)
    await env.admin.mutate({
      op: 'createItem',
      driveId: drive.id,
      parentId: drive.rootId,
      name: `while-read-only-${i}.txt`,
      size: 10 + i,
    });
  const digest = () => createHash('sha256').update(readFileSync(file)).digest('hex');
  const before = digest();
  chmodSync(dir, 0o711);
  chmodSync(roDir, 0o777); // the directory writable: the file alone is read-only
  chmodSync(file, 0o444);
  expectFault(report, 'read-only file', 'readOnly', await openInChild(file, env), file);
  if (digest() !== before) {
    report.lost++;
    report.problems.push('read-only file: the file changed');
  }
  chmodSync(file, 0o600);
  await sync('delta');
  const store = await openStore({ file });
  try {
    await checkStore(report, 'read-only file', store, env, true);
  } finally {
    await store.close();
  }
}

/** The open-and-sync child, as `nobody` when this process is root (root ignores file modes). */
function openInChild(file: string, env: TestSim): Promise<Outcome> {
  const sim = { ...env.sim } as Record<string, unknown>;
  delete sim.close;
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', OPEN_CHILD, JSON.stringify({ file, sim })], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DW_LOG_LEVEL: 'silent' },
      ...asNobody,
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(line) as Outcome);
      } catch {
        resolve({ name: 'ChildCrash', message: `exit ${code}: ${out.slice(-600)}` });
      }
    });
  });
}

/** PostgreSQL stopped (fast shutdown: sessions terminated) after the 8th committed page, started again. */
async function pgRestart(env: TestSim, _dir: string, report: StoreFaultReport): Promise<void> {
  const pg = await startThrowawayPg();
  try {
    const store = await openStore({ databaseUrl: pg.url, schema: 'dw', maxConnections: 4 });
    const client = simClient(env.sim);
    try {
      const ctx = simContext(store, env.sim, client, INTEGRATION, { deltaPageSize: 20 });
      let pages = 0;
      let restart: Promise<void> | undefined;
      ctx.onProgress = () => {
        if (++pages === 8)
          restart = (async () => {
            await pg.stop();
            await new Promise((r) => setTimeout(r, 300));
            await pg.start();
          })();
      };
      const outcome = await outcomeOf(syncIntegration(ctx, { mode: 'full' }));
      await restart;
      ctx.onProgress = undefined;
      expectFault(report, 'PostgreSQL restart', 'unavailable', outcome, 'PostgreSQL');
      await checkStore(report, 'PostgreSQL restart', store, env, false);
      await syncIntegration(ctx, { mode: 'delta' });
      await checkStore(report, 'PostgreSQL restart', store, env, true);
    } finally {
      await client.close();
      await store.close();
    }
  } finally {
    await pg.close();
  }
}
