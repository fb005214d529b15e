import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../src/store/store.ts';
import { type HttpReceiver, startHttpReceiver } from './support/alert-receivers.ts';
import { runCli } from './support/cli.ts';
import { addGuest } from './support/guest-user.ts';

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
    const saved = await runCli(dataDir, [
      'query',
      'save',
      'all-users',
      'select id from users',
      '--description',
      'users',
    ]);
    assert.equal(saved.status, 0, saved.stderr);
    const channel = await runCli(
      dataDir,
      ['channels', 'add', 'hook', '--type', 'webhook', '--url', receiver.url],
      env,
    );
    assert.equal(channel.status, 0, channel.stderr);
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

    const baseline = await runCli(dataDir, ['alerts', 'run'], env);
    assert.equal(baseline.status, 0, baseline.stderr);
    assert.match(baseline.stdout, /into 0 alerts/);

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

    const rerun = await runCli(dataDir, ['alerts', 'run'], env);
    assert.match(rerun.stdout, /into 0 alerts/);
    assert.equal(receiver.requests.length, 1, 'a new process routes no duplicate');
  });
});
