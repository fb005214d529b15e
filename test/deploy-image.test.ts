/**
 * deploy/Dockerfile: a build stage with every dependency (npm ci builds better-sqlite3, the
 * web app and dist/) whose dev dependencies are pruned, and a runtime stage on the same base
 * image carrying what the product reads from its package root when it runs the build.
 * (Building the image needs Docker and the registry; this reads the file.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BUILTIN_RULES_DIR } from '../src/rules/loader.ts';
import { BUILTIN_PACKS_DIR } from '../src/rules/packs.ts';
import { WEB_DIST } from '../src/server/service.ts';
import { PACKAGE_ROOT } from '../src/util/runtime-files.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const read = (path: string) => readFileSync(new URL(path, new URL('..', import.meta.url)), 'utf8');

interface Stage {
  from: string;
  lines: string[];
}

/** The Dockerfile's stages: FROM's image and the instructions under it (comments dropped, continuations joined). */
function stages(text: string): Stage[] {
  const out: Stage[] = [];
  for (const line of text.replace(/\\\n/g, ' ').split('\n')) {
    const l = line.trim();
    if (!l || l.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)/i.exec(l);
    if (from) out.push({ from: from[1], lines: [] });
    else out.at(-1)?.lines.push(l);
  }
  return out;
}

describe('deploy/Dockerfile', () => {
  const [build, runtime, ...more] = stages(read('deploy/Dockerfile'));

  it('builds with every dependency and prunes the dev ones', () => {
    assert.equal(more.length, 0, 'two stages');
    const run = build.lines.filter((l) => l.startsWith('RUN ')).join('\n');
    assert.match(
      run,
      /npm ci\b(?![^\n&]*--omit)/,
      'the build stage installs dev dependencies (prepare builds)',
    );
    assert.match(run, /npm prune --omit=dev/);
  });

  it('runs on the build stage’s base image, with no install of its own', () => {
    assert.equal(runtime.from, build.from, 'better-sqlite3 is compiled for the build stage’s image');
    assert.ok(!runtime.lines.some((l) => /^RUN .*npm (ci|install)/.test(l)), runtime.lines.join('\n'));
  });

  it('copies what the built product reads from its package root, and no sources', () => {
    const copied = runtime.lines
      .filter((l) => l.startsWith('COPY --from=build '))
      .flatMap((l) => l.split(/\s+/).slice(2, -1))
      .map((p) => p.replace(/^\/app\//, ''));
    const needed = [
      'package.json', // src/version.ts
      'node_modules',
      'bin/drivewarden.js',
      'dist/src/cli/main.js',
      ...[BUILTIN_RULES_DIR, BUILTIN_PACKS_DIR, WEB_DIST].map((p) => relative(PACKAGE_ROOT, p)),
    ];
    for (const path of needed)
      assert.ok(
        copied.some((c) => path === c || path.startsWith(`${c}/`)),
        `${path} is not copied into the runtime stage (${copied.join(', ')})`,
      );
    for (const source of ['src', 'sim', 'test', 'bench', '.'])
      assert.ok(!copied.includes(source), `the runtime stage copies ${source}`);
    assert.equal(relative(ROOT, PACKAGE_ROOT), '');
  });

  it('leaves a local build and node_modules out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim());
    for (const path of ['node_modules', 'dist', 'web/dist']) assert.ok(ignored.includes(path), path);
  });
});
