import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory for one scenario run, removed by `cleanup` (unless --keep is given). */
export function scenarioDir(name: string, keep: boolean): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `dw-bench-${name}-`));
  return {
    dir,
    cleanup() {
      if (!keep) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `--profile DIR`: node flags that write a CPU profile of a process into DIR/<who>. */
export function profileArgs(flags: Record<string, string>, who: string): string[] {
  const dir = flags.profile;
  if (!dir || dir === 'true') return [];
  return ['--cpu-prof', `--cpu-prof-dir=${join(dir, who)}`];
}

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
