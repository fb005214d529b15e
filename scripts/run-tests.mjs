// Runs every *.test.ts under src/, sim/, test/ and bench/ with node's own test runner
// (through tsx). Extra arguments are passed on, so `npm test -- sim` narrows by path.
// The PostgreSQL tests get one server for the whole run: the configured one (DW_TEST_PG_URL,
// default 127.0.0.1:5432) when it answers, else a throwaway one started here and stopped at
// the end (test/support/postgres-server.ts), handed to every file through DW_TEST_PG_URL.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
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
/**
 * The CLI processes the tests start (bin/drivewarden.js) run the build in dist/ when it is the
 * current code, and the TypeScript sources through tsx otherwise: the build starts each process
 * in about half the CPU time, and the CLI files start hundreds. The query processes and worker
 * threads the product starts from the sources do the same (startingModule in
 * src/util/runtime-files.ts): the console attack suites start hundreds of query processes.
 * To know it is current, the build is brought up to date here: tsc's incremental build compares
 * every source with the hashes in dist/.tsbuildinfo and compiles what changed (a few CPU
 * seconds when nothing did, as after `npm ci`'s prepare in CI). A failed build (a type error) leaves the sources to be tested.
 * DW_RUN_SOURCES=1 in the environment keeps the sources without building.
 */
function runSourcesOrBuild() {
  if (process.env.DW_RUN_SOURCES === '1') return '1';
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const build = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  if (build.status === 0) return '0';
  console.error('run-tests: `npm run build` failed, so the CLI processes run the sources through tsx');
  return '1';
}
const runSources = runSourcesOrBuild();

// A file's tests must end within 10 minutes: the CLI and end-to-end files spawn tens of product
// processes, each a few seconds on a quiet machine and several times that under load.
// The usual report (spec on a terminal, TAP otherwise) on stdout, where it closes the log as
// before; the slowest files (./slowest-files.mjs) on stderr.
const reporters = [
  ...['--test-reporter', process.stdout.isTTY ? 'spec' : 'tap', '--test-reporter-destination', 'stdout'],
  ...['--test-reporter', new URL('./slowest-files.mjs', import.meta.url).href],
  ...['--test-reporter-destination', 'stderr'],
];
// spawn, not spawnSync: an embedded server's log pipe must keep draining while the tests run.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...reporters, ...files],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      DW_LOG_LEVEL: process.env.DW_LOG_LEVEL ?? 'silent',
      DW_RUN_SOURCES: runSources,
      ...(postgres ? { DW_TEST_PG_URL: postgres.url } : {}),
    },
  },
);
const status = await new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
await postgres?.stop();
process.exit(status);
