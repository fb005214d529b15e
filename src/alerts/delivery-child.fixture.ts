/**
 * The alert service in its own process for the kill -9 test (delivery-crash.test.ts), not a
 * test: opens the SQLite store in argv[2] (DW_SECRET_KEY unseals the channels), routes the
 * pending events once, then runs the delivery worker until it is killed. Prints `ready`.
 */
import { openStore } from '../store/store.ts';
import { SecretBox } from '../util/secret-box.ts';
import { alertsHarness } from './test-support.ts';

const store = await openStore({ dataDir: process.argv[2] });
const box = SecretBox.fromKey(process.env.DW_SECRET_KEY ?? '');
const alerts = alertsHarness(store, { box, allow: true, worker: { timeoutMs: 5_000 } });
await alerts.router.route();
alerts.worker.start();
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
