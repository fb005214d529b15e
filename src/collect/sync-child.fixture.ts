/**
 * Runs one syncIntegration in its own process (the kill -9 test starts it, kills it at
 * random moments and starts it again). Usage: node --import tsx sync-child.fixture.ts '<json>'
 * with {file | databaseUrl, integrationId, mode, pageSize?, sim: SimConnectionInfo}.
 */
import type { SimConnectionInfo } from '../../sim/contracts.ts';
import { simClient, simContext } from '../../test/support/collector.ts';
import { openStore } from '../store/store.ts';
import { syncIntegration } from './sync.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as {
  file?: string;
  /** A PostgreSQL database instead of a SQLite file. */
  databaseUrl?: string;
  integrationId: string;
  mode: 'full' | 'delta';
  pageSize?: number;
  sim: SimConnectionInfo;
};
const store = await openStore(
  args.databaseUrl ? { databaseUrl: args.databaseUrl, maxConnections: 4 } : { file: args.file ?? '' },
);
const client = simClient(args.sim);
const ctx = simContext(store, args.sim, client, args.integrationId, {
  concurrency: 3,
  deltaPageSize: args.pageSize,
});
let pages = 0;
// One line per progress event (after each committed page): the parent kills us in between.
ctx.onProgress = () => {
  pages++;
  process.stdout.write('p\n');
};
const result = await syncIntegration(ctx, { mode: args.mode });
await client.close();
await store.close();
process.stdout.write(
  `${JSON.stringify({ done: true, changes: result.changes, items: result.items, pages })}\n`,
);
