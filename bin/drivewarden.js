#!/usr/bin/env node
// Entry point of the `drivewarden` command. The product runs from its build in dist/
// (`npm run build`; npm install and npm ci run it through `prepare`). DW_RUN_SOURCES=1 runs
// the TypeScript sources through tsx's loader instead (development and the test suite).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const built = new URL('../dist/src/cli/main.js', import.meta.url);

if (process.env.DW_RUN_SOURCES === '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else if (existsSync(built)) {
  await import(built.href);
} else {
  const root = fileURLToPath(new URL('..', import.meta.url));
  process.stderr.write(
    `drivewarden is not built: run \`npm run build\` in ${root} (npm install and npm ci do it),\n` +
      'or set DW_RUN_SOURCES=1 to run the TypeScript sources through tsx (development).\n',
  );
  process.exit(1);
}
