// Runs every *.test.ts under src/, sim/, test/ and bench/ with node's own test runner
// (through tsx). Extra arguments are passed on, so `npm test -- sim` narrows by path.
// The PostgreSQL tests get one server for the whole run: the configured one (DW_TEST_PG_URL,
// default 127.0.0.1:5432) when it answers, else a throwaway one started here and stopped at
// the end (test/support/postgres-server.ts), handed to every file through DW_TEST_PG_URL.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = ['src', 'sim', 'test', 'bench'];
const filters = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) walk(path);
    else if (name.endsWith('.test.ts') && (filters.length === 0 || filters.some((f) => path.includes(f))))
      files.push(path);
  }
};
roots.forEach(walk);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const wantsPostgres = (process.env.DW_TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .some((d) => d.trim() === 'postgres');
let postgres;
if (wantsPostgres) {
  const { register } = await import('tsx/esm/api');
  register();
  const { ensureTestPostgres } = await import('../test/support/postgres-server.ts');
  postgres = await ensureTestPostgres();
}
// A file's tests must end within 10 minutes: the CLI and end-to-end files spawn tens of product
// processes, each a few seconds on a quiet machine and several times that under load.
// spawn, not spawnSync: an embedded server's log pipe must keep draining while the tests run.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  // DW_RUN_SOURCES: the CLI processes tests start run the sources under test, not a build in dist/.
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      DW_LOG_LEVEL: process.env.DW_LOG_LEVEL ?? 'silent',
      DW_RUN_SOURCES: '1',
      ...(postgres ? { DW_TEST_PG_URL: postgres.url } : {}),
    },
  },
);
const status = await new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
await postgres?.stop();
process.exit(status);
