import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SimAdminClient } from '../sim/admin-client.ts';
import type { SimHandle } from '../sim/contracts.ts';
import { startSimulator } from '../sim/index.ts';
import { runCli } from './support/cli.ts';
import { freePort } from './support/ports.ts';
import { waitFor } from './support/wait.ts';

const bin = fileURLToPath(new URL('../bin/drivewarden.js', import.meta.url));

/**
 * Runs the real `drivewarden` command in a child process with its own data dir. Async:
 * the simulator lives in this process and must keep answering while the child runs.
 */
function dw(dataDir: string, args: string[], env: Record<string, string> = {}) {
  return runCli(dataDir, args, env);
}

describe('the drivewarden command against the simulator', () => {
  let sim: SimHandle;
  let dataDir: string;
  let simInfo: string;

  before(async () => {
    // Audit content in 1 s blobs, so downloads show up in the feed within a second.
    sim = await startSimulator({ seed: 5, users: 12, items: 400, events: { auditBlobSeconds: 1 } });
    dataDir = mkdtempSync(join(tmpdir(), 'dw-cli-'));
    simInfo = join(dataDir, 'sim.json');
    const { close: _close, ...info } = sim;
    writeFileSync(simInfo, JSON.stringify(info));
  });
  after(() => sim.close());

  it('adds an integration, probing each permission, without storing or printing the secret', async () => {
    const add = await dw(dataDir, ['integrations', 'add', '--name', 'acme', '--sim-info', simInfo]);
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, /added integration "acme"/);
    assert.match(add.stdout, /granted\s+user\s+User\.Read\.All/);
    assert.match(add.stdout, /granted\s+audit/);
    assert.ok(!add.stdout.includes(sim.clientSecret));

    const list = await dw(dataDir, ['integrations', 'list', '--json']);
    assert.equal(list.status, 0, list.stderr);
    const [integration] = JSON.parse(list.stdout);
    assert.equal(integration.name, 'acme');
    assert.equal(integration.tenantId, sim.tenantId);
    assert.ok(!list.stdout.includes(sim.clientSecret));

    // Nothing on disk holds the secret in plain text (database, WAL, key file).
    for (const file of readdirSync(dataDir)) {
      if (file === 'sim.json') continue;
      assert.ok(
        !readFileSync(join(dataDir, file)).includes(sim.clientSecret),
        `${file} holds no plain secret`,
      );
    }
  });

  it('refuses credentials that do not work and stores nothing', async () => {
    const bad = join(dataDir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({ ...JSON.parse(readFileSync(simInfo, 'utf8')), clientSecret: 'wrong' }),
    );
    const add = await dw(dataDir, ['integrations', 'add', '--name', 'bad', '--sim-info', bad]);
    assert.notEqual(add.status, 0);
    assert.match(add.stderr, /credentials do not work for tenant .*invalid_client/);
    assert.ok(!add.stderr.includes('wrong'), 'the secret is not echoed');
    const list = JSON.parse((await dw(dataDir, ['integrations', 'list', '--json'])).stdout);
    assert.deepEqual(
      list.map((i: { name: string }) => i.name),
      ['acme'],
    );
  });

  it('collects with sync --once, then answers SQL and shows status', async () => {
    const sync = await dw(dataDir, ['sync', '--once', '--json']);
    assert.equal(sync.status, 0, sync.stderr);
    const { results } = JSON.parse(sync.stdout);
    assert.equal(results[0].drives.failed, 0);
    assert.ok(results[0].items > 300);
    // The audit feed is read in the same round (the simulator serves it; no activity yet).
    assert.equal(results[0].activity.error, undefined);
    assert.ok(results[0].activity.windows >= 7, 'the first round lists the 7 days the API keeps');

    const query = await dw(dataDir, [
      'query',
      '--json',
      'select count(*) as n from drive_items where deleted_at is null',
    ]);
    assert.equal(query.status, 0, query.stderr);
    const admin = new SimAdminClient(sim);
    const truthItems = (await admin.truthArray()).filter((r) => r.kind === 'item').length;
    await admin.close();
    assert.equal(JSON.parse(query.stdout)[0].n, truthItems);

    const write = await dw(dataDir, ['query', 'delete from drive_items']);
    assert.notEqual(write.status, 0);
    assert.match(write.stderr, /refused: only queries run here/);

    const status = await dw(dataDir, ['status']);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /acme \(enabled\)/);
    assert.match(status.stdout, /drives\s+\d+\/\d+ with a delta checkpoint/);
    assert.match(status.stdout, /audit feed listed until \d+s ago, 0 events stored/);
  });

  it('answers who can reach an item and what a user can reach', async () => {
    const pick = await dw(dataDir, [
      'query',
      '--json',
      `select i.drive_id, i.path, i.access_root_id, d.owner_email from drive_items i
       join drives d on d.integration_id = i.integration_id and d.id = i.drive_id
       where i.exposure = 'public' and i.access_root_id <> i.id and i.deleted_at is null limit 1`,
    ]);
    assert.equal(pick.status, 0, pick.stderr);
    const [item] = JSON.parse(pick.stdout);
    assert.ok(item, 'the tenant has an item exposed through a shared folder');
    const who = await dw(dataDir, ['access', 'who', item.path, '--drive', item.drive_id, '--json']);
    assert.equal(who.status, 0, who.stderr);
    const reach = JSON.parse(who.stdout);
    assert.equal(reach.exposure, 'public');
    assert.equal(reach.accessRootId, item.access_root_id);
    assert.ok(
      reach.accessors.some((a: { kind: string }) => a.kind === 'anyone'),
      who.stdout,
    );
    const text = await dw(dataDir, ['access', 'who', item.path, '--drive', item.drive_id]);
    assert.match(text.stdout, /: public\n/);

    const what = await dw(dataDir, ['access', 'what', item.owner_email, '--limit', '5']);
    assert.equal(what.status, 0, what.stderr);
    assert.match(what.stdout, /owner: \d+/);
    const unknown = await dw(dataDir, ['access', 'who', '/no/such/file', '--drive', item.drive_id]);
    assert.notEqual(unknown.status, 0);
    assert.match(unknown.stderr, /no live item \/no\/such\/file/);
  });

  it('reads the audit feed with sync, shows timelines, usage and detections', async () => {
    const admin = new SimAdminClient(sim);
    const [drive] = (await admin.drives()).sort((a, b) => b.itemCount - a.itemCount);
    const { itemIds } = await admin.mutate<{ itemIds: string[] }>({
      op: 'massDownload',
      driveId: drive.id,
      count: 60,
    });
    await waitFor(
      'the downloads to become available',
      async () => (await admin.auditStats()).pendingBlobs === 0,
    );
    // The API's times are whole seconds and a window ends before the current one: content that
    // became available in this second is listed by the next round, so let the second pass.
    await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 5));
    await admin.close();
    const sync = await dw(dataDir, ['sync', '--once', '--json']);
    assert.equal(sync.status, 0, sync.stderr);
    const downloads = Math.min(60, itemIds.length);
    assert.equal(JSON.parse(sync.stdout).results[0].activity.eventsNew, downloads);

    const user = await dw(dataDir, ['activity', 'user', drive.ownerUserPrincipalName, '--json']);
    assert.equal(user.status, 0, user.stderr);
    const entries = JSON.parse(user.stdout);
    assert.equal(entries.length, downloads);
    assert.ok(entries.every((e: { operation: string }) => e.operation === 'FileDownloaded'));
    const item = await dw(dataDir, ['activity', 'item', itemIds[0], '--json']);
    assert.equal(item.status, 0, item.stderr);
    assert.deepEqual(
      JSON.parse(item.stdout).entries.map((e: { actor: string }) => e.actor),
      [drive.ownerUserPrincipalName.toLowerCase()],
    );
    const usage = await dw(dataDir, ['activity', 'usage', '--json']);
    assert.equal(JSON.parse(usage.stdout).length, downloads);
    const detect = await dw(dataDir, ['activity', 'detect', '--json']);
    assert.equal(detect.status, 0, detect.stderr);
    assert.ok(JSON.parse(detect.stdout).some((d: { detector: string }) => d.detector === 'mass_download'));
    const bad = await dw(dataDir, ['activity', 'user', 'x@y', '--days', 'soon']);
    assert.match(bad.stderr, /--days must be a positive number, got "soon"/);
  });

  it('disables, enables and deletes with purge (confirmation required)', async () => {
    assert.equal((await dw(dataDir, ['integrations', 'disable', 'acme'])).status, 0);
    const paused = await dw(dataDir, ['sync', '--once', '--integration', 'acme']);
    assert.notEqual(paused.status, 0);
    assert.match(paused.stderr, /disabled/);
    assert.equal((await dw(dataDir, ['integrations', 'enable', 'acme'])).status, 0);

    const unconfirmed = await dw(dataDir, ['integrations', 'delete', 'acme']);
    assert.notEqual(unconfirmed.status, 0);
    assert.match(unconfirmed.stderr, /--yes/);

    const del = await dw(dataDir, ['integrations', 'delete', 'acme', '--yes']);
    assert.equal(del.status, 0, del.stderr);
    assert.match(del.stdout, /deleted "acme": 0 Graph subscriptions deleted; \d+ rows purged/);
    const left = await dw(dataDir, [
      'query',
      '--json',
      'select (select count(*) from drive_items) + (select count(*) from permissions) + (select count(*) from changes) + (select count(*) from users) as n',
    ]);
    assert.equal(JSON.parse(left.stdout)[0].n, 0);
  });

  it('reports bad configuration by name', async () => {
    const out = await dw(dataDir, ['integrations', 'list'], { DW_PORT: 'x', DW_SYNC_CONCURRENCY: '-1' });
    assert.equal(out.status, 2);
    assert.match(out.stderr, /DW_PORT/);
    assert.match(out.stderr, /DW_SYNC_CONCURRENCY/);
  });
});

describe('drivewarden demo', () => {
  it('runs the product against a generated tenant and prints the inventory summary', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-demo-'));
    const child = spawn(
      process.execPath,
      [bin, 'demo', '--exit-after-sync', '--users', '10', '--items', '300', '--port', '0'],
      { env: { ...process.env, DW_DATA_DIR: dataDir, DW_LOG_LEVEL: 'warn' } },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stdout);
    assert.match(stdout, /12\/12 permissions granted/);
    assert.match(stdout, /collected \d+ items/);
    assert.match(stdout, /anonymous_links/);
    assert.match(stdout, /open findings: [1-9]\d* \(/);
    assert.match(stdout, /^\s+\d+\s+permission_anonymous_link_absent$/m);
  });

  it('names files by path, not by id, in its live output', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-demo-live-'));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [bin, 'demo', '--users', '8', '--items', '200', '--port', String(port), '--activity', '1'],
      { env: { ...process.env, DW_DATA_DIR: dataDir, DW_LOG_LEVEL: 'warn' } },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    // "  webhook drive_item modified /Documents/report.docx [name, path] (… ms after …)"
    const live = () =>
      stdout.split('\n').filter((l) => /^\s+(webhook|poll|delta|resync)\s+(drive_item|permission)\s/.test(l));
    try {
      await waitFor('three live item changes', () => live().length >= 3, {
        timeoutMs: 90_000,
        intervalMs: 100,
      }).catch(() => assert.fail(`no live item changes within 90 s:\n${stdout}`));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    for (const line of live()) {
      assert.match(line, /\s(removed|added|modified) (on )?\//, line);
      // Simulator item ids: "01" + the drive's tag + base32.
      assert.doesNotMatch(line, /\b01[A-Z2-7]{8,}\b/, line);
    }
  });
});
