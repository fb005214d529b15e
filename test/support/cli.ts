import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** bin/drivewarden.js of this checkout. */
export const DW_BIN = fileURLToPath(new URL('../../bin/drivewarden.js', import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `drivewarden <args>` as people do, in its own process, on the data directory given
 * (logs at warn); `env` adds or overrides variables.
 */
export function runCli(
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [DW_BIN, ...args], {
      env: { ...process.env, DW_DATA_DIR: dataDir, DW_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
