import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dialect } from './codec.ts';
import { dropPgSchema, openStore, type Store } from './store.ts';

/** PostgreSQL used by the store tests (trust auth on 127.0.0.1 by default). */
export const TEST_PG_URL = process.env.DW_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Both dialects; DW_TEST_DIALECTS=sqlite narrows it (e.g. on a machine without PostgreSQL). */
export const TEST_DIALECTS: Dialect[] = (process.env.DW_TEST_DIALECTS ?? 'sqlite,postgres')
  .split(',')
  .map((d) => d.trim())
  .filter((d): d is Dialect => d === 'sqlite' || d === 'postgres');

/** A fresh store: a temporary SQLite file, or a fresh PostgreSQL schema dropped on cleanup. */
export async function openTestStore(
  dialect: Dialect,
): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (dialect === 'postgres') {
    const schema = `dw_test_${randomBytes(6).toString('hex')}`;
    const store = await openStore({ databaseUrl: TEST_PG_URL, schema, maxConnections: 4 });
    return {
      store,
      cleanup: async () => {
        await store.close();
        await dropPgSchema(TEST_PG_URL, schema);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'dw-store-'));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
