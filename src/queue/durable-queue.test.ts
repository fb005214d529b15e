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

/** A queue whose rows wait for a due time (retry backoff), like the alert outbox. */
interface Retry {
  payload: string;
  next_at: string | null;
  outcome: string | null;
}

const RETRIES: QueueDefinition<Retry> = {
  table: 'test_retries',
  columns: { payload: 'text not null', next_at: 'text', outcome: 'text' },
  read: ['payload', 'outcome'],
  due: 'next_at',
};

async function dueContract(queue: DurableQueue<Retry, 'payload' | 'outcome'>): Promise<void> {
  await queue.insert([
    { payload: 'a', next_at: null, outcome: null },
    { payload: 'b', next_at: '2026-01-01T00:00:10.000Z', outcome: null },
  ]);
  const now = '2026-01-01T00:00:00.000Z';
  const first = await queue.unprocessed(0, 10, now);
  assert.deepEqual(
    first.map((r) => [r.payload, r.attempts, r.last_error]),
    [['a', 0, null]],
    'a row due later is not handed out',
  );
  await queue.recordFailure([first[0].id], 'HTTP 429', {
    retryAt: '2026-01-01T00:00:05.000Z',
    set: { outcome: 'retrying' },
  });
  assert.deepEqual(await queue.unprocessed(0, 10, now), [], 'retried later, not now');
  const later = await queue.unprocessed(0, 10, '2026-01-01T00:00:05.000Z');
  assert.deepEqual(
    later.map((r) => [r.payload, r.attempts, r.last_error, r.outcome]),
    [['a', 1, 'HTTP 429', 'retrying']],
  );
  await queue.markProcessed([later[0].id], '2026-01-01T00:00:06.000Z', 'HTTP 429', { outcome: 'delivered' });
  assert.deepEqual(
    (await queue.unprocessed(0, 10, '2026-01-01T00:01:00.000Z')).map((r) => r.payload),
    ['b'],
  );
  assert.equal(await queue.count({ equals: { outcome: 'delivered' }, processed: true }), 1);
  await assert.rejects(
    queue.recordFailure([later[0].id], 'x', { set: { nope: 1 } as never }),
    /no column nope/,
  );
}

describe('durable queue', () => {
  it('in its own SQLite file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-queue-'));
    const queue = new SqliteFileQueue(OUTBOX, join(dir, 'outbox.db'));
    try {
      await contract(queue);
      await assert.rejects(queue.purge('nope' as never, 'x'), /no column nope/);
      const retries = new SqliteFileQueue(RETRIES, join(dir, 'retries.db'));
      await dueContract(retries);
      await retries.close();
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
        await sql`create table test_retries (${id}, payload text not null, next_at text, outcome text,
          processed_at text, attempts integer not null default 0, last_error text)`.execute(store.db);
        const retries = new TableQueue(RETRIES, store.db);
        await dueContract(retries);
        // The transactional outbox: rows inserted in a transaction that rolls back never existed.
        await assert.rejects(
          store.db.transaction().execute(async (trx) => {
            await retries.insertWith(trx, [{ payload: 'c', next_at: null, outcome: null }]);
            throw new Error('the cause failed');
          }),
          /the cause failed/,
        );
        assert.equal(await retries.count({ equals: { payload: 'c' } }), 0);
        await store.db
          .transaction()
          .execute((trx) => retries.insertWith(trx, [{ payload: 'c', next_at: null, outcome: null }]));
        assert.equal(await retries.count({ equals: { payload: 'c' } }), 1);
      } finally {
        await cleanup();
      }
    });
  }
});
