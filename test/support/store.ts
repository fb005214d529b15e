/** Stores for tests, on both dialects: SQLite always, PostgreSQL unless DW_TEST_DIALECTS narrows it out. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after } from 'node:test';
import type { Kysely } from 'kysely';
import type { Dialect } from '../../src/store/codec.ts';
import type { Database } from '../../src/store/schema.ts';
import { dropPgSchema, openStore, type Store } from '../../src/store/store.ts';
import { DEFAULT_TEST_PG_URL, ensureTestPostgres } from './postgres-server.ts';

const requested = (process.env.DW_TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((d) => d.trim())
  .filter((d): d is Dialect => d === 'sqlite' || d === 'postgres');

/**
 * PostgreSQL used by the tests: DW_TEST_PG_URL (scripts/run-tests.mjs sets it to the server of
 * the run), else the local server (trust auth on 127.0.0.1:5432). When it does not answer, this
 * file starts a throwaway one for itself (./postgres-server.ts) and stops it after its tests.
 */
export const TEST_PG_URL = requested.includes('postgres')
  ? await (async () => {
      const server = await ensureTestPostgres();
      if (server.embedded) after(() => server.stop());
      return server.url;
    })()
  : (process.env.DW_TEST_PG_URL ?? DEFAULT_TEST_PG_URL);

let narrowingSaid = false;

/**
 * The dialects the store-backed tests run on: both, unless DW_TEST_DIALECTS narrows them. A
 * narrowing is said in the test output (once per test file), never silent; an unreachable
 * PostgreSQL is replaced by a throwaway one (TEST_PG_URL), never narrowed out.
 */
export function testDialects(): Dialect[] {
  if (!narrowingSaid) {
    narrowingSaid = true;
    const file = relative(process.cwd(), process.argv[1] ?? '');
    for (const dialect of ['sqlite', 'postgres'] as const)
      if (!requested.includes(dialect))
        process.stdout.write(
          `${dialect} variants not run in ${file}: DW_TEST_DIALECTS=${process.env.DW_TEST_DIALECTS ?? ''}\n`,
        );
  }
  return requested;
}

export interface TestStore {
  store: Store;
  db: Kysely<Database>;
  /** The PostgreSQL schema of a postgres store (dropped on cleanup). */
  schema?: string;
  /** Closes the store and removes what it left (temporary directory, schema). */
  cleanup(): Promise<void>;
}

/**
 * A fresh, migrated store: SQLite in a temporary directory (or in `file`, e.g. ':memory:'),
 * or PostgreSQL in a fresh schema.
 */
export async function openTestStore(
  dialect: Dialect = 'sqlite',
  options: { file?: string; maxConnections?: number } = {},
): Promise<TestStore> {
  if (dialect === 'postgres') {
    const schema = `dw_test_${randomBytes(6).toString('hex')}`;
    const store = await openStore({
      databaseUrl: TEST_PG_URL,
      schema,
      maxConnections: options.maxConnections ?? 4,
    }).catch((err: Error) => {
      throw new Error(
        `PostgreSQL for the tests (${TEST_PG_URL}, DW_TEST_PG_URL) is not usable: ${err.message}. ` +
          'DW_TEST_DIALECTS=sqlite leaves the postgres variants out (the output says so).',
        { cause: err },
      );
    });
    return {
      store,
      db: store.db,
      schema,
      cleanup: async () => {
        await store.close();
        await dropPgSchema(TEST_PG_URL, schema);
      },
    };
  }
  if (options.file) {
    const store = await openStore({ file: options.file });
    return { store, db: store.db, cleanup: () => store.close() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'dw-store-'));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    db: store.db,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
