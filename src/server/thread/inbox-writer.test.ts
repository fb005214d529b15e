import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { quietLogger } from '../../../test/support/logger.ts';
import { subscriptionRow } from '../../../test/support/realtime.ts';
import { openTestStore } from '../../../test/support/store.ts';
import { type InboxInsert, type InboxWriter, SqliteInboxStore } from '../../queue/webhook-inbox.ts';
import { SubscriptionCache } from '../../store/subscription-cache.ts';
import { WebhookReceiver } from '../webhooks/receiver.ts';
import { InboxWriterThread } from './inbox-writer-thread.ts';

const row = (n: number): InboxInsert => ({
  integration_id: 'int-1',
  subscription_id: 'sub-d1',
  resource: `/drives/d${n}/root`,
  change_type: 'updated',
  lifecycle_event: null,
  received_at: new Date().toISOString(),
});

describe('inbox writer thread', () => {
  it('commits what it is sent to the inbox file, and refuses inserts once closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-inbox-writer-'));
    const file = join(dir, 'drivewarden-inbox.db');
    const deaths: Error[] = [];
    const writer = await InboxWriterThread.start(file, { onDeath: (err) => deaths.push(err) });
    try {
      await Promise.all([writer.insert([row(1), row(2)]), writer.insert([row(3)])]);
      const reader = new SqliteInboxStore(file);
      assert.equal(await reader.count({ processed: false }), 3, 'committed before the inserts resolved');
      await reader.close();
      await writer.close();
      await assert.rejects(writer.insert([row(4)]), /closing/);
      assert.deepEqual(deaths, [], 'a close is no death');
    } finally {
      await writer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says which file it could not open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-inbox-writer-'));
    try {
      // A directory where the file should be: SQLite cannot open it.
      await assert.rejects(InboxWriterThread.start(dir, { onDeath: () => undefined }), (err: Error) =>
        err.message.startsWith(`inbox writer thread could not open ${dir}:`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('webhook receiver group commit', () => {
  it('one commit in flight: the requests accepted meanwhile are committed together next', async () => {
    const { db, cleanup } = await openTestStore('sqlite', { file: ':memory:' });
    try {
      const secret = 'secret-d1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';
      await db
        .insertInto('graph_subscriptions')
        .values(subscriptionRow({ client_state: secret }))
        .execute();
      const cache = new SubscriptionCache(db);
      await cache.load();
      const commits: number[] = [];
      let release: () => void = () => {};
      let inFlight = 0;
      let maxInFlight = 0;
      const slow: InboxWriter = {
        async insert(rows) {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          commits.push(rows.length);
          await new Promise<void>((resolve) => {
            release = resolve;
          });
          inFlight--;
        },
      };
      const receiver = new WebhookReceiver({
        db,
        inbox: slow,
        cache,
        logger: quietLogger,
        flushIntervalMs: 60_000,
      });
      const entry = {
        subscriptionId: 'sub-d1',
        clientState: secret,
        changeType: 'updated',
        tenantId: '11111111-2222-3333-4444-555555555555',
      };
      let acked = 0;
      const accept = () => receiver.accept([entry]).then(() => acked++);
      const first = accept();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(commits, [1], 'the first commit started');
      // Five requests while it runs: none starts a commit of its own.
      const more = [accept(), accept(), accept(), accept(), accept()];
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      assert.deepEqual(commits, [1]);
      assert.equal(acked, 0, 'nothing acknowledged before its commit');
      release();
      await first;
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      assert.deepEqual(commits, [1, 5], 'the five together in the next commit');
      assert.equal(acked, 1);
      release();
      await Promise.all(more);
      assert.equal(acked, 6);
      assert.equal(maxInFlight, 1, 'never two commits at once');
      await receiver.close();
    } finally {
      await cleanup();
    }
  });
});
