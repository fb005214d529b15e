import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { simCredentials } from '../sim/connection.ts';
import { startSimulator } from '../sim/index.ts';
import { openApp } from '../src/app/context.ts';
import { startService } from '../src/server/service.ts';
import { freePort } from './support/ports.ts';

const bin = fileURLToPath(new URL('../bin/drivewarden.js', import.meta.url));

/** `drivewarden status` in a child process with its own environment (async: the service runs here). */
function status(dataDir: string, env: Record<string, string | undefined>, json = false) {
  const childEnv: Record<string, string | undefined> = {
    ...process.env,
    DW_DATA_DIR: dataDir,
    DW_LOG_LEVEL: 'warn',
  };
  delete childEnv.DW_PUBLIC_URL;
  Object.assign(childEnv, env);
  return new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'status', ...(json ? ['--json'] : [])], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`status exited ${code}: ${stderr}`)),
    );
  });
}

describe('drivewarden status reports the running service, not its own environment', () => {
  it('webhooks of a serve with a public URL, polling of one without, and no service at all', async () => {
    const sim = await startSimulator({ seed: 3, users: 6, items: 150, allowHttpNotifications: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-status-'));
    try {
      // A service with webhooks; the caller has no DW_PUBLIC_URL.
      const port = await freePort();
      const publicUrl = `http://127.0.0.1:${port}`;
      const app = await openApp({
        dataDir,
        logLevel: 'silent',
        'server.port': port,
        'server.publicUrl': publicUrl,
      });
      await app.integrations.create({
        name: 'st',
        ...simCredentials(sim),
        verifiedDomains: sim.verifiedDomains,
      });
      const service = await startService(app, { listen: { host: '127.0.0.1', port }, heartbeatMs: 200 });
      try {
        await service.ready;
        const out = await status(dataDir, {});
        assert.match(out, /service: running since .*; receiver http:\/\/127\.0\.0\.1:\d+ up; webhooks via /);
        assert.ok(out.includes(`webhooks via ${publicUrl}`), out);
        assert.match(out, /webhooks\s+[1-9]\d* active subscriptions, delivered to http:\/\/127\.0\.0\.1/);
        assert.doesNotMatch(out, /polling only|DW_PUBLIC_URL not set/);
        const [report] = JSON.parse(await status(dataDir, {}, true));
        assert.equal(report.service.running, true);
        assert.equal(report.service.receiverUp, true);
        assert.equal(report.realtime.webhooks.enabled, true);
      } finally {
        await service.close();
        await app.close();
      }
      const stopped = await status(dataDir, { DW_PUBLIC_URL: publicUrl });
      assert.match(stopped, /service: not running \(stopped .*\)/);
      assert.match(stopped, /webhooks\s+no service running/);

      // A service without a public URL; the caller has one.
      const app2 = await openApp({ dataDir, logLevel: 'silent', 'server.port': port });
      const polling = await startService(app2, {
        listen: { host: '127.0.0.1', port },
        heartbeatMs: 200,
        initialSync: false,
      });
      try {
        const out = await status(dataDir, { DW_PUBLIC_URL: 'https://caller.example' });
        assert.match(
          out,
          /service: running .*receiver http:\/\/127\.0\.0\.1:\d+ up; webhooks off: DW_PUBLIC_URL not set/,
        );
        assert.match(out, /webhooks\s+webhooks off: DW_PUBLIC_URL not set, relying on polling/);
        assert.doesNotMatch(out, /caller\.example/);
      } finally {
        await polling.close();
      }
      // A service that died without stopping: its heartbeat goes stale.
      await app2.store.db
        .updateTable('service_state')
        .set({ stopped_at: null, heartbeat_at: new Date(Date.now() - 3 * 3_600_000).toISOString() })
        .execute();
      const stale = await status(dataDir, {});
      assert.match(stale, /service: not running \(last heartbeat 3h ago, pid \d+ on /);
      await app2.close();
    } finally {
      await sim.close();
    }
  });
});
