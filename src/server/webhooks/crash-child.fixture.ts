/**
 * Child process of inbox-isolation.test.ts (not a test): opens the store in argv[2],
 * starts the real-time path with a runner that never finishes (so nothing gets marked
 * processed), prints `{"url": …}` on stdout and waits to be killed.
 */

import { quietLogger } from '../../../test/support/logger.ts';
import { fetchGraphClient } from '../../../test/support/realtime.ts';
import { loadConfig } from '../../config/config.ts';
import { openStore } from '../../store/store.ts';
import { startRealtime } from '../realtime.ts';

const dataDir = process.argv[2];
const tenantId = process.argv[3];
const store = await openStore({ dataDir });
const config = loadConfig({ DW_DATA_DIR: dataDir, DW_PUBLIC_URL: 'https://example.test' });
const never = () => new Promise<void>(() => undefined);
const rt = await startRealtime({
  store,
  config,
  logger: quietLogger,
  graphClientFor: () => fetchGraphClient('http://127.0.0.1:9'),
  runner: { runDriveDelta: never, runUsersDelta: never },
  integrations: async () => [{ id: 'int-1', tenantId, enabled: true, driveIds: ['d1'] }],
  listen: { host: '127.0.0.1', port: 0 },
  poll: false,
});
await rt.firstSync;
process.stdout.write(`${JSON.stringify({ url: rt.url, inbox: rt.inbox.location })}\n`);
setInterval(() => undefined, 60_000);
