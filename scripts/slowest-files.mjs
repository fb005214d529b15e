// A node:test reporter for scripts/run-tests.mjs: after the run, the 10 test files whose
// top-level tests took longest (their durations summed, so a file's import time is not in it),
// so the suite's slow spots show in every CI log.
import { relative } from 'node:path';

const SHOWN = 10;

export default async function* slowestFiles(source) {
  const byFile = new Map();
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { nesting, file, details } = event.data;
    if (nesting !== 0 || !file) continue;
    byFile.set(file, (byFile.get(file) ?? 0) + (details?.duration_ms ?? 0));
  }
  const slowest = [...byFile].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
  if (slowest.length === 0) return;
  yield `\nslowest test files (test time, s):\n`;
  for (const [file, ms] of slowest)
    yield `${(ms / 1000).toFixed(1).padStart(8)}  ${relative(process.cwd(), file)}\n`;
}
