/**
 * Opens a store file and runs a delta sync against the simulator, in its own process (so that
 * the read-only scenario of store-faults.ts can run it as a user who may not write the file).
 * Prints one JSON line: the error's name, store-fault kind and message, or that it finished.
 * Usage: node --import tsx store-open-child.fixture.ts '{"file": …, "sim": SimConnectionInfo}'
 */
import type { SimConnectionInfo } from '../../sim/contracts.ts';
import { syncIntegration } from '../../src/collect/sync.ts';
import { openStore } from '../../src/store/store.ts';
import { StoreFaultError } from '../../src/store/store-fault.ts';
import { simClient, simContext } from '../support/collector.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as { file: string; sim: SimConnectionInfo };
try {
  const store = await openStore({ file: args.file });
  const client = simClient(args.sim);
  try {
    await syncIntegration(simContext(store, args.sim, client, 'int-store-fault'), { mode: 'delta' });
  } finally {
    await client.close();
    await store.close();
  }
  process.stdout.write(`${JSON.stringify({ message: 'finished without an error' })}\n`);
} catch (e) {
  const err = e as Error;
  const kind = err instanceof StoreFaultError ? err.kind : undefined;
  process.stdout.write(`${JSON.stringify({ name: err.name, kind, message: err.message })}\n`);
}
