import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The project's docs stand on their own: every file they link or name is in the repository. */

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function markdownFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) markdownFiles(path, out);
    else if (name.endsWith('.md')) out.push(path);
  }
  return out;
}

const inside = (path: string) => path === ROOT || path.startsWith(ROOT + sep);

/** Documents that used to live beside the repository; the project's own docs replace them. */
const OUTSIDE_DOCS = /GRAPH-FACTS|DESIGN\.md|(?<!docs\/)RULES\.md|shared docs/i;
/** Absolute paths of a particular machine. */
const MACHINE_PATHS = /(^|[\s(`'"])(\/work\/|\/home\/|\/Users\/|[A-Z]:\\)/;

describe('documentation', () => {
  const files = markdownFiles(ROOT);

  it('finds the docs', () => {
    for (const f of ['README.md', 'sim/README.md', 'docs/architecture.md', 'docs/graph-behaviour.md'])
      assert.ok(files.includes(join(ROOT, f)), f);
  });

  for (const file of files) {
    const name = relative(ROOT, file);
    it(`${name} links and names only files in the repository`, () => {
      const text = readFileSync(file, 'utf8');
      const problems: string[] = [];
      text.split('\n').forEach((line, i) => {
        const at = `${name}:${i + 1}`;
        for (const m of line.matchAll(/\]\(([^)\s]+)\)/g)) {
          const target = m[1].split('#')[0];
          if (target === '' || /^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // anchors, URLs
          if (target.startsWith('/')) {
            problems.push(`${at}: absolute link ${m[1]}`);
            continue;
          }
          const path = resolve(dirname(file), decodeURIComponent(target));
          if (!inside(path)) problems.push(`${at}: link outside the repository ${m[1]}`);
          else if (!existsSync(path)) problems.push(`${at}: link to a missing file ${m[1]}`);
        }
        for (const m of line.matchAll(/(?:^|[\s(`'"])((?:\.\.\/)+[^\s)`'"]*)/g)) {
          if (!inside(resolve(dirname(file), m[1])))
            problems.push(`${at}: path outside the repository ${m[1]}`);
        }
        if (OUTSIDE_DOCS.test(line)) problems.push(`${at}: names a document outside the repository`);
        if (MACHINE_PATHS.test(line)) problems.push(`${at}: names a path on one machine`);
      });
      assert.deepEqual(problems, []);
    });
  }
});
