import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Files the product reads or starts at runtime, found the same way from the TypeScript
 * sources (src/…, through tsx) and from the build (dist/src/…, `npm run build`): the build
 * mirrors the source tree one level down, and compiled modules end in `.js`.
 */

/** True when this process runs the compiled build in dist/, false when it runs the sources. */
export const COMPILED = !import.meta.url.endsWith('.ts');

/** The package root (package.json, rules/, web/dist), from src/util or dist/src/util. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), COMPILED ? '../../..' : '../..');

/** A module beside `base` by its source name (`./entry.ts`): the `.js` file in the build. */
export function moduleUrl(sourceName: string, base: string | URL): URL {
  return new URL(COMPILED ? sourceName.replace(/\.ts$/, '.js') : sourceName, base);
}

/**
 * What a new process (or thread) starts to run the module `sourceName` beside `base`, and
 * `boot` is its `.mjs` bootstrap that loads the TypeScript sources through tsx:
 * - in the build, the compiled module;
 * - from the sources, the compiled module in dist/ when DW_RUN_SOURCES=0 says the build is
 *   the current code (scripts/run-tests.mjs sets it only after bringing dist/ up to date,
 *   as for the CLI processes the tests start) and it is there;
 * - else `boot`.
 * tsx compiles every module a fresh process imports: the query process costs about 0.9 s of
 * CPU through tsx, 0.35 s from the build (docs/performance.md), and the tests start hundreds.
 * Read at each start, so a test can choose either path.
 */
export function startingModule(sourceName: string, base: string | URL, boot: URL): URL {
  if (COMPILED) return moduleUrl(sourceName, base);
  if (process.env.DW_RUN_SOURCES !== '0') return boot;
  const source = fileURLToPath(new URL(sourceName, base));
  const built = join(PACKAGE_ROOT, 'dist', relative(PACKAGE_ROOT, source)).replace(/\.ts$/, '.js');
  return existsSync(built) ? pathToFileURL(built) : boot;
}
