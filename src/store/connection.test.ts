import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, TEST_PG_URL, testDialects } from '../../test/support/store.ts';
import { openKysely, openSqlite, pgClient, untilWriteLock } from './connection.ts';
import { migrate } from './store.ts';

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('the connection factory', () => {
  it('registers the SQL helpers on every SQLite connection, read-only ones too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-conn-'));
    const file = join(dir, 'x.db');
    try {
      openSqlite(file).close();
      const readonly = openSqlite(file, { readonly: true, busyTimeoutMs: 100 });
      try {
        assert.deepEqual(readonly.prepare("select dw_email_domain('a@B.example') as d").get(), {
          d: 'b.example',
        });
        assert.equal(readonly.pragma('busy_timeout', { simple: true }), 100);
      } finally {
        readonly.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates a new store directory 0700 and the database with its WAL 0600 (other local users read nothing)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-conn-'));
    const file = join(dir, 'data', 'nested', 'drivewarden.db');
    try {
      const db = openSqlite(file);
      db.pragma('journal_mode = WAL');
      db.exec('create table t (x); insert into t values (1)');
      const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
      assert.deepEqual(
        [mode(join(dir, 'data')), mode(join(dir, 'data', 'nested')), mode(file), mode(`${file}-wal`)],
        ['700', '700', '600', '600'],
      );
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  if (testDialects().includes('postgres')) {
    it('introspects only its own PostgreSQL schema, so another schema dropped meanwhile cannot fail a migration', async () => {
      const a = await openTestStore('postgres');
      const b = await openTestStore('postgres');
      try {
        const tables = await b.store.db.introspection.getTables();
        assert.ok(
          tables.some((t) => t.name === 'drive_items'),
          'its own tables',
        );
        assert.deepEqual([...new Set(tables.map((t) => t.schema))], [b.store.schema], 'no other schema');
        assert.ok(tables.find((t) => t.name === 'item_grants')?.isView, 'views are named as views');
        // A schema dropped while the other store migrates again (a no-op run introspects).
        await Promise.all([a.cleanup(), migrate(b.store.db, b.store.schema)]);
      } finally {
        await b.cleanup();
      }
    });

    it('gives every PostgreSQL pool and client the same type parsers', async () => {
      const { db, close } = openKysely({ dialect: 'postgres', databaseUrl: TEST_PG_URL, maxConnections: 1 });
      const client = pgClient({ databaseUrl: TEST_PG_URL });
      await client.connect();
      try {
        const query = "select 9007199254740991::int8 as n, timestamptz '2026-01-02 03:04:05.5+00' as t";
        const { rows: viaPool } = await sql.raw<{ n: unknown; t: unknown }>(query).execute(db);
        const { rows: viaClient } = await client.query(query);
        for (const row of [viaPool[0], viaClient[0]]) {
          assert.equal(row.n, 9007199254740991);
          assert.equal(row.t, '2026-01-02T03:04:05.500Z');
          assert.match(String(row.t), ISO_MS);
        }
      } finally {
        await client.end();
        await close();
      }
    });
  }
});

describe('SQLite write transactions', () => {
  it('start as writers: another connection cannot commit between their read and their write (no SQLITE_BUSY_SNAPSHOT)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-conn-'));
    const file = join(dir, 'x.db');
    const { db } = openKysely({ dialect: 'sqlite', database: openSqlite(file) });
    const other = openSqlite(file, { busyTimeoutMs: 0 });
    try {
      await sql`pragma journal_mode = wal`.execute(db);
      await sql`create table t (n integer)`.execute(db);
      await sql`insert into t values (1)`.execute(db);
      let otherWrite: string | undefined;
      await db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ n: number }>`select max(n) as n from t`.execute(trx);
        // Another process writes now: with a deferred begin it would commit, and our write
        // below would fail with SQLITE_BUSY_SNAPSHOT; with begin immediate it is the one refused.
        try {
          other.prepare('insert into t values (100)').run();
          otherWrite = 'committed';
        } catch (err) {
          otherWrite = (err as { code?: string }).code;
        }
        await sql`insert into t values (${rows[0].n + 1})`.execute(trx);
      });
      assert.equal(otherWrite, 'SQLITE_BUSY');
      const { rows } = await sql<{ n: number }>`select n from t order by n`.execute(db);
      assert.deepEqual(
        rows.map((r) => r.n),
        [1, 2],
      );
    } finally {
      other.close();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('wait for the write lock when SQLite answers SQLITE_BUSY at once, without blocking the event loop (begin and statements outside a transaction)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-conn-'));
    const file = join(dir, 'x.db');
    // busy_timeout 0: SQLite answers BUSY at once, as it did to the collector's begin while the
    // checkpoint thread's RESTART held the write lock.
    const { db } = openKysely({ dialect: 'sqlite', database: openSqlite(file, { busyTimeoutMs: 0 }) });
    const other = openSqlite(file, { busyTimeoutMs: 0 });
    let ticker: NodeJS.Timeout | undefined;
    try {
      await sql`pragma journal_mode = wal`.execute(db);
      await sql`create table t (n integer)`.execute(db);
      other.exec('begin immediate');
      other.prepare('insert into t values (1)').run();
      let turns = 0;
      ticker = setInterval(() => turns++, 10);
      const released = new Promise<number>((resolve) =>
        setTimeout(() => {
          other.exec('commit');
          resolve(performance.now());
        }, 150),
      );
      await db.transaction().execute(async (trx) => {
        await sql`insert into t values (2)`.execute(trx);
      });
      const done = performance.now();
      clearInterval(ticker);
      assert.ok(done >= (await released), 'the transaction started only after the other writer committed');
      assert.ok(turns >= 5, `the event loop kept turning while waiting (${turns} ticks)`);
      const { rows } = await sql<{ n: number }>`select n from t order by n`.execute(db);
      assert.deepEqual(
        rows.map((r) => r.n),
        [1, 2],
      );
      // A statement outside a transaction waits the same way.
      other.exec('begin immediate');
      other.prepare('insert into t values (3)').run();
      setTimeout(() => other.exec('commit'), 100);
      await sql`insert into t values (4)`.execute(db);
      const after = await sql<{ n: number }>`select n from t order by n`.execute(db);
      assert.deepEqual(
        after.rows.map((r) => r.n),
        [1, 2, 3, 4],
      );
      // Held past the wait: the error is SQLite's own.
      other.exec('begin immediate');
      await assert.rejects(
        untilWriteLock(() => sql`begin immediate`.execute(db), 60),
        (err: { code?: string }) => err.code === 'SQLITE_BUSY',
      );
      other.exec('rollback');
    } finally {
      clearInterval(ticker);
      other.close();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
