// `npm run prepare`: builds the web app (web/dist) and the TypeScript (dist/). npm runs it after
// every install of this package, production ones (`npm ci --omit=dev`) too, where the build
// tools (vite, typescript: dev dependencies) are absent: there a tree that is already built
// keeps its build, and one that is not fails, saying why.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tools = ['vite', 'tsc'].filter((bin) => !existsSync(join(root, 'node_modules', '.bin', bin)));
if (tools.length > 0) {
  const built = ['web/dist/index.html', 'dist/src/cli/main.js'].every((p) => existsSync(join(root, p)));
  if (built) {
    console.log(
      `prepare: ${tools.join(', ')} not installed (no dev dependencies): keeping the build in dist/ and web/dist`,
    );
    process.exit(0);
  }
  console.error(
    `prepare: cannot build drivewarden: ${tools.join(', ')} not installed (dev dependencies). ` +
      'Install with them (`npm ci`), or install production dependencies only into a tree already built.',
  );
  process.exit(1);
}
for (const script of ['build:web', 'build']) {
  const run = spawnSync('npm', ['run', script], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
