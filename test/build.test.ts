/**
 * The compiled build (`npm run build` → dist/): bin/drivewarden.js runs it when it exists,
 * says what to run when it does not, and runs the sources with DW_RUN_SOURCES=1; and no
 * product module finds a file relative to its own URL in a way the build would break.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'dw-build-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A package folder holding only bin/drivewarden.js (and package.json: ES modules). */
function fakePackage(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync(join(ROOT, 'bin/drivewarden.js'), join(dir, 'bin/drivewarden.js'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
  return dir;
}

function runBin(dir: string, env: Record<string, string | undefined> = {}) {
  const base = { ...process.env };
  delete base.DW_RUN_SOURCES;
  return spawnSync(process.execPath, [join(dir, 'bin/drivewarden.js'), '--version'], {
    env: { ...base, ...env },
    encoding: 'utf8',
  });
}

describe('bin/drivewarden.js', () => {
  it('without a build, exits 1 saying to run npm run build (or DW_RUN_SOURCES=1)', () => {
    const r = runBin(fakePackage('unbuilt'));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /drivewarden is not built: run `npm run build` in /);
    assert.match(r.stderr, /DW_RUN_SOURCES=1/);
  });

  it('runs dist/src/cli/main.js when it exists', () => {
    const dir = fakePackage('built');
    mkdirSync(join(dir, 'dist/src/cli'), { recursive: true });
    writeFileSync(
      join(dir, 'dist/src/cli/main.js'),
      "console.log('from dist', process.argv.slice(2).join(' '));\n",
    );
    const r = runBin(dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'from dist --version');
  });

  it('runs the sources through tsx with DW_RUN_SOURCES=1', () => {
    const r = runBin(ROOT, { DW_RUN_SOURCES: '1' });
    assert.equal(r.status, 0, r.stderr);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(r.stdout.trim(), pkg.version);
  });
});

describe('the build', () => {
  it('compiles src/ and sim/ with .ts imports rewritten, and npm prepare runs it', () => {
    const config = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8'));
    assert.equal(config.compilerOptions.rewriteRelativeImportExtensions, true);
    assert.equal(config.compilerOptions.outDir, 'dist');
    assert.deepEqual(config.include, ['src', 'sim']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.scripts.prepare, 'node scripts/prepare.mjs');
    assert.match(readFileSync(join(ROOT, 'scripts', 'prepare.mjs'), 'utf8'), /\['build:web', 'build'\]/);
  });

  it('prepare, on a production install (no vite, no tsc), keeps a built tree and refuses an unbuilt one', () => {
    const tree = mkdtempSync(join(tmpdir(), 'dw-prepare-'));
    try {
      mkdirSync(join(tree, 'scripts'));
      copyFileSync(join(ROOT, 'scripts', 'prepare.mjs'), join(tree, 'scripts', 'prepare.mjs'));
      const prepare = () =>
        spawnSync(process.execPath, [join(tree, 'scripts', 'prepare.mjs')], { encoding: 'utf8' });
      const unbuilt = prepare();
      assert.equal(unbuilt.status, 1);
      assert.match(unbuilt.stderr, /cannot build drivewarden: vite, tsc not installed \(dev dependencies\)/);
      for (const file of ['web/dist/index.html', 'dist/src/cli/main.js']) {
        mkdirSync(dirname(join(tree, file)), { recursive: true });
        writeFileSync(join(tree, file), '');
      }
      const built = prepare();
      assert.equal(built.status, 0, built.stderr);
      assert.match(built.stdout, /keeping the build in dist\/ and web\/dist/);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it('finds runtime files through src/util/runtime-files.ts, never by a path relative to a module URL', () => {
    // dist/src/x mirrors src/x one level deeper, and modules end in .js there: a
    // `new URL('../../rules/…', import.meta.url)` or `new URL('./entry.ts', …)` breaks in the build.
    const allowed = [
      /new URL\('\.\/[\w/-]+\.mjs', import\.meta\.url\)/, // tsx bootstraps, used from the sources only
      /moduleUrl\('\.\/[\w/.-]+\.ts', import\.meta\.url\)/,
      /startingModule\('\.\/[\w/.-]+\.ts', import\.meta\.url, [A-Z_]+\)/,
      /createRequire\(import\.meta\.url\)/,
    ];
    const offending: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, name.name);
        if (name.isDirectory()) walk(path);
        else if (/\.ts$/.test(name.name) && !/\.(test|fixture)\.ts$/.test(name.name)) {
          const rel = relative(ROOT, path);
          // runtime-files.ts is the one place; version.ts (below util in the layers) does the same itself.
          if (rel === join('src', 'util', 'runtime-files.ts') || rel === join('src', 'version.ts')) continue;
          for (const line of readFileSync(path, 'utf8').split('\n')) {
            if (!line.includes('import.meta.url')) continue;
            if (!allowed.some((re) => re.test(line))) offending.push(`${rel}: ${line.trim()}`);
          }
        }
      }
    };
    walk(join(ROOT, 'src'));
    walk(join(ROOT, 'sim'));
    assert.deepEqual(offending, []);
  });
});
