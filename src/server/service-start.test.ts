import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from '../../test/support/cli.ts';
import { quietLogger } from '../../test/support/logger.ts';
import { freePort } from '../../test/support/ports.ts';
import { openTestStore, TEST_PG_URL, testDialects } from '../../test/support/store.ts';
import { assembleApp } from '../app/context.ts';
import { loadConfig } from '../config/config.ts';
import { startService } from './service.ts';

/** A real listener holding a port on 127.0.0.1. */
async function takePort(): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  return { port, server };
}

/** Kinds of async resources that are something left running: timers (ref'd or not), sockets, servers, threads. */
const RUNNING = /^(Timeout|TCPWRAP|TCPSERVERWRAP|PIPEWRAP|WORKER|MESSAGEPORT|FSEVENTWRAP)$/;

/** The first frame outside Node's own code: where a resource was created. */
function createdAt(): string {
  const frames = new Error().stack?.split('\n').slice(1) ?? [];
  return frames.find((f) => !f.includes('node:'))?.trim() ?? '(unknown)';
}

/**
 * Records the timers, sockets, servers and threads created from now on and not yet closed
 * (process.getActiveResourcesInfo() lists neither unref'd timers nor worker threads).
 */
function trackResources(): { alive(): Promise<string[]>; stop(): void } {
  const live = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (RUNNING.test(type)) live.set(id, `${type} ${createdAt()}`);
    },
    destroy(id) {
      live.delete(id);
    },
  }).enable();
  return {
    async alive() {
      // destroy hooks are emitted after the close, from the destroy queue.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      return [...live.values()];
    },
    stop: () => hook.disable(),
  };
}

// The HTTP server runs in its own thread, with its own connections (SQLite: the inbox file and
// its writer thread; PostgreSQL: its pool).
const stores = [
  { name: 'SQLite file, server thread', dialect: 'sqlite' as const },
  ...(testDialects().includes('postgres')
    ? [{ name: 'PostgreSQL, server thread', dialect: 'postgres' as const }]
    : []),
];

for (const store of stores) {
  test(`a taken port fails startService with a clear error and leaves nothing running (${store.name})`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-service-start-'));
    const taken = await takePort();
    const testStore = await openTestStore(store.dialect);
    let closed: Promise<void> | undefined;
    const closeStore = () => {
      closed ??= testStore.cleanup();
      return closed;
    };
    const config = loadConfig(
      {},
      {
        dataDir,
        logLevel: 'silent',
        server: { host: '127.0.0.1', port: taken.port },
        ...(store.dialect === 'postgres' ? { databaseUrl: TEST_PG_URL } : {}),
      },
    );
    const app = assembleApp(config, quietLogger, testStore.store);
    let resources: ReturnType<typeof trackResources> | undefined;
    try {
      resources = trackResources();
      await assert.rejects(
        startService(app, { listen: { host: '127.0.0.1', port: taken.port }, initialSync: false }),
        (err: Error) => {
          assert.equal(err.name, 'StartError');
          assert.match(err.message, /^could not start the HTTP server and the real-time path: .*EADDRINUSE/);
          assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${taken.port}`));
          return true;
        },
      );
      // The store is the caller's (its pool's connections too): once it is closed, nothing the
      // service started runs on — schedules, timers, the job queue, the server thread.
      await closeStore();
      assert.deepEqual(await resources.alive(), []);
    } finally {
      resources?.stop();
      await closeStore();
      await new Promise((resolve) => taken.server.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
}

test('`drivewarden serve` on a taken port exits with code 1 and says why, at once', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dw-serve-taken-'));
  const taken = await takePort();
  try {
    const t0 = Date.now();
    const run = await runCli(dataDir, ['serve', '--host', '127.0.0.1', '--port', String(taken.port)]);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(run.status, 1, run.stderr);
    assert.match(
      run.stderr,
      /drivewarden: could not start the HTTP server and the real-time path: .*EADDRINUSE/,
    );
    // Not held up by what it had started (a loaded machine makes the start itself slow).
    assert.ok(seconds < 60, `took ${seconds} s`);
  } finally {
    await new Promise((resolve) => taken.server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
});
