import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { TEST_PG_URL } from './store.ts';

/** A database of its own on a PostgreSQL server, for a test (or bench) of whole processes. */
export interface ThrowawayDatabase {
  name: string;
  url: string;
  /** Drops it, ending the sessions still connected (a killed process's). */
  drop(): Promise<void>;
}

/** Runs one statement on the server's own database (`serverUrl`), outside any test schema. */
export async function onServer(serverUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** `create database <prefix>_<random>` on the server of `serverUrl` (default: the tests' server). */
export async function createThrowawayDatabase(
  prefix: string,
  serverUrl: string = TEST_PG_URL,
): Promise<ThrowawayDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  await onServer(serverUrl, `create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`),
  };
}
