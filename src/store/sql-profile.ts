import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogEvent } from 'kysely';

/**
 * A diagnostic: with DW_SQL_PROFILE=<directory>, every Kysely instance of the process times
 * its statements (Kysely's `log`, queryDurationMillis), aggregated by SQL text, and the
 * process writes `<directory>/sql-profile-<pid>.json` at exit: statements by total time,
 * each with its count and milliseconds. Off (no `log` at all) unless the variable is set.
 */
export function sqlProfileLog(env: NodeJS.ProcessEnv = process.env): ((event: LogEvent) => void) | undefined {
  const dir = env.DW_SQL_PROFILE;
  if (!dir) return undefined;
  profile ??= startProfile(dir);
  const totals = profile;
  return (event) => {
    const entry = totals.get(event.query.sql) ?? { count: 0, ms: 0, errors: 0 };
    entry.count++;
    entry.ms += event.queryDurationMillis;
    if (event.level === 'error') entry.errors++;
    totals.set(event.query.sql, entry);
  };
}

interface Entry {
  count: number;
  ms: number;
  errors: number;
}

let profile: Map<string, Entry> | undefined;

function startProfile(dir: string): Map<string, Entry> {
  const totals = new Map<string, Entry>();
  process.on('exit', () => {
    const rows = [...totals]
      .map(([sql, e]) => ({ ...e, ms: Math.round(e.ms), sql }))
      .sort((a, b) => b.ms - a.ms);
    writeFileSync(join(dir, `sql-profile-${process.pid}.json`), `${JSON.stringify(rows, null, 1)}\n`);
  });
  return totals;
}
