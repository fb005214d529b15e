/**
 * One rule evaluation in its own process (engine-kill-runs.ts kills it with -9 at a random
 * moment and starts it again). Prints "start" once the store is open, "done" at the end.
 * Usage: node --import tsx evaluate-child.fixture.ts '{"file", "integrationId", "mode", "now"}'
 */
import { evaluateIntegration } from '../../src/rules/evaluate.ts';
import { loadBuiltinRules } from '../../src/rules/loader.ts';
import { openStore } from '../../src/store/store.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as {
  file: string;
  integrationId: string;
  mode: 'full' | 'incremental';
  now: string;
};
const store = await openStore({ file: args.file });
process.stdout.write('start\n');
await evaluateIntegration(store, {
  integrationId: args.integrationId,
  mode: args.mode,
  rules: loadBuiltinRules(),
  now: args.now,
});
await store.close();
process.stdout.write('done\n');
