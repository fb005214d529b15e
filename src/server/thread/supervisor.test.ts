import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { quietLogger } from '../../../test/support/logger.ts';
import { loadConfig } from '../../config/config.ts';
import { inboxFileFor } from '../../queue/webhook-inbox.ts';
import { openStore } from '../../store/store.ts';
import { SupervisedServerThread, type SupervisedServerThreadOptions } from './supervisor.ts';

const FIXTURE = fileURLToPath(new URL('./crash-loop.fixture.ts', import.meta.url));

/** A supervised server thread on a fresh SQLite store (port chosen by the system). */
async function withThread(
  extra: Partial<SupervisedServerThreadOptions>,
  fn: (thread: SupervisedServerThread) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-supervisor-'));
  const store = await openStore({ dataDir: dir });
  const file = store.file as string;
  let thread: SupervisedServerThread | undefined;
  try {
    thread = await SupervisedServerThread.start({
      config: loadConfig({ DW_DATA_DIR: dir }),
      database: { kind: 'sqlite', mainFile: file, inboxFile: inboxFileFor(file) },
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      logger: quietLogger,
      onPersisted: () => undefined,
      onRejections: () => undefined,
      ...extra,
    });
    await fn(thread);
  } finally {
    await thread?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const healthz = async (url: string) => (await fetch(`${url}/healthz`)).status;

/** A promise with its resolver, failing after `ms` (no wall-clock bound on the behaviour itself). */
function signal<T = void>(what: string, ms = 60_000) {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`timed out waiting for ${what}`)), ms);
    timer.unref();
    resolve = (v) => {
      clearTimeout(timer);
      res(v);
    };
  });
  return { promise, resolve };
}

describe('the HTTP server thread under supervision', () => {
  it('is started again on the same port when it dies, and serves', async () => {
    const restarted = signal('the restart');
    await withThread(
      { restart: { initialDelayMs: 20 }, onRestart: () => restarted.resolve(), onGiveUp: assert.fail },
      async (thread) => {
        const url = thread.url;
        assert.equal(await healthz(url), 200);
        thread.crash('test: the thread dies');
        await restarted.promise;
        assert.equal(thread.url, url);
        assert.equal(thread.restarts, 1);
        assert.ok(thread.alive);
        assert.equal(await healthz(url), 200);
      },
    );
  });

  it('gives up with a clear error when it keeps dying', async () => {
    const gaveUp = signal<Error>('the give-up');
    let restarts = 0;
    let thread: SupervisedServerThread | undefined;
    await withThread(
      {
        restart: { initialDelayMs: 10, maxDeaths: 3 },
        onRestart: () => {
          restarts++;
          thread?.crash('test: the thread dies again');
        },
        onGiveUp: (err) => gaveUp.resolve(err),
      },
      async (t) => {
        thread = t;
        t.crash('test: the thread dies');
        const err = await gaveUp.promise;
        assert.match(
          err.message,
          /died 3 times within 60 s \(last: test: the thread dies again\); giving up/,
        );
        assert.equal(restarts, 2);
        assert.equal(t.alive, false);
      },
    );
  });

  it('ends the process with exit code 1 and says why, by default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-supervisor-exit-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, dir], {
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
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      assert.match(stdout, /^listening http:\/\/127\.0\.0\.1:\d+/);
      assert.equal(code, 1, stderr);
      assert.match(stderr, /drivewarden: the HTTP server thread died 5 times within 60 s .*giving up/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
