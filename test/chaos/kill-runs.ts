/**
 * Kill runs: the collector (src/collect/sync-child.fixture.ts) and the alert delivery worker
 * (src/alerts/delivery-child.fixture.ts) run in their own processes and get kill -9 at a
 * seeded random moment; a restart must leave the inventory equal to the simulator's ground
 * truth, the history without duplicates or gaps, and every alert delivered once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Prng } from '../../sim/model/prng.ts';
import { parseChannelConfig } from '../../src/alerts/channels/config.ts';
import { alertsHarness, insertFindingEvents, insertIntegration } from '../../src/alerts/test-support.ts';
import { openStore } from '../../src/store/store.ts';
import { SecretBox } from '../../src/util/secret-box.ts';
import { startHttpReceiver } from '../support/alert-receivers.ts';
import { startTestSim } from '../support/simulator.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../support/throwaway-database.ts';
import { describeDiff, diffWithTruth } from '../support/truth.ts';
import { waitFor } from '../support/wait.ts';
import { checkHistory } from './history-check.ts';

export interface KillReport {
  runs: number;
  /** Runs where the kill landed before the child finished. */
  killedMidway: number;
  /** Resources missing or extra after recovery, history duplicates/gaps, alerts lost or doubled. */
  lost: number;
  /** Restarts that did not exit cleanly. */
  crashes: number;
  problems: string[];
}

const SYNC_FIXTURE = fileURLToPath(new URL('../../src/collect/sync-child.fixture.ts', import.meta.url));
const DELIVERY_FIXTURE = fileURLToPath(
  new URL('../../src/alerts/delivery-child.fixture.ts', import.meta.url),
);

function runSyncChild(
  args: Record<string, unknown>,
  kill?: { afterPages: number; delayMs: number },
): Promise<{ code: number | null; signal: string | null; out: string; pages: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SYNC_FIXTURE, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DW_LOG_LEVEL: 'silent' },
    });
    let out = '';
    let pages = 0;
    let killing = false;
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      pages += (text.match(/^p$/gm) ?? []).length;
      out += text.replace(/^p\n/gm, '');
      if (kill && pages >= kill.afterPages && !killing) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), kill.delayMs);
      }
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code, signal) => resolve({ code, signal, out, pages }));
  });
}

/**
 * `runs` kill/restart cycles of the collector on one SQLite file: between cycles the tenant
 * changes (creates, renames, moves, deletes, shares), so delta runs have work; every other
 * cycle is a full sync. After each restart the store is compared with the truth.
 */
export async function syncKillRuns(
  runs: number,
  seed = 15,
  dialect: 'sqlite' | 'postgres' = 'sqlite',
): Promise<KillReport> {
  const rng = new Prng(seed);
  const env = await startTestSim({ seed, users: 8, items: 500 });
  const dir = mkdtempSync(join(tmpdir(), 'dw-chaos-kill-'));
  const file = join(dir, 'killed.db');
  // PostgreSQL: a database of its own on the test server, created here and dropped at the end.
  const pgDb = dialect === 'postgres' ? await createPgDatabase() : undefined;
  const where = pgDb ? { databaseUrl: pgDb.url } : { file };
  const info = { ...env.sim } as Record<string, unknown>;
  delete info.close;
  const report: KillReport = { runs: 0, killedMidway: 0, lost: 0, crashes: 0, problems: [] };
  const integrationId = 'int-chaos';
  try {
    const drives = await env.admin.drives();
    for (let i = 0; i < runs; i++) {
      if (i > 0) await mutateTenant(env, drives, rng, i);
      const mode = i === 0 || i % 4 === 3 ? 'full' : 'delta';
      const kill = { afterPages: rng.int(1, mode === 'full' ? 14 : 3), delayMs: rng.int(0, 30) };
      const killed = await runSyncChild({ ...where, integrationId, mode, pageSize: 40, sim: info }, kill);
      report.runs++;
      if (killed.signal === 'SIGKILL') report.killedMidway++;
      else if (killed.code !== 0) {
        report.crashes++;
        report.problems.push(`run ${i}: exited ${killed.code}: ${killed.out.slice(-400)}`);
      }
      const again = await runSyncChild({ ...where, integrationId, mode: 'delta', pageSize: 40, sim: info });
      if (again.code !== 0) {
        report.crashes++;
        report.problems.push(`run ${i} restart: exited ${again.code}: ${again.out.slice(-400)}`);
        continue;
      }
      const store = await openStore(where);
      try {
        const diff = await diffWithTruth(store, integrationId, env.admin);
        const history = await checkHistory(store, integrationId);
        const bad = diff.missing.length + diff.extra.length + history.duplicates.length + history.gaps.length;
        if (bad > 0) {
          report.lost += bad;
          report.problems.push(
            `${dialect} run ${i} (${mode}, kill after ${kill.afterPages} pages + ${kill.delayMs} ms): ${describeDiff(diff)} ${[...history.duplicates, ...history.gaps].slice(0, 5).join('; ')}`,
          );
        }
      } finally {
        await store.close();
      }
    }
  } finally {
    await env.close();
    await pgDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

/** A fresh database on the tests' PostgreSQL server (TEST_PG_URL's), and its removal. */
function createPgDatabase(): Promise<ThrowawayDatabase> {
  return createThrowawayDatabase('dw_chaos');
}

type Drives = Awaited<ReturnType<Awaited<ReturnType<typeof startTestSim>>['admin']['drives']>>;

export async function mutateTenant(
  env: Awaited<ReturnType<typeof startTestSim>>,
  drives: Drives,
  rng: Prng,
  i: number,
) {
  const drive = drives[rng.int(0, drives.length - 1)];
  const items = (await env.admin.items(drive.id)).filter((x) => !x.deleted && x.id !== drive.rootId);
  const files = items.filter((x) => !x.isFolder);
  const folders = items.filter((x) => x.isFolder);
  // Each item picked once per round (a deleted one cannot be moved after).
  const pick = <T>(xs: T[]) => xs.splice(rng.int(0, xs.length - 1), 1)[0];
  await env.admin.mutate({
    op: 'createItem',
    driveId: drive.id,
    parentId: drive.rootId,
    name: `chaos-${i}.txt`,
    size: 100 + i,
  });
  if (files.length > 5) {
    await env.admin.mutate({
      op: 'renameItem',
      driveId: drive.id,
      itemId: pick(files).id,
      name: `renamed-${i}.docx`,
    });
    await env.admin.mutate({ op: 'modifyItem', driveId: drive.id, itemId: pick(files).id, size: 1000 + i });
    await env.admin.mutate({ op: 'share', driveId: drive.id, itemId: pick(files).id, kind: 'anonymous' });
    await env.admin.mutate({ op: 'deleteItem', driveId: drive.id, itemId: pick(files).id });
  }
  if (folders.length > 1 && files.length > 0)
    await env.admin.mutate({
      op: 'moveItem',
      driveId: drive.id,
      itemId: pick(files).id,
      newParentId: pick(folders).id,
    });
}

/**
 * `runs` kill/restart cycles of the alert delivery worker: 12 alerts per cycle to an
 * idempotent HTTP receiver, the worker killed while the Nth request is in flight; after the
 * restart every alert must be delivered, each processed once by the receiver.
 */
export async function deliveryKillRuns(runs: number, seed = 16): Promise<KillReport> {
  const rng = new Prng(seed);
  const report: KillReport = { runs: 0, killedMidway: 0, lost: 0, crashes: 0, problems: [] };
  for (let i = 0; i < runs; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'dw-chaos-alert-'));
    const key = randomBytes(32).toString('base64');
    const receiver = await startHttpReceiver({ dedupe: true });
    const store = await openStore({ dataDir: dir });
    const h = alertsHarness(store, { box: SecretBox.fromKey(key) });
    let child: ChildProcess | undefined;
    const start = () =>
      new Promise<ChildProcess>((resolve, reject) => {
        const c = spawn(process.execPath, ['--import', 'tsx', DELIVERY_FIXTURE, dir], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, DW_SECRET_KEY: key, DW_LOG_LEVEL: 'silent' },
        });
        let err = '';
        c.stderr?.on('data', (d) => {
          err += d;
        });
        c.stdout?.on('data', (d: Buffer) => {
          if (d.toString().includes('ready')) resolve(c);
        });
        c.on('exit', (code, signal) => {
          if (signal !== 'SIGKILL') reject(new Error(`child exited (${code}): ${err}`));
        });
      });
    try {
      await insertIntegration(store.db, store);
      await h.channels.add(
        'hook',
        parseChannelConfig('webhook', {
          url: receiver.url,
          secret: `whsec_${randomBytes(24).toString('base64')}`,
        }),
      );
      await h.policies.add({
        name: 'every-finding',
        kind: 'rule',
        channels: ['hook'],
        digestThreshold: 1000,
      });
      const total = 12;
      await insertFindingEvents(
        store.db,
        Array.from({ length: total }, () => ({})),
      );
      const killAt = rng.int(1, total);
      receiver.onRequest = () => {
        if (receiver.requests.length === killAt && child) child.kill('SIGKILL');
      };
      child = await start();
      const first = child;
      await new Promise<void>((resolve) => first.once('exit', () => resolve()));
      report.runs++;
      report.killedMidway++;
      receiver.onRequest = undefined;
      child = await start();
      const keys = await waitFor(
        'every alert delivered',
        async () => {
          const rows = await store.db
            .selectFrom('alert_outbox')
            .select(['idempotency_key', 'status'])
            .execute();
          return rows.length === total && rows.every((r) => r.status === 'delivered')
            ? rows.map((r) => r.idempotency_key)
            : undefined;
        },
        { timeoutMs: 30_000 },
      );
      child.kill('SIGKILL');
      const processed = new Set(receiver.processed.keys());
      const lost = keys.filter((k) => !processed.has(k)).length;
      const sentTwice =
        receiver.requests.length -
        new Set(receiver.requests.map((r) => String(r.headers['webhook-id']))).size;
      if (lost > 0 || processed.size !== keys.length) {
        report.lost += Math.max(lost, Math.abs(processed.size - keys.length));
        report.problems.push(`delivery run ${i}: ${lost} lost, ${processed.size}/${keys.length} processed`);
      }
      if (sentTwice > 1)
        report.problems.push(`delivery run ${i}: ${sentTwice} requests repeated (only the cut one may be)`);
    } catch (e) {
      report.crashes++;
      report.problems.push(`delivery run ${i}: ${(e as Error).message}`);
    } finally {
      child?.kill('SIGKILL');
      await h.close();
      await store.close();
      await receiver.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return report;
}
