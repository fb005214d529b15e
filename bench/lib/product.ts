/** The product side of the benchmarks: the CLI in its own process, and the store it leaves behind. */
import { join } from 'node:path';
import type { SimAdminClient } from '../../sim/admin-client.ts';
import type { SyncResult } from '../../src/collect/sync.ts';
import { openStore, type StoreOptions } from '../../src/store/store.ts';
import { describeDiff, diffWithTruth } from '../../test/support/truth.ts';
import { type CliRun, lastJsonLine, runCliOk, type SimProcess } from './processes.ts';

export interface ProductEnv {
  dataDir: string;
  /** The PostgreSQL store (DW_DATABASE_URL), when the product runs on one; else SQLite in dataDir. */
  databaseUrl?: string;
  env: Record<string, string>;
}

export function productEnv(dir: string, extra: Record<string, string> = {}): ProductEnv {
  const dataDir = join(dir, 'data');
  const databaseUrl = extra.DW_DATABASE_URL || undefined;
  return { dataDir, databaseUrl, env: { DW_DATA_DIR: dataDir, ...extra } };
}

/** How to open the store the product writes: its PostgreSQL database, or the SQLite file in its data directory. */
export function productStore(p: ProductEnv): StoreOptions {
  return p.databaseUrl ? { databaseUrl: p.databaseUrl, maxConnections: 2 } : { dataDir: p.dataDir };
}

/** `drivewarden integrations add --sim-info F`; returns the integration id. */
export async function addIntegration(p: ProductEnv, sim: SimProcess): Promise<string> {
  const run = await runCliOk(['integrations', 'add', '--sim-info', sim.infoFile], p.env);
  const m = /added integration ".*" \(([^)]+)\)/.exec(run.stdout);
  if (!m) throw new Error(`cannot read the integration id from: ${run.stdout.slice(0, 500)}`);
  return m[1];
}

export type SyncRecord = SyncResult & { integration: string };

export interface SyncRun {
  cli: CliRun;
  result: SyncRecord;
  maxRssMb: number;
  /** CPU seconds of the sync process (user + system, start-up included). */
  cpuSeconds: number;
  /** The sync's own duration (first Graph call to last commit), from the result's timestamps. */
  syncSeconds: number;
}

/** `drivewarden sync --once --json` in its own process. */
export async function runSync(
  p: ProductEnv,
  nodeArgs: string[] = [],
  extraArgs: string[] = [],
): Promise<SyncRun> {
  const cli = await runCliOk(['sync', '--once', '--json', ...extraArgs], p.env, nodeArgs);
  const out = lastJsonLine<{ results: SyncRecord[]; maxRssMb: number; cpuSeconds: number }>(cli.stdout);
  const result = out.results[0];
  if (!result) throw new Error(`sync printed no result: ${cli.stdout.slice(0, 500)}`);
  const syncSeconds = (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000;
  return { cli, result, maxRssMb: out.maxRssMb, cpuSeconds: out.cpuSeconds, syncSeconds };
}

export interface Correctness {
  correct: boolean;
  missing: number;
  extra: number;
  /** Short description of the first differences (empty when correct). */
  detail: string;
}

/** Compares the inventory with the simulator's ground truth (diffWithTruth in test/support/truth.ts). */
export async function checkAgainstTruth(
  store: Parameters<typeof diffWithTruth>[0],
  integrationId: string,
  admin: SimAdminClient,
): Promise<Correctness> {
  const diff = await diffWithTruth(store, integrationId, admin);
  const correct = diff.missing.length === 0 && diff.extra.length === 0;
  return {
    correct,
    missing: diff.missing.length,
    extra: diff.extra.length,
    detail: correct ? '' : describeDiff(diff, 5),
  };
}

/** Opens the store the product wrote (SQLite or PostgreSQL) and compares it with the truth. */
export async function checkStore(
  p: ProductEnv,
  integrationId: string,
  admin: SimAdminClient,
): Promise<Correctness> {
  const store = await openStore(productStore(p));
  try {
    return await checkAgainstTruth(store, integrationId, admin);
  } finally {
    await store.close();
  }
}
