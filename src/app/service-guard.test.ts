import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../test/support/cli.ts';
import { writeServiceState } from '../store/service-state.ts';
import { openApp } from './context.ts';

const SNAPSHOT = { receiverUrl: null, receiverUp: true, publicUrl: null, webhooks: { enabled: false } };

test('sync --once and integrations delete refuse while a live service writes the same SQLite store; a dead one holds nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-guard-'));
  try {
    const app = await openApp({ dataDir: dir, logLevel: 'silent' });
    await app.integrations.create({
      name: 'acme',
      tenantId: '11111111-2222-4333-8444-555555555555',
      clientId: 'client',
      clientSecret: 'not used',
    });
    const now = new Date().toISOString();
    // This test process plays the running service: its pid is alive, its heartbeat fresh.
    await writeServiceState(app.store.db, SNAPSHOT, { now, startedAt: now, heartbeatMs: 60_000 });
    await app.close();

    const sync = await runCli(dir, ['sync', '--once']);
    assert.notEqual(sync.status, 0);
    assert.match(
      sync.stderr,
      new RegExp(`sync --once: the drivewarden service \\(pid ${process.pid} on .+\\) writes this store`),
    );
    const del = await runCli(dir, ['integrations', 'delete', 'acme', '--yes']);
    assert.notEqual(del.status, 0);
    assert.match(
      del.stderr,
      /integrations delete acme: .* delete it through the service instead \(DELETE \/api\/v1\/integrations\//,
    );

    // The service was killed: its pid is gone, so its fresh-looking heartbeat holds nothing.
    const gone = spawnSync(process.execPath, ['-e', 'process.pid'], { encoding: 'utf8' }).pid as number;
    const again = await openApp({ dataDir: dir, logLevel: 'silent' });
    await again.store.db.updateTable('service_state').set({ pid: gone }).execute();
    await again.close();
    const deleted = await runCli(dir, ['integrations', 'delete', 'acme', '--yes']);
    assert.equal(deleted.status, 0, deleted.stderr);
    assert.match(deleted.stdout, /deleted "acme"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
