import { readFileSync } from 'node:fs';

// From src/version.ts or from the build's dist/src/version.js.
const PACKAGE_JSON = new URL(
  import.meta.url.endsWith('.ts') ? '../package.json' : '../../package.json',
  import.meta.url,
);
const pkg = JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as {
  version: string;
};

/** The product version, from package.json. */
export const VERSION: string = pkg.version;

/** Graph asks ISVs to decorate traffic: `NONISV|<Company>|<App>/<version>`. */
export const USER_AGENT = `NONISV|drivewarden|drivewarden/${VERSION}`;
