/**
 * The query process starts for every console query, so what it loads is its latency: it
 * loads its dialect's driver and the guard, never Kysely, zod (the config) or the other
 * dialect's driver. And it starts from the build when DW_RUN_SOURCES=0 says dist/ is the
 * current code (scripts/run-tests.mjs), from the sources through tsx (boot.mjs) otherwise.
 * Proved with the import log (test/support/import-log/) of a real query process.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { openTestStore, testDialects } from '../../../../test/support/store.ts';
import type { Store } from '../../store.ts';
import { queryTargetOf } from '../check-query.ts';
import { DEFAULT_QUERY_LIMITS, runInQueryProcess } from './runner.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const IMPORT_LOG = join(ROOT, 'test/support/import-log/register.mjs');
const SOURCE_CHILD = pathToFileURL(join(ROOT, 'src/store/sql-guard/runner/child.ts')).href;
const BUILD = pathToFileURL(join(ROOT, 'dist/')).href;
const BUILT_CHILD = `${BUILD}src/store/sql-guard/runner/child.js`;
const NOT_LOADED = ['kysely', 'zod'];
const DRIVERS = { sqlite: 'better-sqlite3', postgres: 'pg' } as const;

/** The query runs in a process with the import log on; its answer and the modules it loaded. */
async function runLogged(store: Store, runSources: '0' | '1') {
  const dir = mkdtempSync(join(tmpdir(), 'dw-query-imports-'));
  const saved = { ...process.env };
  try {
    const log = join(dir, 'imports.log');
    // The query process inherits this process's environment.
    Object.assign(process.env, {
      DW_RUN_SOURCES: runSources,
      DW_IMPORT_LOG: log,
      NODE_OPTIONS: `--import ${IMPORT_LOG}`,
    });
    const answer = await runInQueryProcess({
      type: 'run',
      target: queryTargetOf(store),
      text: 'select count(*) as n from users',
      values: [],
      limits: DEFAULT_QUERY_LIMITS,
    });
    return { answer, loaded: new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean)) };
  } finally {
    for (const key of ['DW_RUN_SOURCES', 'DW_IMPORT_LOG', 'NODE_OPTIONS'])
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    rmSync(dir, { recursive: true, force: true });
  }
}

const packagesIn = (loaded: Set<string>) =>
  new Set([...loaded].map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]).filter(Boolean));

for (const dialect of testDialects()) {
  describe(`the query process (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
    });
    after(() => cleanup());

    const other = dialect === 'sqlite' ? DRIVERS.postgres : DRIVERS.sqlite;

    it(`from the build when DW_RUN_SOURCES=0: loads ${DRIVERS[dialect]}, not ${[...NOT_LOADED, other].join(', ')}`, async () => {
      const { answer, loaded } = await runLogged(store, '0');
      assert.deepEqual(answer.rows, [[0]]);
      // scripts/run-tests.mjs builds dist/ before the tests; without a build, the sources run.
      assert.ok(loaded.has(existsSync(fileURLToPath(BUILT_CHILD)) ? BUILT_CHILD : SOURCE_CHILD));
      const packages = packagesIn(loaded);
      assert.ok(packages.has(DRIVERS[dialect]), [...packages].join(', '));
      for (const name of [...NOT_LOADED, other]) assert.ok(!packages.has(name), `${name} loaded`);
    });

    it('from the sources through tsx when DW_RUN_SOURCES=1, loading as little', async () => {
      const { answer, loaded } = await runLogged(store, '1');
      assert.deepEqual(answer.rows, [[0]]);
      assert.ok(loaded.has(SOURCE_CHILD), 'child.ts from the sources');
      assert.ok(![...loaded].some((url) => url.startsWith(BUILD)), 'nothing from the build');
      const packages = packagesIn(loaded);
      assert.ok(packages.has(DRIVERS[dialect]), [...packages].join(', '));
      for (const name of [...NOT_LOADED, other]) assert.ok(!packages.has(name), `${name} loaded`);
    });
  });
}
