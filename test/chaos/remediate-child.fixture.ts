/**
 * One removal plan executed against the simulator and the drives re-read, in its own process
 * (engine-kill-runs.ts kills it with -9 at a random moment and starts it again). Prints "start"
 * before the first removal, "done" at the end.
 * Usage: node --import tsx remediate-child.fixture.ts '{"file", "integrationId", "sim", "plan"}'
 */
import type { SimConnectionInfo } from '../../sim/contracts.ts';
import { removeAndReread } from '../../src/app/remediate.ts';
import type { RemovalPlan } from '../../src/remediate/plan.ts';
import { openStore } from '../../src/store/store.ts';
import { simClient, simContext } from '../support/collector.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as {
  file: string;
  integrationId: string;
  sim: SimConnectionInfo;
  plan: RemovalPlan;
};
const store = await openStore({ file: args.file });
const client = simClient(args.sim);
process.stdout.write('start\n');
await removeAndReread(simContext(store, args.sim, client, args.integrationId), args.plan, 'cli:chaos');
await client.close();
await store.close();
process.stdout.write('done\n');
