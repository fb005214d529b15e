import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { type DurableQueue, type QueueDefinition, SqliteFileQueue, TableQueue } from './durable-queue.ts';

/** A queue other than the webhook inbox (shaped like the alert outbox will be). */
interface Delivery {
  channel: string;
  payload: string;
  priority: number;
  created_at: string;
}

const OUTBOX: QueueDefinition<Delivery> = {
  table: 'test_outbox',
  columns: {
    channel: 'text not null',
    payload: 'text not null',
    priority: 'integer not null',
    created_at: 'text not null',
  },
  read: ['channel', 'payload'],
};

const delivery = (over: Partial<Delivery> = {}): Delivery => ({
  channel: 'slack',
  payload: '{"text":"hi"}',
  priority: 1,
  created_at: '2026-01-01T00:00:00.000Z',
  ...over,
});

async function contract(queue: DurableQueue<Delivery, 'channel' | 'payload'>): Promise<void> {
  await queue.insert([delivery(), delivery({ channel: 'teams', created_at: '2026-01-02T00:00:00.000Z' })]);
  await queue.insert([delivery({ priority: 2, created_at: '2026-01-03T00:00:00.000Z' })]);
  const rows = await queue.unprocessed(0, 10);
  assert.deepEqual(
    rows.map((r) => [r.channel, r.payload]),
    [
      ['slack', '{"text":"hi"}'],
      ['teams', '{"text":"hi"}'],
      ['slack', '{"text":"hi"}'],
    ],
  );
  assert.ok(rows[0].id < rows[1].id && rows[1].id < rows[2].id);
  await queue.recordFailure([rows[1].id], 'HTTP 500');
  assert.equal((await queue.unprocessed(0, 10)).length, 3, 'a failed row stays for a retry');
  await queue.markProcessed([rows[0].id], '2026-01-05T00:00:00.000Z');
  const pending = await queue.pending(['channel'], 'created_at');
  assert.deepEqual(
    pending.sort((a, b) => a.key.channel.localeCompare(b.key.channel)),
    [
      { key: { channel: 'slack' }, pending: 1, oldest: '2026-01-03T00:00:00.000Z' },
      { key: { channel: 'teams' }, pending: 1, oldest: '2026-01-02T00:00:00.000Z' },
    ],
  );
  assert.equal(await queue.count({ equals: { priority: 2 } }), 1);
  assert.equal(
    await queue.count({ atLeast: { created_at: '2026-01-02T00:00:00.000Z' }, processed: false }),
    2,
  );
  assert.equal(await queue.prune('2026-01-06T00:00:00.000Z'), 1);
  assert.equal(await queue.purge('channel', 'teams'), 1);
  assert.equal(await queue.count(), 1);
}

describe('durable queue', () => {
  it('in its own SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-queue-'));
    const queue = new SqliteFileQueue(OUTBOX, join(dir, 'outbox.db'));
    try {
      await contract(queue);
      await assert.rejects(queue.purge('nope' as never, 'x'), /no column nope/);
    } finally {
      await queue.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const dialect of testDialects()) {
    it(`as a table of the main database (${dialect})`, async () => {
      const { store, cleanup } = await openTestStore(dialect);
      try {
        const id =
          dialect === 'postgres' ? sql`id bigserial primary key` : sql`id integer primary key autoincrement`;
        await sql`create table test_outbox (${id}, channel text not null, payload text not null,
          priority integer not null, created_at text not null, processed_at text,
          attempts integer not null default 0, last_error text)`.execute(store.db);
        await contract(new TableQueue(OUTBOX, store.db));
      } finally {
        await cleanup();
      }
    });
  }
});
