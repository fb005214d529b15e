/**
 * Runs one activity round in its own process (the kill -9 test starts it, kills it at random
 * moments and starts it again). Usage: node --import tsx activity-child.fixture.ts '<json>'
 * with {file, integrationId, clockOffsetMs, sim: SimConnectionInfo}.
 */
import type { SimConnectionInfo } from '../../../sim/contracts.ts';
import { simClient, simContext } from '../../../test/support/collector.ts';
import { openStore } from '../../store/store.ts';
import { collectActivity } from './collect.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as {
  file: string;
  integrationId: string;
  clockOffsetMs: number;
  sim: SimConnectionInfo;
};
const store = await openStore({ file: args.file });
const client = simClient(args.sim);
const ctx = simContext(store, args.sim, client, args.integrationId);
// One line per committed listing page: the parent kills us in between.
const result = await collectActivity(ctx, {
  now: () => Date.now() + args.clockOffsetMs,
  fetchConcurrency: 2,
  onPage: () => process.stdout.write('p\n'),
});
await client.close();
await store.close();
process.stdout.write(`${JSON.stringify({ done: true, ...result })}\n`);
