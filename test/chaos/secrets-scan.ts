/**
 * Secrets scan: `drivewarden demo --exit-after-sync` at debug log level, then the database
 * files of its data directory (the simulator's own state directory excluded: it is the
 * tenant, not drivewarden) and everything it logged are searched for the client secret.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulator } from '../../sim/index.ts';
import { DW_BIN } from '../support/cli.ts';

export interface SecretsReport {
  filesScanned: number;
  bytesScanned: number;
  /** Places the secret was found in clear (file paths, 'logs'). */
  leaks: string[];
  exitCode: number | null;
}

/** The demo's client secret: its simulator runs with seed 42, whose secret this start reads. */
export async function demoClientSecret(): Promise<string> {
  const sim = await startSimulator({ seed: 42, users: 1, items: 5 });
  try {
    return sim.clientSecret;
  } finally {
    await sim.close();
  }
}

export async function demoSecretsScan(): Promise<SecretsReport> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dw-chaos-secrets-'));
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        [DW_BIN, 'demo', '--exit-after-sync', '--users', '6', '--items', '200', '--port', '0'],
        {
          env: { ...process.env, DW_DATA_DIR: dataDir, DW_LOG_LEVEL: 'debug' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (d) => {
        output += d;
      });
      child.stderr.on('data', (d) => {
        output += d;
      });
      child.on('close', (c) => resolve({ code: c, output }));
    });
    const report: SecretsReport = { filesScanned: 0, bytesScanned: output.length, leaks: [], exitCode: code };
    const secret = await demoClientSecret();
    const needles = [secret, Buffer.from(secret).toString('base64')];
    if (needles.some((n) => output.includes(n))) report.leaks.push('logs');
    const walk = (dir: string, control: boolean) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) {
          walk(path, control || name === 'sim');
          continue;
        }
        if (control) continue;
        const bytes = readFileSync(path);
        report.filesScanned++;
        report.bytesScanned += bytes.length;
        const text = bytes.toString('latin1');
        if (needles.some((n) => text.includes(n))) report.leaks.push(path.slice(dataDir.length + 1));
      }
    };
    walk(dataDir, false);
    return report;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
