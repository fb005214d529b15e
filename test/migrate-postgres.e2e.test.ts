import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { SimAdminClient } from '../sim/admin-client.ts';
import type { SimHandle } from '../sim/contracts.ts';
import { startSimulator } from '../sim/index.ts';
import { openStore, type Store } from '../src/store/store.ts';
import { runCli } from './support/cli.ts';
import { TEST_PG_URL } from './support/store.ts';
import { describeDiff, diffWithTruth } from './support/truth.ts';

/**
 * `drivewarden migrate`: an embedded installation (a collected simulator tenant, findings,
 * users, a channel, a saved query) copied into a PostgreSQL database of its own, compared
 * table by table and row by row, refused a second time, and then used: a delta round on
 * PostgreSQL continues from the copied checkpoints.
 */

const database = `dw_migrate_${randomBytes(4).toString('hex')}`;
const targetUrl = (() => {
  const u = new URL(TEST_PG_URL);
  u.pathname = `/${database}`;
  return u.toString();
})();

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A comparable form of a value read through Kysely from either store (booleans, JSON, timestamps differ in form). */
function comparable(value: unknown, pgType: string): unknown {
  if (value === null || value === undefined) return null;
  if (pgType === 'boolean') return value === true || value === 1;
  if (pgType === 'jsonb')
    return JSON.stringify(sortKeys(typeof value === 'string' ? JSON.parse(value) : value));
  if (pgType.startsWith('timestamp')) return new Date(String(value)).getTime();
  if (pgType === 'bigint' || pgType === 'integer' || pgType === 'double precision') return Number(value);
  return value;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

describe('drivewarden migrate: SQLite to PostgreSQL', () => {
  let sim: SimHandle;
  let dataDir: string;
  let hostDir: string;
  let simInfo: string;

  before(async () => {
    sim = await startSimulator({ seed: 21, users: 5, items: 200 });
    dataDir = mkdtempSync(join(tmpdir(), 'dw-migrate-'));
    hostDir = mkdtempSync(join(tmpdir(), 'dw-migrate-host-'));
    simInfo = join(hostDir, 'sim.json');
    const { close: _close, ...info } = sim;
    writeFileSync(simInfo, JSON.stringify(info));
    await admin((c) => c.query(`create database ${database}`));
  });
  after(async () => {
    await sim.close();
    await admin((c) => c.query(`drop database if exists ${database} with (force)`));
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(hostDir, { recursive: true, force: true });
  });

  it('builds an embedded installation to copy', async () => {
    const steps: string[][] = [
      ['integrations', 'add', '--name', 'acme', '--sim-info', simInfo],
      ['sync', '--once', '--json', '--no-activity'],
      ['rules', 'run', '--json'],
      [
        'query',
        'save',
        'big-files',
        '--description',
        'large files',
        'select name, size from drive_items where size > 1000',
      ],
    ];
    for (const args of steps) {
      const r = await runCli(dataDir, args);
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    }
    const password = join(hostDir, 'pw');
    writeFileSync(password, 'correct horse battery staple 1\n');
    const user = await runCli(dataDir, [
      'users',
      'add',
      'alice',
      '--role',
      'admin',
      '--password-file',
      password,
    ]);
    assert.equal(user.status, 0, user.stderr);
    const url = join(hostDir, 'url');
    writeFileSync(url, 'https://hooks.example.test/services/T000/B000/secret-part\n');
    const channel = await runCli(dataDir, ['channels', 'add', 'ops', '--type', 'slack', '--url-file', url]);
    assert.equal(channel.status, 0, channel.stderr);
  });

  it('copies every table, verifies counts and samples, and says how the key comes along', async () => {
    const r = await runCli(hostDir, ['migrate', '--from', dataDir, '--to', targetUrl, '--batch-rows', '37']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /every count equal, every sampled row equal/);
    assert.match(r.stdout, /secret\(s\) were copied still sealed; the key from .*secret\.key opens them/);
    assert.ok(!r.stdout.includes('secret-part') && !r.stderr.includes('secret-part'), 'no secret printed');
    const counted = new Map(
      [...r.stdout.matchAll(/^(\w+)\s+(\d+)\s+(\d+)\s+(\d+)\s+[0-9a-f]{16}$/gm)].map((m) => [
        m[1],
        { sqlite: Number(m[2]), postgres: Number(m[3]), sampled: Number(m[4]) },
      ]),
    );
    for (const table of [
      'drive_items',
      'permissions',
      'changes',
      'findings',
      'app_users',
      'alert_channels',
      'saved_queries',
    ]) {
      const c = counted.get(table);
      assert.ok(c && c.sqlite > 0, `${table} is copied and was not empty: ${JSON.stringify(c)}`);
      assert.equal(c.postgres, c.sqlite);
      assert.equal(c.sampled, Math.min(100, c.sqlite));
    }
  });

  it('holds in PostgreSQL exactly the rows of every SQLite table', async () => {
    const source = await openStore({ dataDir });
    const target = await openStore({ databaseUrl: targetUrl, maxConnections: 2 });
    try {
      const { rows: columns } = await sql<{ table_name: string; column_name: string; data_type: string }>`
        select c.table_name, c.column_name, c.data_type from information_schema.columns c
        join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
        where c.table_schema = current_schema() and t.table_type = 'BASE TABLE'
          and c.table_name not like 'kysely%'`.execute(target.db);
      const tables = [...new Set(columns.map((c) => c.table_name))];
      assert.ok(tables.length > 40, `${tables.length} tables`);
      let rowsCompared = 0;
      for (const table of tables) {
        const types = new Map(
          columns.filter((c) => c.table_name === table).map((c) => [c.column_name, c.data_type]),
        );
        const form = (row: Record<string, unknown>) =>
          JSON.stringify([...types].map(([name, type]) => [name, comparable(row[name], type)]));
        const read = async (store: Store) =>
          (await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(store.db)).rows
            .map(form)
            .sort();
        const [a, b] = [await read(source), await read(target)];
        assert.deepEqual(b, a, `table ${table}`);
        rowsCompared += a.length;
      }
      assert.ok(rowsCompared > 500, `${rowsCompared} rows compared`);
      // Sequences continue after the copied ids: a new change row gets a fresh id.
      const { rows } = await sql<{ max: number; next: number }>`
        select (select max(id) from changes) as max, nextval(pg_get_serial_sequence('changes', 'id')) as next`.execute(
        target.db,
      );
      assert.ok(Number(rows[0]?.next) > Number(rows[0]?.max));
    } finally {
      await source.close();
      await target.close();
    }
  });

  it('refuses to copy into a database that already holds the data, and changes nothing', async () => {
    const r = await runCli(hostDir, ['migrate', '--from', dataDir, '--to', targetUrl]);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /the target already holds drivewarden data \(.*drive_items.*\).*Nothing was written/,
    );
    const n = await admin(async () => {
      const c = new pg.Client({ connectionString: targetUrl });
      await c.connect();
      const { rows } = await c.query('select count(*)::int as n from integrations');
      await c.end();
      return rows[0].n;
    });
    assert.equal(n, 1);
  });

  it('runs on PostgreSQL with the key brought along: a delta round continues from the copied checkpoints', async () => {
    const simAdmin = new SimAdminClient(sim);
    try {
      const [drive] = await simAdmin.drives();
      assert.ok(drive);
      const folder = (await simAdmin.items(drive.id)).find((i) => i.isFolder && !i.deleted);
      assert.ok(folder);
      await simAdmin.mutate({
        op: 'createItem',
        driveId: drive.id,
        parentId: folder.id,
        name: 'after-move.docx',
        size: 5,
      });

      // Another host: an empty data directory, the PostgreSQL URL, the key from the old data directory.
      const env = {
        DW_DATABASE_URL: targetUrl,
        DW_SECRET_KEY: readFileSync(join(dataDir, 'secret.key'), 'utf8').trim(),
      };
      const newHost = mkdtempSync(join(tmpdir(), 'dw-migrate-pg-'));
      const sync = await runCli(newHost, ['sync', '--once', '--json', '--no-activity'], env);
      rmSync(newHost, { recursive: true, force: true });
      assert.equal(sync.status, 0, sync.stderr);
      const [result] = JSON.parse(sync.stdout).results;
      assert.equal(result.mode, 'delta');
      assert.equal(result.drives.failed, 0);
      const truthItems = (await simAdmin.truthArray()).filter((t) => t.kind === 'item').length;
      assert.ok(
        result.items < truthItems / 4,
        `a delta round, not a full enumeration: ${result.items} items read`,
      );

      const store = await openStore({ databaseUrl: targetUrl, maxConnections: 2 });
      try {
        const found = await store.db
          .selectFrom('drive_items')
          .select('id')
          .where('name', '=', 'after-move.docx')
          .execute();
        assert.equal(found.length, 1);
        const [integration] = await store.db.selectFrom('integrations').select('id').execute();
        assert.ok(integration);
        const diff = await diffWithTruth(store, integration.id, simAdmin);
        assert.equal(diff.missing.length + diff.extra.length, 0, describeDiff(diff));
      } finally {
        await store.close();
      }
    } finally {
      await simAdmin.close();
    }
  });
});
