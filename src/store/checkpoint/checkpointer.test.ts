import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openSqlite } from '../connection.ts';
import { openStore, tuneSqlite } from '../store.ts';
import { type CheckpointerReport, startCheckpointer } from './checkpointer.ts';

/** 1 MB of rows in one transaction (64 rows of 16 KB: one WAL frame each, at least). */
function writeMegabyte(db: SQLite.Database): void {
  const insert = db.prepare('insert into t (payload) values (?)');
  db.transaction(() => {
    for (let i = 0; i < 64; i++) insert.run(Buffer.alloc(16_000, i));
  })();
}

function walBytes(file: string): number {
  return existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0;
}

/** Waits for the next report that satisfies `test`. */
function nextReport(reports: CheckpointerReport[], test: (r: CheckpointerReport) => boolean): Promise<void> {
  const seen = reports.length;
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 10_000;
    const poll = setInterval(() => {
      if (reports.slice(seen).some(test)) resolve();
      else if (Date.now() > deadline)
        reject(new Error(`no such report: ${JSON.stringify(reports.slice(-3))}`));
      else return;
      clearInterval(poll);
    }, 10);
  });
}

const caughtUp = (r: CheckpointerReport) => r.kind === 'checkpoint' && r.log > 0 && r.checkpointed === r.log;

describe('WAL checkpoints in a worker thread', () => {
  it('the writer never checkpoints; the thread copies every frame back and the WAL starts over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-ckpt-'));
    const file = join(dir, 'x.db');
    const db = openSqlite(file);
    tuneSqlite(db);
    db.exec('create table t (id integer primary key, payload blob)');
    // The thread checkpoints at the writer's threshold (64 MB in the store): 16 frames here.
    db.pragma('wal_autocheckpoint = 16');
    const reports: CheckpointerReport[] = [];
    const checkpointer = startCheckpointer(file, db, { pollMs: 20, onReport: (r) => reports.push(r) });
    try {
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
      db.prepare('insert into t (payload) values (?)').run(Buffer.alloc(100));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(reports.length, 0, 'a frame or two stay in the WAL until the threshold');
      writeMegabyte(db);
      await nextReport(reports, caughtUp);
      const afterFirst = walBytes(file);
      assert.ok(afterFirst >= 1_000_000, `the WAL holds the first megabyte (${afterFirst} bytes)`);
      // Every frame was copied back: the next transactions write the WAL from its start again.
      for (let i = 0; i < 3; i++) {
        writeMegabyte(db);
        await nextReport(reports, caughtUp);
      }
      assert.ok(walBytes(file) < 2 * afterFirst, `the WAL was reused (${walBytes(file)} bytes)`);
      assert.deepEqual(
        reports.filter((r) => r.kind === 'error'),
        [],
      );
    } finally {
      await checkpointer.close();
      db.close();
    }
    // The writer closed last: it checkpointed and removed the WAL.
    assert.equal(existsSync(`${file}-wal`), false);
    const reopened = openSqlite(file, { readonly: true });
    assert.deepEqual(reopened.prepare('select count(*) as n from t').get(), { n: 4 * 64 + 1 });
    reopened.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a reader holding an old snapshot keeps reading it while the writer goes on; its frames are copied once it ends', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-ckpt-'));
    const file = join(dir, 'x.db');
    const db = openSqlite(file);
    tuneSqlite(db);
    db.exec('create table t (id integer primary key, payload blob)');
    writeMegabyte(db);
    db.pragma('wal_autocheckpoint = 16');
    const reports: CheckpointerReport[] = [];
    const checkpointer = startCheckpointer(file, db, { pollMs: 20, onReport: (r) => reports.push(r) });
    const reader = openSqlite(file, { readonly: true });
    try {
      reader.exec('begin');
      const count = reader.prepare('select count(*) as n from t');
      assert.deepEqual(count.get(), { n: 64 });
      writeMegabyte(db);
      await nextReport(reports, (r) => r.kind === 'checkpoint' && r.checkpointed < r.log);
      writeMegabyte(db);
      assert.deepEqual(count.get(), { n: 64 }, 'the reader still sees its snapshot');
      reader.exec('commit');
      await nextReport(reports, caughtUp);
      assert.deepEqual(count.get(), { n: 3 * 64 });
    } finally {
      reader.close();
      await checkpointer.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a store opened with backgroundCheckpoints closes cleanly and reopens with its data', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-ckpt-'));
    try {
      const store = await openStore({ dataDir: dir, backgroundCheckpoints: true });
      await sql`create table probe (x text)`.execute(store.db);
      await sql`insert into probe values ('kept')`.execute(store.db);
      await store.close();
      assert.equal(existsSync(join(dir, 'drivewarden.db-wal')), false);
      const again = await openStore({ dataDir: dir });
      const { rows } = await sql<{ x: string }>`select x from probe`.execute(again.db);
      await again.close();
      assert.deepEqual(rows, [{ x: 'kept' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a process that never closes its store still exits, and leaves a database the next one reads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-ckpt-'));
    try {
      const fixture = fileURLToPath(new URL('./unclosed-store.fixture.ts', import.meta.url));
      const child = spawnSync(process.execPath, ['--import', 'tsx', fixture, dir], { timeout: 60_000 });
      assert.equal(child.status, 0, `the process exited by itself: ${child.stderr}`);
      const again = await openStore({ dataDir: dir });
      const { rows } = await sql<{ x: string }>`select x from probe`.execute(again.db);
      await again.close();
      assert.deepEqual(rows, [{ x: 'written before the exit' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
