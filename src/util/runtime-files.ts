import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
