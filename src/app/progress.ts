import type { SyncProgress } from '../collect/context.ts';

function duration(ms: number | null): string {
  if (ms === null) return '?';
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export function formatProgress(p: SyncProgress): string {
  const drives =
    p.phase === 'directory'
      ? 'users, groups, drives…'
      : p.phase === 'permissions'
        ? `permissions ${p.permissionCalls} read, riskiest first`
        : `drives ${p.drivesDone + p.drivesFailed}/${p.drivesTotal}`;
  const failed = p.drivesFailed ? ` (${p.drivesFailed} failed)` : '';
  const throttle = p.throttledResponses
    ? ` | throttled ${p.throttledResponses}× ${duration(p.throttleWaitMs)}`
    : '';
  return `${drives}${failed} | items ${p.items} | RU ${p.ruSpent} | ${duration(p.elapsedMs)} elapsed, ETA ${duration(p.etaMs)}${throttle}`;
}

/**
 * A progress display on stderr: one line redrawn in place on a terminal, a line every
 * `everyMs` otherwise (logs, CI). stdout stays for the command's result.
 */
export function progressPrinter(everyMs = 5000): { update(p: SyncProgress): void; done(): void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let pending: SyncProgress | undefined;
  return {
    update(p) {
      pending = p;
      const now = Date.now();
      if (now - last < (tty ? 200 : everyMs) && p.phase !== 'done') return;
      last = now;
      if (tty) process.stderr.write(`\r\x1b[2K${formatProgress(p)}`);
      else process.stderr.write(`${formatProgress(p)}\n`);
    },
    done() {
      if (tty && pending) process.stderr.write(`\r\x1b[2K${formatProgress(pending)}\n`);
    },
  };
}
