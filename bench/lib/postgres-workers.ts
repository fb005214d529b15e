/**
 * The PostgreSQL side of the full-sync bench: a throwaway database, `drivewarden worker`
 * processes (their CPU and peak RSS read from /proc while they run), and the start-up
 * collection timed from pg-boss's own job rows: from the integration.sync job's enqueue to
 * the last of the drive.delta jobs it queued completing, both on the database's clock.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { queueOf } from '../../src/jobs/types.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from '../../test/support/throwaway-database.ts';
import { ROOT } from './processes.ts';
import { sleep } from './temp.ts';

/** The server of the bench's databases (a database of its own is created on it per run). */
export const BENCH_PG_URL = process.env.DW_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The bench's own connections, left out of the server's CPU (backendCpuSeconds). */
const BENCH_APP = 'dw-bench';

/** pg-boss's schema for a store without a schema of its own (app/jobs.ts). */
const BOSS_SCHEMA = 'pgboss';

export type BenchDatabase = ThrowawayDatabase;

/** `create database dw_bench_<random>` on the server of `serverUrl`; `drop` removes it (sessions ended). */
export function createBenchDatabase(serverUrl = BENCH_PG_URL): Promise<BenchDatabase> {
  return createThrowawayDatabase('dw_bench', serverUrl);
}

export interface ProcessUsage {
  /** user + system CPU seconds so far. */
  cpuSeconds: number;
  /** Peak resident set (VmHWM), MB. */
  peakRssMb: number;
}

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux the bench runs on (getconf CLK_TCK)

/** CPU and peak RSS of a live process, from /proc (Linux). */
export function processUsage(pid: number): ProcessUsage {
  // Fields after the command name (which may hold spaces): state is 3rd, utime 14th, stime 15th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuSeconds: ticks / CLOCK_TICKS, peakRssMb: Math.round(Number(hwm?.[1] ?? 0) / 1024) };
}

/**
 * CPU seconds of the PostgreSQL backends connected to the database of `databaseUrl` now (the
 * server's share of the work, outside the workers; serve's few connections included, the
 * bench's own left out), by pid, read from /proc: null when the server is
 * not on this machine. Backends that already closed are not in it.
 */
export async function backendCpuSeconds(databaseUrl: string): Promise<Map<number, number> | null> {
  const host = new URL(databaseUrl).hostname;
  if (!['127.0.0.1', 'localhost', '::1', ''].includes(host)) return null;
  const c = new pg.Client({ connectionString: databaseUrl, application_name: BENCH_APP });
  await c.connect();
  try {
    const { rows } = await c.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = current_database() and application_name <> $1',
      [BENCH_APP],
    );
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        out.set(pid, processUsage(pid).cpuSeconds);
      } catch {
        // closed meanwhile, or a server in a container of its own: not counted
      }
    }
    return out.size > 0 ? out : null;
  } finally {
    await c.end();
  }
}

/** CPU seconds the backends spent between two readings (a backend new since `before` counts whole). */
export function backendCpuSpent(
  before: Map<number, number> | null,
  after: Map<number, number> | null,
): number | null {
  if (!after) return null;
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before?.get(pid) ?? 0);
  return sum;
}

export interface LongRunningCli {
  pid: number;
  usage(): ProcessUsage;
  /** Resolves once its output (stdout and stderr) holds `text`; fails if it exits first or after `timeoutMs`. */
  waitForOutput(text: string, timeoutMs: number): Promise<void>;
  /** SIGTERM, SIGKILL after 10 s; resolves when it exited. */
  stop(): Promise<void>;
}

/** `drivewarden …args` kept running (a worker, `serve --no-work`). */
export function startCliProcess(args: string[], env: Record<string, string>): LongRunningCli {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'bin/drivewarden.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, DW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let seen = 0;
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (c: string) => {
      seen += c.length;
      out = (out + c).slice(-20_000);
    });
  }
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  const died = () =>
    new Error(`drivewarden ${args[0]} exited (${child.exitCode ?? child.signalCode}): ${out}`);
  return {
    pid: child.pid ?? -1,
    usage: () => {
      if (gone()) throw died();
      return processUsage(child.pid ?? -1);
    },
    async waitForOutput(text, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!out.includes(text)) {
        if (gone()) throw died();
        if (Date.now() > deadline)
          throw new Error(
            `drivewarden ${args[0]} did not print "${text}" within ${timeoutMs} ms (${seen} chars): ${out}`,
          );
        await sleep(100);
      }
    },
    async stop() {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface QueuedCollection {
  /** Seconds from the integration.sync job's creation to the last drive.delta job's completion. */
  seconds: number;
  driveJobs: number;
  /** Rule evaluations (rules.evaluate jobs) started before the last drive job completed: their CPU is in the workers' and PostgreSQL's. */
  rulesJobs: number;
  /** Drive jobs that ended failed or cancelled (their drive was not collected). */
  failedDriveJobs: number;
}

interface JobRow {
  kind: string;
  state: string;
  created_on: Date;
  started_on: Date | null;
  completed_on: Date | null;
}

/**
 * Waits for an integration's start-up collection done by workers: its integration.sync job
 * completed, and every drive.delta job of source 'full' (the ones it queued) ended.
 * Reads pg-boss's job and archive tables on the database's clock; polls every `intervalMs`.
 */
export async function waitForQueuedCollection(
  databaseUrl: string,
  integrationId: string,
  opts: { timeoutMs: number; intervalMs?: number; onPoll?: () => void },
): Promise<QueuedCollection> {
  const c = new pg.Client({ connectionString: databaseUrl, application_name: BENCH_APP });
  await c.connect();
  const cols = `data->>'kind' as kind, state, created_on, started_on, completed_on`;
  const where = `name = $1 and (data->>'kind' in ('integration.sync', 'rules.evaluate') or (data->>'kind' = 'drive.delta' and data->'payload'->>'source' = 'full'))`;
  const query = `select ${cols} from ${BOSS_SCHEMA}.job where ${where}
                 union all select ${cols} from ${BOSS_SCHEMA}.archive where ${where}`;
  const deadline = Date.now() + opts.timeoutMs;
  try {
    for (;;) {
      const rows = await c
        .query<JobRow>(query, [queueOf(integrationId)])
        .then((r) => r.rows)
        // pg-boss creates its schema when the first process starts.
        .catch((err: { code?: string }) => (err.code === '42P01' ? [] : Promise.reject(err)));
      opts.onPoll?.();
      const done = collectionDone(rows);
      if (done) return done;
      if (Date.now() > deadline)
        throw new Error(`the queued collection did not end within ${opts.timeoutMs} ms: ${summarise(rows)}`);
      await sleep(opts.intervalMs ?? 250);
    }
  } finally {
    await c.end();
  }
}

const ENDED = new Set(['completed', 'failed', 'cancelled']);

function collectionDone(rows: JobRow[]): QueuedCollection | undefined {
  const start = rows.find((r) => r.kind === 'integration.sync');
  if (!start) return undefined;
  if (start.state === 'failed' || start.state === 'cancelled')
    throw new Error(`the start-up collection job ${start.state}`);
  if (start.state !== 'completed') return undefined;
  const drives = rows.filter((r) => r.kind === 'drive.delta');
  if (drives.length === 0 || drives.some((r) => !ENDED.has(r.state))) return undefined;
  const last = Math.max(...drives.map((r) => r.completed_on?.getTime() ?? 0));
  return {
    seconds: (last - start.created_on.getTime()) / 1000,
    driveJobs: drives.length,
    failedDriveJobs: drives.filter((r) => r.state !== 'completed').length,
    rulesJobs: rows.filter(
      (r) => r.kind === 'rules.evaluate' && r.started_on !== null && r.started_on.getTime() <= last,
    ).length,
  };
}

function summarise(rows: JobRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(`${r.kind} ${r.state}`, (counts.get(`${r.kind} ${r.state}`) ?? 0) + 1);
  return JSON.stringify(Object.fromEntries(counts));
}
