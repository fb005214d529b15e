/**
 * Child process for supervisor.test.ts: a supervised server thread that dies every time it
 * starts, with the default give-up (stderr message, exit code 1). Argument: a data dir.
 */

import { loadConfig } from '../../config/config.ts';
import { inboxFileFor } from '../../queue/webhook-inbox.ts';
import { openStore } from '../../store/store.ts';
import { createLogger } from '../../util/logger.ts';
import { SupervisedServerThread } from './supervisor.ts';

const dir = process.argv[2];
const store = await openStore({ dataDir: dir });
const file = store.file as string;
const thread = await SupervisedServerThread.start({
  config: loadConfig({ DW_DATA_DIR: dir }),
  database: { kind: 'sqlite', mainFile: file, inboxFile: inboxFileFor(file) },
  host: '127.0.0.1',
  port: 0,
  logLevel: 'silent',
  logger: createLogger('silent'),
  onPersisted: () => undefined,
  onRejections: () => undefined,
  restart: { initialDelayMs: 20 },
  onRestart: () => thread.crash('test: the thread dies again'),
});
process.stdout.write(`listening ${thread.url}\n`);
thread.crash('test: the thread dies');
// Kept alive by the supervisor's restart timers until it gives up and exits.
