/**
 * Child processes of the benchmarks: the simulator (its own process, so that the product's
 * peak RSS and CPU are its own) and the `drivewarden` CLI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SimAdminClient } from '../../sim/admin-client.ts';
import type { SimConnectionInfo } from '../../sim/contracts.ts';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) if (child.exitCode === null) child.kill('SIGKILL');
});

export interface SimProcess {
  info: SimConnectionInfo;
  /** The connection line written to a file, for `integrations add --sim-info`. */
  infoFile: string;
  admin: SimAdminClient;
  pid: number;
  /** What the simulator wrote on stderr so far (errors). */
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Starts `node --import tsx sim/main.ts …args` and waits for its connection line.
 * `extraNodeArgs` e.g. ['--cpu-prof', '--cpu-prof-dir=…'] to profile the simulator.
 */
export async function startSimProcess(
  dir: string,
  args: string[],
  opts: { timeoutMs?: number; extraNodeArgs?: string[] } = {},
): Promise<SimProcess> {
  const child = spawn(
    process.execPath,
    [
      ...(opts.extraNodeArgs ?? []),
      '--import',
      'tsx',
      join(ROOT, 'sim/main.ts'),
      '--state-dir',
      join(dir, 'sim'),
      ...args,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  live.add(child);
  let err = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    err = (err + c).slice(-20_000);
  });
  const line = await new Promise<string>((ok, fail) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`simulator did not start within ${opts.timeoutMs ?? 600_000} ms: ${err}`)),
      opts.timeoutMs ?? 600_000,
    );
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (c: string) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        ok(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`simulator exited with ${code} before it was ready: ${err}`));
    });
  });
  const info = JSON.parse(line) as SimConnectionInfo;
  const infoFile = join(dir, 'sim-info.json');
  writeFileSync(infoFile, `${line}\n`);
  const admin = new SimAdminClient(info);
  return {
    info,
    infoFile,
    admin,
    pid: child.pid ?? -1,
    stderr: () => err,
    async close() {
      await admin.close().catch(() => undefined);
      if (child.exitCode === null) {
        const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
    },
  };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall-clock seconds of the whole process (Node start-up included). */
  seconds: number;
}

/** Runs `node [nodeArgs] bin/drivewarden.js …args` with `env` added to the environment. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin/drivewarden.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, DW_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (c: string) => {
    stdout += c;
  });
  child.stderr?.on('data', (c: string) => {
    stderr = (stderr + c).slice(-50_000);
  });
  return new Promise((ok) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      ok({ code: code ?? (signal ? 128 : 1), stdout, stderr, seconds: (performance.now() - t0) / 1000 });
    });
  });
}

/** Runs the CLI and fails with its output when it does not exit 0. */
export async function runCliOk(
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): Promise<CliRun> {
  const run = await runCli(args, env, nodeArgs);
  if (run.code !== 0)
    throw new Error(
      `drivewarden ${args.join(' ')} exited with ${run.code}${run.code === 13 ? ' (a promise never settled: the process ran out of work while awaiting)' : ''}\nstdout: ${run.stdout.slice(-2000)}\nstderr: ${run.stderr.slice(-4000)}`,
    );
  return run;
}

/** The last line of `text` that parses as a JSON object. */
export function lastJsonLine<T>(text: string): T {
  const lines = text.trim().split('\n').reverse();
  for (const line of lines) {
    const s = line.trim();
    if (!s.startsWith('{')) continue;
    try {
      return JSON.parse(s) as T;
    } catch {
      // not JSON: keep looking
    }
  }
  throw new Error(`no JSON line in: ${text.slice(-500)}`);
}
