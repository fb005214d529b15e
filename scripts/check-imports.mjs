// The direction of imports (DESIGN.md): cli/server → app → rules/alerts/collect →
// access/store → graph/resources → config/util, never up, and the database side
// (store/, queue/, access/) never imports graph/. Only the connection factory loads the
// database drivers. Run by `npm run lint`; exits 1
// naming every offending file and import. Test code (*.test.ts, *.fixture.ts,
// test-support*, test-helpers*) may import across layers; test/ and scripts/ are not checked.
// What runs in production (src/ and sim/, built into dist/, and bin/) loads only packages
// in package.json's dependencies: the image prunes the dev dependencies (deploy/Dockerfile).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * src/ folders from the top of the stack to the bottom. A folder may import its own
 * files and any folder in a LATER row; never a folder in its own row or an earlier one.
 * A new folder must be placed here (the check fails until it is).
 */
export const LAYERS = [
  ['cli'],
  ['server'],
  ['app'],
  // generated reference docs read the definitions and the capabilities the probe checks
  ['docs'],
  ['rules', 'alerts', 'anomalies', 'remediate', 'collect', 'integrations', 'query', 'auth'],
  // jobs: the job queue, the shared RU budget (it implements graph's RuBudget over the store)
  ['access', 'queue', 'jobs'],
  ['store'],
  ['graph', 'resources'],
  ['config', 'util', 'version.ts'],
];

/** Imports the rows above would allow but that stay apart: the database side never talks to Graph. */
export const APART = { access: ['graph'], queue: ['graph'], store: ['graph'] };

/** The simulator is a separate program: product files that start or talk to it. */
export const MAY_IMPORT_SIM = [
  'src/cli/commands/sim.ts',
  'src/cli/demo/demo.ts',
  'src/collect/sync-child.ts',
];

/** Benchmarks measure through the simulator; these drive the product directly. */
export const BENCH_MAY_IMPORT_SRC = [
  'bench/lib/product.ts',
  'bench/lib/reach-timing.ts',
  'bench/lib/realtime.ts',
  // The product's service (startService) in the bench process, its alerts to a receiver there.
  'bench/lib/service.ts',
  'bench/scenarios/webhook-load.ts',
  // Ingest and detection in one process: the collector round and the detectors are timed directly.
  'bench/scenarios/activity.ts',
  'bench/scenarios/rules.ts',
  'bench/lib/rules-page.ts',
  // The REST API served in the bench process on the kept store, timed over HTTP.
  'bench/scenarios/api.ts',
  // The full sync's bound: the store's SQLite settings and the delta request the product makes.
  'bench/lib/bound.ts',
  // Runs the critical rules' SQL read-only on the store a sync is writing (throttled-sync).
  'bench/lib/critical-watch.ts',
  // Reads pg-boss's job rows of the tenant's queue (its name as the product makes it).
  'bench/lib/postgres-workers.ts',
];

/**
 * Database drivers are loaded (not only their types) only by the connection factory: each by
 * its own module, which src/store/connection.ts re-exports (apart so that the query process
 * loads one driver and no Kysely).
 */
export const CONNECTION_FACTORY = 'src/store/connection.ts';
export const DRIVER_MODULES = {
  pg: 'src/store/pg-driver.ts',
  'better-sqlite3': 'src/store/sqlite-driver.ts',
};
const DRIVERS = Object.keys(DRIVER_MODULES);
const DRIVER_VALUE_IMPORT = new RegExp(
  `^\\s*import\\s+(?!type\\s)[^'"]*?from\\s+['"](${DRIVERS.join('|')})['"]|import\\(\\s*['"](${DRIVERS.join('|')})['"]\\s*\\)`,
  'gm',
);

/** What runs in production: src/ and sim/ (the build), bin/ (the command). */
export const RUNTIME_ROOTS = ['src', 'sim', 'bin'];

/**
 * Dev dependencies runtime files may still load: the tsx loader, registered only when the
 * TypeScript sources run (DW_RUN_SOURCES, tests). The threads' boot.mjs files are started from
 * the sources only (the build starts each thread's compiled entry, and has no boot.mjs).
 */
export const SOURCES_ONLY_IMPORTS = {
  tsx: [
    'bin/drivewarden.js',
    'src/rules/worker/boot.mjs',
    'src/server/thread/boot.mjs',
    'src/store/checkpoint/boot.mjs',
    'src/store/sql-guard/runner/boot.mjs',
  ],
};

const CHECKED_ROOTS = ['src', 'sim', 'bench', 'bin'];
const SOURCE = /\.(ts|mts|mjs|js)$/;
const TEST_CODE = /(\.test\.ts|\.fixture\.ts)$|(^|\/)test-(support|helpers)[^/]*(\/|$)/;

const rank = new Map(LAYERS.flatMap((row, i) => row.map((folder) => [folder, i])));

/** `src/<folder>` → folder ('version.ts' for src/version.ts), undefined outside src/. */
function srcFolder(path) {
  const parts = path.split('/');
  return parts[0] === 'src' && parts.length >= 2 ? parts[1] : undefined;
}

/** The relative import specifiers of a source file (static, dynamic, re-exports). */
export function importsOf(source) {
  return ts
    .preProcessFile(source, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((name) => name.startsWith('.'));
}

/**
 * Problems of one file's imports. `file` and the result's paths are relative to the
 * repository root, with '/' separators.
 */
export function checkFile(file, source) {
  if (TEST_CODE.test(file)) return [];
  const problems = [];
  const from = srcFolder(file);
  const root = file.split('/')[0];
  if (root === 'src') {
    for (const m of source.matchAll(DRIVER_VALUE_IMPORT)) {
      const driver = m[1] ?? m[2];
      if (file === DRIVER_MODULES[driver]) continue;
      problems.push({
        file,
        specifier: driver,
        message: `${file} imports ${driver}: connections are opened by ${CONNECTION_FACTORY} only (${DRIVER_MODULES[driver]} loads it; import type is fine)`,
      });
    }
  }
  for (const specifier of importsOf(source)) {
    const target = normalize(join(dirname(file), specifier))
      .split(sep)
      .join('/');
    const to = srcFolder(target);
    const targetRoot = target.split('/')[0];
    const fail = (why) => problems.push({ file, specifier, message: `${file} imports ${specifier}: ${why}` });
    if (root === 'src' && from !== undefined) {
      if (!rank.has(from)) {
        fail(`src/${from}/ is not in the layer table (scripts/check-imports.mjs LAYERS): place it there`);
        continue;
      }
      if (targetRoot === 'sim' && !MAY_IMPORT_SIM.includes(file))
        fail('product code imports the simulator only where it starts or talks to it (MAY_IMPORT_SIM)');
      if (to === undefined || to === from) continue;
      if (!rank.has(to)) fail(`src/${to}/ is not in the layer table (scripts/check-imports.mjs LAYERS)`);
      else if (rank.get(to) <= rank.get(from))
        fail(
          `${from}/ may not import ${to}/: imports point down the layers (LAYERS in scripts/check-imports.mjs)`,
        );
      else if (APART[from]?.includes(to))
        fail(`${from}/ may not import ${to}/ (they stay apart: collect/ and above join them)`);
    } else if (root === 'sim' && targetRoot === 'src') {
      fail('the simulator is a separate program and imports no product code');
    } else if (root === 'bench' && targetRoot === 'src' && !BENCH_MAY_IMPORT_SRC.includes(file)) {
      fail('benchmarks import product code only in BENCH_MAY_IMPORT_SRC (scripts/check-imports.mjs)');
    }
  }
  return problems;
}

const BUILTINS = new Set(builtinModules);

/** The package a bare specifier names ('@scope/name/sub' → '@scope/name'); undefined for files and Node's own modules. */
export function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:'))
    return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return BUILTINS.has(name) ? undefined : name;
}

/**
 * The package specifiers a file loads when it runs: static imports and re-exports except
 * `import type` / `export type` (erased; under verbatimModuleSyntax `import { type A }` is not),
 * and dynamic import() of a string.
 */
export function runtimePackageImports(file, source) {
  const kind = /\.(mjs|js)$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, false, kind);
  const found = [];
  const visit = (node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      if (!node.importClause?.isTypeOnly) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      if (!node.isTypeOnly) found.push(node.moduleSpecifier.text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found.filter((specifier) => packageOf(specifier) !== undefined);
}

/**
 * Problems of a runtime file's package imports: each must be a production dependency
 * (`pkg.dependencies`), or a dev one this file may load from the sources only (SOURCES_ONLY_IMPORTS).
 */
export function checkRuntimePackages(file, source, pkg) {
  if (TEST_CODE.test(file) || !RUNTIME_ROOTS.includes(file.split('/')[0])) return [];
  const problems = [];
  for (const specifier of runtimePackageImports(file, source)) {
    const name = packageOf(specifier);
    if (pkg.dependencies?.[name] || pkg.optionalDependencies?.[name]) continue;
    if (SOURCES_ONLY_IMPORTS[name]?.includes(file)) continue;
    const why = pkg.devDependencies?.[name]
      ? `${name} is a devDependency, pruned from the runtime install (deploy/Dockerfile): move it to dependencies, or import type only`
      : `${name} is not in package.json's dependencies`;
    problems.push({ file, specifier, message: `${file} loads ${specifier} at runtime: ${why}` });
  }
  return problems;
}

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (SOURCE.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every problem under `repoRoot`'s src/, sim/, bench/ and bin/ (packages: against its package.json). */
export function checkRepository(repoRoot) {
  const problems = [];
  const pkgFile = join(repoRoot, 'package.json');
  const pkg = existsSync(pkgFile) ? JSON.parse(readFileSync(pkgFile, 'utf8')) : undefined;
  for (const top of CHECKED_ROOTS) {
    let files;
    try {
      files = walk(join(repoRoot, top), []);
    } catch {
      continue;
    }
    for (const path of files) {
      const file = relative(repoRoot, path).split(sep).join('/');
      const source = readFileSync(path, 'utf8');
      problems.push(...checkFile(file, source));
      if (pkg) problems.push(...checkRuntimePackages(file, source, pkg));
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const repoRoot = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkRepository(repoRoot);
  for (const p of problems) console.error(p.message);
  if (problems.length > 0) {
    console.error(
      `${problems.length} import${problems.length === 1 ? '' : 's'} against the layer direction or the runtime dependencies`,
    );
    process.exit(1);
  }
}
