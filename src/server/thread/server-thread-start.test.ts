import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { quietLogger } from '../../../test/support/logger.ts';
import { freePort } from '../../../test/support/ports.ts';
import { loadConfig } from '../../config/config.ts';
import { ServerThread, type ServerThreadOptions } from './host.ts';
import { STEP_MS, STEPS } from './slow-start.fixture.ts';

const config = loadConfig({}, { dataDir: tmpdir(), logLevel: 'silent' });

async function threadOptions(database: ServerThreadOptions['database']): Promise<ServerThreadOptions> {
  return {
    config,
    database,
    host: '127.0.0.1',
    port: await freePort(),
    logLevel: 'silent',
    logger: quietLogger,
    onPersisted: () => undefined,
    onRejections: () => undefined,
  };
}

test('the start-up limit is on silence: a start longer than the limit that keeps reporting its steps succeeds', async () => {
  // A real thread whose start takes 8 steps of 500 ms (slow-start.fixture.ts), against a 2 s limit.
  const stallMs = 2000;
  const t0 = performance.now();
  const thread = await ServerThread.start({
    ...(await threadOptions({ kind: 'sqlite', mainFile: ':unused:', inboxFile: ':unused:' })),
    entry: new URL('./slow-start.fixture.ts', import.meta.url),
    startStallMs: stallMs,
  });
  try {
    const ms = performance.now() - t0;
    assert.ok(ms >= STEPS * STEP_MS && ms > stallMs, `started in ${Math.round(ms)} ms`);
    assert.equal(await (await fetch(thread.url)).text(), 'ok');
  } finally {
    await thread.close();
  }
});

test('a server thread stuck in a start-up step fails after the limit, naming the step', async () => {
  // A "PostgreSQL" that accepts connections and never answers: the subscriptions never load.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as { port: number };
  try {
    const t0 = performance.now();
    await assert.rejects(
      ServerThread.start({
        ...(await threadOptions({ kind: 'postgres', databaseUrl: `postgres://dw@127.0.0.1:${port}/dw` })),
        // Above the longest silence of the module loading on a busy machine (the event loop is
        // blocked while modules evaluate), which this test is not about.
        startStallMs: 10_000,
      }),
      /^Error: the HTTP server thread did not start: no progress for 10 s while loading the subscriptions \(\d+\.\d s since it was started\)$/,
    );
    assert.ok(performance.now() - t0 >= 10_000);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
