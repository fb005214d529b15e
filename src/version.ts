import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The product version, from package.json. */
export const VERSION: string = pkg.version;

/** Graph asks ISVs to decorate traffic: `NONISV|<Company>|<App>/<version>`. */
export const USER_AGENT = `NONISV|drivewarden|drivewarden/${VERSION}`;
