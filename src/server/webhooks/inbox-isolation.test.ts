import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import { quietLogger } from '../../../test/support/logger.ts';
import { fetchGraphClient, RecordingRunner, subscriptionRow } from '../../../test/support/realtime.ts';
import { openTestStore, TEST_PG_URL, testDialects } from '../../../test/support/store.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { loadConfig } from '../../config/config.ts';
import {
  type InboxInsert,
  type InboxStore,
  inboxFileFor,
  KyselyInboxStore,
  SqliteInboxStore,
} from '../../queue/webhook-inbox.ts';
import type { Database } from '../../store/schema.ts';
import { dropPgSchema, openStore, type Store } from '../../store/store.ts';
import { startRealtime } from '../realtime.ts';

const TENANT = '11111111-2222-3333-4444-555555555555';
const SECRET = 'secret-d1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';

async function insertSubscription(db: Kysely<Database>): Promise<void> {
  await db
    .insertInto('graph_subscriptions')
    .values(
      subscriptionRow({
        tenant_id: TENANT,
        client_state: SECRET,
        expiration: new Date(Date.now() + 20 * 86_400_000).toISOString(),
      }),
    )
    .execute();
}

const notification = JSON.stringify({
  value: [
    {
      subscriptionId: 'sub-d1',
      clientState: SECRET,
      changeType: 'updated',
      resource: 'drives/d1/root',
      tenantId: TENANT,
      resourceData: null,
    },
  ],
});

const post = (url: string) =>
  fetch(`${url}/webhooks/graph`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: notification,
  });

for (const dialect of testDialects()) {
  describe(`webhook acks are independent of the main store (${dialect})`, () => {
    it('acknowledges (and persists) while a long transaction holds the main connection', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dw-inbox-held-'));
      const schema = `dw_test_${randomBytes(6).toString('hex')}`;
      // PostgreSQL: a pool of ONE connection, so holding it starves every other query of the store.
      const store: Store =
        dialect === 'postgres'
          ? await openStore({ databaseUrl: TEST_PG_URL, schema, maxConnections: 1 })
          : await openStore({ dataDir: dir });
      const runner = new RecordingRunner();
      const config = loadConfig({ DW_DATA_DIR: dir, DW_PUBLIC_URL: 'https://example.test' });
      await insertSubscription(store.db);
      const rt = await startRealtime({
        store,
        config,
        logger: quietLogger,
        graphClientFor: () => fetchGraphClient('http://127.0.0.1:9'),
        runner,
        integrations: async () => [{ id: 'int-1', tenantId: TENANT, enabled: true, driveIds: ['d1'] }],
        listen: { host: '127.0.0.1', port: 0 },
        poll: false,
        inbox: dialect === 'postgres' ? { kind: 'postgres', databaseUrl: TEST_PG_URL, schema } : undefined,
      });
      try {
        await rt.firstSync;
        assert.equal(rt.inbox.kind, dialect === 'postgres' ? 'database' : 'sqlite-file');

        // A collector-like transaction holds the store's (only) connection until released.
        let release!: () => void;
        const released = new Promise<void>((r) => {
          release = r;
        });
        let entered!: () => void;
        const inside = new Promise<void>((r) => {
          entered = r;
        });
        const held = store.db.transaction().execute(async (trx) => {
          await sql`select 1`.execute(trx);
          entered();
          await released;
        });
        await inside;
        let probeDone = false;
        const probe = sql`select 1`.execute(store.db).then(() => {
          probeDone = true;
        });

        const statuses = await Promise.all([post(rt.url!), post(rt.url!), post(rt.url!)]);
        assert.deepEqual(
          statuses.map((r) => r.status),
          [202, 202, 202],
        );
        assert.equal(probeDone, false, 'the main connection was still held when the acks arrived');

        // Durable: visible to a separate connection while the main one is still held.
        if (dialect === 'sqlite') {
          const other = new SqliteInboxStore(inboxFileFor(store.file!));
          try {
            assert.equal(await other.count({ processed: false }), 3);
          } finally {
            await other.close();
          }
        } else {
          const client = new pg.Client({ connectionString: TEST_PG_URL });
          await client.connect();
          try {
            const { rows } = await client.query(
              `select count(*)::int as n from "${schema}".webhook_inbox where processed_at is null`,
            );
            assert.equal(rows[0].n, 3);
          } finally {
            await client.end();
          }
        }
        assert.equal(probeDone, false);

        // Once released, the worker turns them into a delta run and marks them processed.
        release();
        await held;
        await probe;
        await runner.waitForRuns(1);
        await waitFor('the rows processed', async () => (await rt.inbox.count({ processed: false })) === 0);
        assert.equal(await rt.inbox.count({ processed: true }), 3);
      } finally {
        await rt.close();
        await store.close();
        if (dialect === 'postgres') await dropPgSchema(TEST_PG_URL, schema);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

describe('webhook inbox durability', () => {
  it('keeps every acknowledged notification when the process is killed -9, and processes them on restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-inbox-crash-'));
    try {
      const first = await openStore({ dataDir: dir });
      await insertSubscription(first.db);
      await first.close();

      const childPath = fileURLToPath(new URL('./crash-child.fixture.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', childPath, dir, TENANT], {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, DW_LOG_LEVEL: 'silent' },
      });
      const exited = new Promise<NodeJS.Signals | null>((resolve) =>
        child.once('exit', (_code, signal) => resolve(signal)),
      );
      try {
        const line = await new Promise<string>((resolve, reject) => {
          const rl = createInterface({ input: child.stdout });
          rl.once('line', resolve);
          child.once('exit', (code) => reject(new Error(`child exited early (${code})`)));
        });
        const { url } = JSON.parse(line) as { url: string };
        const total = 60;
        // concurrent requests (group-committed together) and sequential ones
        const burst = await Promise.all(Array.from({ length: total / 2 }, () => post(url)));
        const sequential: Response[] = [];
        for (let i = 0; i < total / 2; i++) sequential.push(await post(url));
        assert.ok([...burst, ...sequential].every((r) => r.status === 202));
      } finally {
        child.kill('SIGKILL');
      }
      assert.equal(await exited, 'SIGKILL');

      // Every acknowledged row is in the inbox file, unprocessed (the child's runs never finished).
      const store = await openStore({ dataDir: dir });
      const inboxFile = inboxFileFor(store.file!);
      const peek = new SqliteInboxStore(inboxFile);
      assert.equal(await peek.count(), 60);
      assert.equal(await peek.count({ processed: false }), 60);
      await peek.close();

      // Restart: the worker picks them up, coalesced into delta runs for the drive.
      const runner = new RecordingRunner();
      const rt = await startRealtime({
        store,
        config: loadConfig({ DW_DATA_DIR: dir, DW_PUBLIC_URL: 'https://example.test' }),
        logger: quietLogger,
        graphClientFor: () => fetchGraphClient('http://127.0.0.1:9'),
        runner,
        integrations: async () => [{ id: 'int-1', tenantId: TENANT, enabled: true, driveIds: ['d1'] }],
        listen: false,
        poll: false,
      });
      try {
        assert.equal(rt.inbox.location, inboxFile);
        await runner.waitForRuns(1);
        await waitFor('the rows processed', async () => (await rt.inbox.count({ processed: false })) === 0);
        assert.equal(await rt.inbox.count({ processed: true }), 60);
        assert.ok(runner.runs.every((r) => r.driveId === 'd1'));
      } finally {
        await rt.close();
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const row = (over: Partial<InboxInsert> = {}): InboxInsert => ({
  integration_id: 'int-1',
  subscription_id: 'sub-1',
  resource: '/drives/d1/root',
  change_type: 'updated',
  lifecycle_event: null,
  received_at: new Date().toISOString(),
  ...over,
});

/** The same behaviour from both implementations. */
async function inboxContract(inbox: InboxStore): Promise<void> {
  await inbox.insert([row(), row(), row({ resource: 'users' }), row({ integration_id: 'int-2' })]);
  await inbox.insert([row({ lifecycle_event: 'missed', change_type: null })]);
  const all = await inbox.unprocessed(0, 100);
  assert.equal(all.length, 5);
  assert.ok(
    all.every((r, i) => i === 0 || r.id > all[i - 1].id),
    'ordered by id',
  );
  assert.deepEqual(
    (await inbox.unprocessed(all[1].id, 2)).map((r) => r.id),
    [all[2].id, all[3].id],
  );
  await inbox.recordFailure([all[0].id], 'boom');
  await inbox.markProcessed([all[0].id, all[1].id], new Date(Date.now() - 3 * 86_400_000).toISOString());
  assert.equal(await inbox.count({ processed: false }), 3);
  assert.equal(await inbox.count({ processed: true }), 2);
  assert.equal(await inbox.count({ lifecycle: true }), 1);
  assert.equal(await inbox.count({ integrationId: 'int-2' }), 1);
  const pending = (await inbox.pendingByResource('int-1')).sort((a, b) =>
    a.resource.localeCompare(b.resource),
  );
  assert.deepEqual(
    pending.map((p) => [p.resource, p.pending]),
    [
      ['/drives/d1/root', 1],
      ['users', 1],
    ],
  );
  assert.ok(pending[0].oldest);
  assert.equal(await inbox.prune(new Date(Date.now() - 86_400_000).toISOString()), 2);
  assert.equal(await inbox.count(), 3);
}

describe('InboxStore implementations', () => {
  it('SqliteInboxStore (own file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-inbox-contract-'));
    const inbox = new SqliteInboxStore(join(dir, 'x-inbox.db'));
    try {
      await inboxContract(inbox);
    } finally {
      await inbox.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  for (const dialect of testDialects()) {
    it(`KyselyInboxStore (main database, ${dialect})`, async () => {
      const { db, cleanup } = await openTestStore(dialect, { maxConnections: 2 });
      const inbox = new KyselyInboxStore(db);
      try {
        await inboxContract(inbox);
      } finally {
        await inbox.close();
        await cleanup();
      }
    });
  }
});
