import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { checkFile, checkRepository, checkRuntimePackages } from '../scripts/check-imports.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'check-imports.mjs');

type Problem = { file: string; specifier: string; message: string };
const check = (file: string, source: string): Problem[] => checkFile(file, source);

describe('the import-direction check', () => {
  it('passes on the repository as it is', () => {
    assert.deepEqual(
      (checkRepository(ROOT) as Problem[]).map((p) => p.message),
      [],
    );
  });

  it('fails `npm run lint` on a violating import, naming the file and the import', () => {
    const repo = mkdtempSync(join(tmpdir(), 'dw-imports-'));
    try {
      mkdirSync(join(repo, 'src', 'store'), { recursive: true });
      mkdirSync(join(repo, 'src', 'graph'), { recursive: true });
      writeFileSync(join(repo, 'src', 'graph', 'types.ts'), 'export interface A { a: string }\n');
      writeFileSync(join(repo, 'src', 'store', 'ok.ts'), "import { x } from './other.ts';\n");
      writeFileSync(join(repo, 'src', 'store', 'bad.ts'), "import type { A } from '../graph/types.ts';\n");
      const run = spawnSync(process.execPath, [SCRIPT, repo], { encoding: 'utf8' });
      assert.equal(run.status, 1, run.stderr);
      assert.match(
        run.stderr,
        /src\/store\/bad\.ts imports \.\.\/graph\/types\.ts: store\/ may not import graph\//,
      );
      assert.doesNotMatch(run.stderr, /ok\.ts/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });

  it('refuses imports up the layers, static, re-exported or dynamic', () => {
    const bad = check(
      'src/collect/realtime/x.ts',
      "import '../../server/app.ts';\nexport { y } from '../../app/context.ts';\nawait import('../../cli/main.ts');",
    );
    assert.deepEqual(
      bad.map((p) => p.specifier),
      ['../../server/app.ts', '../../app/context.ts', '../../cli/main.ts'],
    );
    assert.match(bad[1].message, /collect\/ may not import app\//);
    // the same row is no better than a row above
    assert.equal(check('src/graph/x.ts', "import '../resources/user.ts';").length, 1);
    // down is fine
    assert.deepEqual(check('src/app/x.ts', "import '../collect/sync.ts'; import '../store/store.ts';"), []);
  });

  it('keeps the simulator and the benchmarks apart from the product', () => {
    assert.equal(check('sim/server/x.ts', "import '../../src/store/store.ts';").length, 1);
    assert.equal(check('src/collect/drives.ts', "import '../../sim/index.ts';").length, 1);
    assert.deepEqual(check('src/cli/demo/demo.ts', "import '../../../sim/index.ts';"), []);
    assert.equal(check('bench/lib/other.ts', "import '../../src/collect/sync.ts';").length, 1);
    assert.deepEqual(check('bench/lib/product.ts', "import '../../src/collect/sync.ts';"), []);
  });

  it('lets only the connection factory load the database drivers', () => {
    const bad = check('src/query/x.ts', "import SQLite from 'better-sqlite3';\nimport type pg from 'pg';");
    assert.deepEqual(
      bad.map((p) => p.message),
      [
        'src/query/x.ts imports better-sqlite3: connections are opened by src/store/connection.ts only (src/store/sqlite-driver.ts loads it; import type is fine)',
      ],
    );
    assert.deepEqual(check('src/store/pg-driver.ts', "import pg from 'pg';"), []);
    assert.deepEqual(check('src/store/sqlite-driver.ts', "import SQLite from 'better-sqlite3';"), []);
    // Each driver in its own module: the query process loads only its dialect's.
    assert.equal(check('src/store/sqlite-driver.ts', "import pg from 'pg';").length, 1);
    assert.equal(check('src/store/connection.ts', "import pg from 'pg';").length, 1);
  });

  it('asks for a new folder to be placed, and lets test code reach across', () => {
    assert.match(
      check('src/newthing/x.ts', "import '../store/store.ts';")[0].message,
      /not in the layer table/,
    );
    assert.deepEqual(check('src/collect/realtime/x.test.ts', "import '../../server/app.ts';"), []);
    assert.deepEqual(check('src/collect/test-support.ts', "import '../../sim/index.ts';"), []);
  });

  it('refuses a runtime import of a dev dependency (the image prunes them), naming it', () => {
    const pkg = {
      dependencies: { kysely: '^0.28.0', fastify: '^5.0.0' },
      devDependencies: { 'playwright-core': '^1.0.0', vite: '8.3.8', tsx: '^4.0.0' },
    };
    const packages = (file: string, source: string): Problem[] => checkRuntimePackages(file, source, pkg);
    const bad = packages(
      'src/server/x.ts',
      [
        "import { chromium } from 'playwright-core';",
        // kept by verbatimModuleSyntax: the module is loaded
        "import { type UserConfig } from 'vite';",
        "export { register } from 'tsx/esm/api';",
        "const later = await import('left-pad');",
        "import { sql } from 'kysely';",
        "import { readFile } from 'node:fs/promises';",
        "import path from 'path';",
        "import './local.ts';",
      ].join('\n'),
    );
    assert.deepEqual(
      bad.map((p) => p.specifier),
      ['playwright-core', 'vite', 'tsx/esm/api', 'left-pad'],
    );
    assert.equal(
      bad[0].message,
      'src/server/x.ts loads playwright-core at runtime: playwright-core is a devDependency, pruned from the runtime install (deploy/Dockerfile): move it to dependencies, or import type only',
    );
    assert.match(bad[3].message, /left-pad is not in package.json's dependencies/);
    // Erased: import type / export type; the simulator and bin/ run in production too.
    assert.deepEqual(
      packages(
        'sim/x.ts',
        "import type { Page } from 'playwright-core';\nexport type { UserConfig } from 'vite';",
      ),
      [],
    );
    assert.equal(packages('sim/x.ts', "import 'vite';").length, 1);
    assert.equal(packages('bin/other.js', "await import('tsx/esm/api');").length, 1);
    // The tsx loader where only the sources run; test code, tests and benchmarks load what they like.
    assert.deepEqual(packages('src/server/thread/boot.mjs', "import { register } from 'tsx/esm/api';"), []);
    assert.deepEqual(packages('bin/drivewarden.js', "await import('tsx/esm/api');"), []);
    assert.deepEqual(packages('src/server/x.test.ts', "import { chromium } from 'playwright-core';"), []);
    assert.deepEqual(packages('test/support/browser.ts', "import 'playwright-core';"), []);
    assert.deepEqual(packages('bench/lib/x.ts', "import 'vite';"), []);
  });

  it('checks the repository against its package.json: the web build and the browser are dev-only', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const name of [
      'vite',
      '@vitejs/plugin-react',
      'react',
      'react-dom',
      'react-router-dom',
      'playwright-core',
    ])
      assert.ok(pkg.devDependencies[name] && !pkg.dependencies[name], `${name} is a dev dependency`);
    const repo = mkdtempSync(join(tmpdir(), 'dw-runtime-deps-'));
    try {
      mkdirSync(join(repo, 'src', 'server'), { recursive: true });
      writeFileSync(join(repo, 'package.json'), JSON.stringify(pkg));
      writeFileSync(join(repo, 'src', 'server', 'web.ts'), "import { createServer } from 'vite';\n");
      const run = spawnSync(process.execPath, [SCRIPT, repo], { encoding: 'utf8' });
      assert.equal(run.status, 1, run.stderr);
      assert.match(run.stderr, /src\/server\/web\.ts loads vite at runtime: vite is a devDependency/);
    } finally {
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
