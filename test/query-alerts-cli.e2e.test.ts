import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseChannelConfig } from '../src/alerts/channels/config.ts';
import { withAlerts } from '../src/app/alerts.ts';
import { type AppContext, assembleApp } from '../src/app/context.ts';
import { loadConfig } from '../src/config/config.ts';
import { SavedQueries } from '../src/query/saved-queries.ts';
import { openStore } from '../src/store/store.ts';
import { type HttpReceiver, startHttpReceiver } from './support/alert-receivers.ts';
import { runCli } from './support/cli.ts';
import { addGuest } from './support/guest-user.ts';
import { quietLogger } from './support/logger.ts';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;

/** The app on a data directory, as the CLI opens it (same store file and secret key). */
async function withDataDir<T>(dataDir: string, fn: (app: AppContext) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir });
  try {
    return await fn(assembleApp(loadConfig({}, { dataDir, logLevel: 'silent' }), quietLogger, store));
  } finally {
    await store.close();
  }
}

/**
 * Query alerts from the command line: `alerts policies add … --query <name>`, then `alerts run`
 * (each a process of its own, so every run is a restart) alerts once per change of the saved
 * query's result, at a real local HTTP receiver, and never again for the same result.
 */
describe('query alerts from the command line (sqlite)', () => {
  let dataDir: string;
  let receiver: HttpReceiver;
  const env = { DW_ALERTS_ALLOW_PRIVATE_TARGETS: 'true' };
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dw-query-alerts-cli-'));
    receiver = await startHttpReceiver({ dedupe: true });
  });
  after(async () => {
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('alerts policies add … --query <name>; `alerts run` alerts once per change, none on a rerun', async () => {
    // The saved query and the channel are set up in this process, on the same data directory.
    await withDataDir(dataDir, async (app) => {
      await new SavedQueries(app.store).save({
        name: 'all-users',
        description: 'users',
        sql: 'select id from users',
      });
      await withAlerts(app, (alerts) =>
        alerts.channels.add('hook', parseChannelConfig('webhook', { url: receiver.url, secret: SECRET })),
      );
    });
    const added = await runCli(dataDir, [
      'alerts',
      'policies',
      'add',
      'users-changed',
      '--query',
      'all-users',
      '--channel',
      'hook',
      '--every',
      '0',
    ]);
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /users-changed\tquery\t→ hook\tquery=all-users/);

    // The first run only records the query's result: in this process too.
    const baseline = await withDataDir(dataDir, (app) => withAlerts(app, (alerts) => alerts.router.route()));
    assert.equal(baseline.deliveries, 0);

    const store = await openStore({ dataDir });
    try {
      await addGuest(store, 'olga');
    } finally {
      await store.close();
    }
    const changed = await runCli(dataDir, ['alerts', 'run'], env);
    assert.equal(changed.status, 0, changed.stderr);
    assert.match(changed.stdout, /into 1 alerts \(1 deliveries/);
    assert.equal(receiver.requests.length, 1);
    assert.match(
      (receiver.requests[0].json as { data: { title: string } }).data.title,
      /query all-users: 1 row added, 0 removed/,
    );

    // A restart routing no duplicate is proven in query-alerts.e2e.test.ts (processes here are slow).
    const log = await withDataDir(dataDir, (app) => withAlerts(app, (alerts) => alerts.router.route()));
    assert.equal(log.deliveries, 0, 'the same result again: no alert');
    assert.equal(receiver.requests.length, 1);
  });
});
