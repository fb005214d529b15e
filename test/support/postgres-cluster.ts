import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimOptions } from '../../sim/contracts.ts';
import type { Store } from '../../src/store/store.ts';
import { type CliResult, DW_BIN, runCli } from './cli.ts';
import { startTestSim, type TestSim } from './simulator.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from './throwaway-database.ts';
import { waitFor } from './wait.ts';

/**
 * drivewarden processes (`serve`, `worker`, the CLI) sharing one PostgreSQL database of a
 * test's own, against a simulated tenant: what the jobs and replicas acceptance tests run.
 */
export interface PostgresCluster {
  sim: TestSim;
  database: ThrowawayDatabase;
  /** The processes' data directory (their secret key is the cluster's, their store the database). */
  dir: string;
  /** The processes' environment: the cluster's settings, then `extra`. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Starts `drivewarden <args>` and keeps it running; `close` kills it. `name` labels its log. */
  start(name: string, args: string[], extra?: Record<string, string>): ChildProcess;
  /** Runs `drivewarden <args>` to its end and asserts it succeeded. */
  dw(args: string[], extra?: Record<string, string>, dataDir?: string): Promise<CliResult>;
  /** `drivewarden integrations add` of the simulated tenant. */
  addIntegration(extra?: Record<string, string>, dataDir?: string): Promise<void>;
  /**
   * The same tenant in one process on SQLite, for comparison: `fn` gets the environment
   * (and data directory) of a store of its own, removed afterwards.
   */
  oneProcess<T>(fn: (one: Record<string, string>, dataDir: string) => Promise<T>): Promise<T>;
  /** Kills what is still running, stops the simulator, drops the database, removes the directory. */
  close(): Promise<void>;
}

export interface PostgresClusterOptions {
  /** Names the database (`<prefix>_<random>`) and the directories. */
  prefix: string;
  sim: SimOptions;
  /** Settings of every process, over the cluster's (short job leases, 4 concurrent drive runs). */
  env?: Record<string, string>;
  /** How much of each process's stderr is kept for failures and DW_TEST_VERBOSE (default 4,000 chars). */
  logChars?: number;
}

export async function startPostgresCluster(options: PostgresClusterOptions): Promise<PostgresCluster> {
  const dir = mkdtempSync(join(tmpdir(), `${options.prefix.replaceAll('_', '-')}-`));
  const secretKey = randomBytes(32).toString('base64');
  const procs: ChildProcess[] = [];
  const logs: Array<() => string> = [];
  let sim: TestSim | undefined;
  let database: ThrowawayDatabase | undefined;
  const close = async () => {
    if (process.env.DW_TEST_VERBOSE) for (const l of logs) process.stderr.write(`${l()}\n`);
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    await sim?.close();
    await database?.drop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    sim = await startTestSim(options.sim);
    const { close: _close, ...info } = sim.sim;
    writeFileSync(join(dir, 'sim.json'), JSON.stringify(info));
    database = await createThrowawayDatabase(options.prefix);
  } catch (err) {
    await close();
    throw err;
  }
  const db = database;
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    DW_DATA_DIR: dir,
    DW_DATABASE_URL: db.url,
    DW_SECRET_KEY: secretKey,
    DW_LOG_LEVEL: 'warn',
    // A dead worker's jobs go back to the queue 10 s after its last lease renewal (live
    // workers renew theirs every 2.5 s); 15 min by default.
    DW_JOB_LEASE_SECONDS: '10',
    DW_JOB_MAINTENANCE_SECONDS: '1',
    DW_SYNC_CONCURRENCY: '4',
    ...options.env,
    ...extra,
  });
  const dw = async (args: string[], extra: Record<string, string> = {}, dataDir = dir) => {
    const r = await runCli(dataDir, args, env({ ...extra, DW_DATA_DIR: dataDir }));
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return r;
  };
  const logChars = options.logChars ?? 4000;
  return {
    sim,
    database,
    dir,
    env,
    start(name, args, extra = {}) {
      const child = spawn(process.execPath, [DW_BIN, ...args], {
        env: { ...process.env, ...env(extra) },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr?.on('data', (d) => {
        err = (err + d).slice(-logChars);
      });
      child.on('exit', (code, signal) => {
        if (code && code !== 0) process.stderr.write(`${name} exited ${code} ${signal ?? ''}: ${err}\n`);
      });
      logs.push(() => `${name}: ${err}`);
      procs.push(child);
      return child;
    },
    dw,
    async addIntegration(extra = {}, dataDir = dir) {
      await dw(
        ['integrations', 'add', '--name', 'acme', '--sim-info', join(dir, 'sim.json')],
        extra,
        dataDir,
      );
    },
    async oneProcess(fn) {
      const single = mkdtempSync(join(tmpdir(), `${options.prefix.replaceAll('_', '-')}-single-`));
      try {
        return await fn({ DW_DATABASE_URL: '', DW_DATA_DIR: single }, single);
      } finally {
        rmSync(single, { recursive: true, force: true });
      }
    },
    close,
  };
}

/** `rule resource status` of every finding, sorted: what two runs of one tenant compare. */
export async function findingLines(store: Store): Promise<string[]> {
  return (await store.db.selectFrom('findings').select(['rule_id', 'resource_key', 'status']).execute())
    .map((f) => `${f.rule_id} ${f.resource_key} ${f.status}`)
    .sort();
}

/**
 * Waits for the store's findings to equal `expected` (evaluations queued by the last runs may
 * still be running), then asserts they do: a difference that never went away shows.
 */
export async function assertFindingsBecome(store: Store, expected: string[], who: string): Promise<void> {
  let got: string[] = [];
  await waitFor(
    `the findings of ${who} to equal those of one process`,
    async () => {
      got = await findingLines(store);
      return got.join('\n') === expected.join('\n');
    },
    { timeoutMs: 120_000, intervalMs: 250 },
  ).catch(() => undefined);
  assert.deepEqual(got, expected);
}

/** How many live drives have stored a deltaLink (their collection got to its end). */
export async function drivesCollected(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('sync_state')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('scope', 'like', 'drive:%')
    .where('delta_link', 'is not', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
