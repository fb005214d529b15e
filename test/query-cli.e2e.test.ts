import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SEED, seedInventory } from '../src/query/seed-inventory.fixture.ts';
import { openStore } from '../src/store/store.ts';
import { runCli } from './support/cli.ts';

/** `drivewarden query` as people run it: formats, parameters, saved queries, refusals and limits. */

const _bin = fileURLToPath(new URL('../bin/drivewarden.js', import.meta.url));

// The seeded store holds sealed-looking secrets but no key file: the CLI needs a key to start.
const SECRET_KEY = randomBytes(32).toString('base64');

function dw(dataDir: string, args: string[], env: Record<string, string> = {}) {
  return runCli(dataDir, args, { DW_SECRET_KEY: SECRET_KEY, ...env });
}

describe('drivewarden query', () => {
  let dataDir: string;
  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dw-query-cli-'));
    const store = await openStore({ dataDir });
    await seedInventory(store);
    await store.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints rows as a table, JSON (--json too) and RFC 4180 CSV', async () => {
    const sql = "select display_name, mail from users where mail like '%contoso%' order by mail";
    const table = await dw(dataDir, ['query', sql]);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /^display_name\s+mail\n-+\s+-+\nAlice\s+alice@contoso\.test\n/);
    assert.match(table.stdout, /\(3 rows\)\n$/);
    const json = await dw(dataDir, ['query', '--format', 'json', sql]);
    assert.deepEqual(JSON.parse(json.stdout)[0], { display_name: 'Alice', mail: 'alice@contoso.test' });
    assert.equal((await dw(dataDir, ['query', '--json', sql])).stdout, json.stdout);
    const csv = await dw(dataDir, ['query', '--format', 'csv', "select 'a,b' as x, 'say \"hi\"' as y"]);
    assert.equal(csv.stdout, 'x,y\r\n"a,b","say ""hi"""\r\n');
  });

  it('runs examples with --param, says when rows were cut off', async () => {
    const reach = await dw(dataDir, [
      'query',
      'run',
      'person-reach',
      '--param',
      'person=hal@partner.test',
      '--format',
      'json',
    ]);
    assert.equal(reach.status, 0, reach.stderr);
    assert.deepEqual(
      JSON.parse(reach.stdout).map((r: { path: string }) => r.path),
      ['/Deck.pptx'],
    );
    const missing = await dw(dataDir, ['query', 'run', 'person-reach']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /the query needs :person: give --param person=…/);
    const cut = await dw(dataDir, ['query', '--limit', '2', 'select id from drive_items']);
    assert.match(cut.stdout, /\(2 rows, truncated\)/);
    assert.match(cut.stderr, /rows cut off at 2 \(--limit, config query\.maxRows\)/);
    const over = await dw(dataDir, ['query', '--limit', '50', 'select 1'], { DW_QUERY_MAX_ROWS: '10' });
    assert.match(over.stderr, /--limit 50 is above query\.maxRows \(10\)/);
  });

  it('saves, lists, runs and deletes a query', async () => {
    const save = await dw(dataDir, [
      'query',
      'save',
      'guests',
      '--description',
      'Guest accounts',
      'select mail from users where is_guest = true order by mail',
    ]);
    assert.equal(save.status, 0, save.stderr);
    assert.match(save.stdout, /saved "guests": drivewarden query run guests/);
    const list = await dw(dataDir, ['query', 'list', '--format', 'csv']);
    assert.match(list.stdout, /^name,kind,description,params,sql,created_at,created_by\r\n/);
    assert.match(list.stdout, /\r\nperson-reach,example,What can this person reach\?,:person,/);
    assert.match(list.stdout, /\r\nguests,saved,Guest accounts,,/);
    const run = await dw(dataDir, ['query', 'run', 'guests', '--json']);
    assert.deepEqual(JSON.parse(run.stdout), [{ mail: 'gina@fabrikam.test' }, { mail: 'hal@partner.test' }]);
    const bad = await dw(dataDir, [
      'query',
      'save',
      'leak',
      '--description',
      'x',
      'select secret_enc from integrations',
    ]);
    assert.notEqual(bad.status, 0);
    assert.match(
      bad.stderr,
      /not saved: the query does not run on the current inventory: refused: integrations\.secret_enc/,
    );
    assert.equal((await dw(dataDir, ['query', 'delete', 'guests'])).status, 0);
    assert.match((await dw(dataDir, ['query', 'run', 'guests'])).stderr, /no query named "guests"/);
  });

  it('refuses a write and stops a runaway query, with the reason on stderr', async () => {
    const write = await dw(dataDir, ['query', 'update integrations set secret_enc = null']);
    assert.equal(write.status, 1);
    assert.equal(
      write.stderr.trim(),
      'drivewarden: refused: only queries run here (SELECT, WITH … SELECT, VALUES); this statement starts with UPDATE',
    );
    const forever = await dw(
      dataDir,
      ['query', 'with recursive r(n) as (select 1 union all select n + 1 from r) select count(*) from r'],
      { DW_QUERY_TIMEOUT_MS: '1000' },
    );
    assert.equal(forever.status, 1);
    assert.match(forever.stderr, /stopped: the query ran longer than 1000 ms \(query\.timeoutMs\)/);
    const store = await openStore({ dataDir });
    const row = await store.db.selectFrom('integrations').select('secret_enc').executeTakeFirstOrThrow();
    await store.close();
    assert.equal(row.secret_enc, SEED.secret);
  });
});
