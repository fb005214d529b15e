/**
 * The benchmark harness: `npm run bench -- --scenario NAME [--json] [--quick] [--key value…]`.
 * Each scenario is self-contained (starts what it needs in a temporary directory and cleans
 * up) and returns one flat record of figures. With --json the record is the last line of
 * stdout; otherwise a human summary is printed.
 */

import { cpus, loadavg } from 'node:os';

export type Figures = Record<string, number | boolean | string | null>;

export interface ScenarioContext {
  quick: boolean;
  /** Extra `--name value` flags, e.g. --users 2000 --items 1000000. */
  flags: Record<string, string>;
  /** Progress lines go to stderr so stdout stays machine-readable. */
  log(message: string): void;
}

export interface Scenario {
  name: string;
  description: string;
  run(ctx: ScenarioContext): Promise<Figures>;
}

export function parseArgs(argv: string[]): {
  scenario?: string;
  json: boolean;
  quick: boolean;
  flags: Record<string, string>;
} {
  const flags: Record<string, string> = {};
  let scenario: string | undefined;
  let json = false;
  let quick = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--json') json = true;
    else if (arg === '--quick') quick = true;
    else if (arg === '--scenario') scenario = argv[++i];
    else if (arg.startsWith('--')) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) flags[arg.slice(2)] = 'true';
      else {
        flags[arg.slice(2)] = next;
        i++;
      }
    } else throw new Error(`unexpected argument: ${arg}`);
  }
  return { scenario, json, quick, flags };
}

export function numberFlag(ctx: ScenarioContext, name: string, normal: number, quick: number): number {
  const raw = ctx.flags[name];
  if (raw === undefined) return ctx.quick ? quick : normal;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`--${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/** p-th percentile (0..100) of a list of numbers, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The 1-minute load average, rounded (other work on the machine skews every figure). */
export function loadAverage(): number {
  return round(loadavg()[0], 2);
}

/**
 * The machine a result was measured on: absolute figures only compare on the same one,
 * and a loaded machine (load average well above 0 at the start or end) skews them.
 */
export function machineInfo(): Figures {
  const list = cpus();
  return {
    cores: list.length,
    cpu_model: list[0]?.model.trim() ?? 'unknown',
    node_version: process.version,
  };
}
