/**
 * Runs the simulator as a program: `node --import tsx sim/main.ts --seed 1 --users 50 --items 2000`.
 * Prints one JSON line (SimConnectionInfo) on stdout and stays up until SIGTERM / SIGINT.
 */
import type { SimOptions } from './contracts.ts';
import { startSimulator } from './index.ts';

const NUMERIC: Record<string, keyof SimOptions> = {
  '--seed': 'seed',
  '--users': 'users',
  '--items': 'items',
  '--port': 'port',
  '--ru-budget': 'ruBudgetPerMinute',
  '--time-scale': 'timeScale',
  '--latency-ms': 'latencyMs',
  '--unprovisioned-ratio': 'unprovisionedRatio',
  '--shared-ratio': 'sharedRatio',
  '--anonymous-ratio': 'anonymousRatio',
  '--violation-ratio': 'violationRatio',
  '--delta-repeat-rate': 'deltaRepeatRate',
};

export function parseSimArgs(argv: string[]): SimOptions {
  const o: SimOptions = {};
  const rec = o as Record<string, unknown>;
  for (let k = 0; k < argv.length; k++) {
    const [flag, inline] = argv[k].includes('=') ? argv[k].split(/=(.*)/s, 2) : [argv[k], undefined];
    const value = () => {
      const v = inline ?? argv[++k];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag in NUMERIC) {
      const v = value();
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} expects a number, got '${v}'`);
      rec[NUMERIC[flag]] = n;
    } else if (flag === '--notification-coalesce-ms') {
      const v = value();
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} expects a number, got '${v}'`);
      o.events = { ...o.events, coalesceMs: n };
    } else if (flag === '--allow-http-notifications') o.allowHttpNotifications = true;
    else if (flag === '--state-dir') o.stateDir = value();
    else if (flag === '--reference-time') o.referenceTime = value();
    else if (flag === '--faults') {
      const v = value();
      try {
        o.faults = JSON.parse(v);
      } catch {
        throw new Error(`--faults expects a JSON array of fault rules, got '${v}'`);
      }
    } else if (flag === '--help' || flag === '-h') {
      throw new Error(
        'usage: sim [--seed N] [--users N] [--items N] [--port N] [--ru-budget N] [--time-scale N] [--latency-ms N] ' +
          '[--allow-http-notifications] [--state-dir DIR] [--reference-time ISO] [--faults JSON] ' +
          '[--unprovisioned-ratio R] [--shared-ratio R] [--anonymous-ratio R] [--violation-ratio R] [--delta-repeat-rate R] ' +
          '[--notification-coalesce-ms N]',
      );
    } else throw new Error(`unknown flag '${flag}' (try --help)`);
  }
  return o;
}

/** Starts the simulator, prints the connection line, resolves when a signal stopped it. */
export async function runSimulatorProcess(options: SimOptions): Promise<void> {
  const sim = await startSimulator(options);
  const { close: _close, ...info } = sim;
  process.stdout.write(`${JSON.stringify(info)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      sim.close().then(resolve, resolve);
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

if (process.argv[1] && /sim[\\/]main\.ts$/.test(process.argv[1])) {
  try {
    await runSimulatorProcess(parseSimArgs(process.argv.slice(2)));
  } catch (e) {
    process.stderr.write(`drivewarden sim: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
