import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { simClient, simContext } from '../../test/support/collector.ts';
import { registerIntegration } from '../../test/support/rules.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore } from '../../test/support/store.ts';
import { describeDiff, diffWithTruth } from '../../test/support/truth.ts';
import { syncIntegration } from '../collect/sync.ts';
import { openSqlite } from './connection.ts';
import { DEFERRED_ITEM_INDEXES, deferItemIndexes, ensureItemIndexes } from './deferred-indexes.ts';
import type { Store } from './store.ts';

const NAMES = DEFERRED_ITEM_INDEXES.map((i) => i.name);

/** name → the CREATE INDEX text SQLite keeps, for the deferred indexes present. */
async function deferredIndexSql(store: Pick<Store, 'db'>): Promise<Map<string, string>> {
  const { rows } = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master
    where type = 'index' and tbl_name = 'drive_items'`.execute(store.db);
  return new Map(rows.filter((r) => NAMES.includes(r.name)).map((r) => [r.name, r.sql]));
}

describe('the API sort indexes a first collection builds at its end (SQLite)', () => {
  let env: TestSim;
  before(async () => {
    env = await startTestSim({ seed: 11, users: 6, items: 400, sharedRatio: 0.1 });
  });
  after(async () => env?.close());

  test('rebuilt exactly as migration 0720 made them', async () => {
    const ts = await openTestStore('sqlite');
    try {
      const migrated = await deferredIndexSql(ts.store);
      assert.deepEqual([...migrated.keys()].sort(), [...NAMES].sort(), 'the migrations made all three');
      assert.equal(await deferItemIndexes(ts.store), true, 'an empty store defers them');
      assert.equal((await deferredIndexSql(ts.store)).size, 0);
      assert.deepEqual((await ensureItemIndexes(ts.store)).sort(), [...NAMES].sort());
      const rebuilt = await deferredIndexSql(ts.store);
      for (const [name, text] of migrated)
        assert.equal(rebuilt.get(name)?.replace(/ if not exists/i, ''), text, `${name} as 0720 wrote it`);
      assert.deepEqual(await ensureItemIndexes(ts.store), [], 'nothing to build twice');
    } finally {
      await ts.cleanup();
    }
  });

  test('a first collection writes without them and ends with them; the inventory equals the truth', async () => {
    const ts = await openTestStore('sqlite');
    try {
      const integrationId = 'int-deferred';
      await registerIntegration(ts.db, 'sqlite', integrationId, env.sim.tenantId);
      // Another connection reads the schema from the sync's own progress reports (synchronous).
      const reader = openSqlite(ts.store.file as string, { readonly: true });
      const present = reader.prepare(
        `select count(*) as n from sqlite_master where type = 'index' and name in (${NAMES.map(() => '?').join(', ')})`,
      );
      const during: number[] = [];
      const ctx = {
        ...simContext(ts.store, env.sim, simClient(env.sim), integrationId),
        onProgress: (p: { phase: string; items: number }) => {
          if (p.phase === 'drives' && p.items > 0) during.push((present.get(...NAMES) as { n: number }).n);
        },
      };
      const result = await syncIntegration(ctx, { mode: 'full' }).finally(() => reader.close());
      assert.deepEqual(result.errors, []);
      assert.ok(
        during.length > 0 && during.every((n) => n === 0),
        `absent while items were written (${during})`,
      );
      assert.equal((await deferredIndexSql(ts.store)).size, 3, 'built at the end');
      const diff = await diffWithTruth(ts.store, integrationId, env.admin);
      assert.ok(diff.missing.length === 0 && diff.extra.length === 0, describeDiff(diff));

      // A second collection of a store with items keeps them throughout.
      const again = await syncIntegration(simContext(ts.store, env.sim, simClient(env.sim), integrationId), {
        mode: 'full',
      });
      assert.deepEqual(again.errors, []);
      assert.equal((await deferredIndexSql(ts.store)).size, 3);
      assert.equal(await deferItemIndexes(ts.store), false, 'a store with items keeps them');
    } finally {
      await ts.cleanup();
    }
  });

  test('a first collection that ended before its end has them built by the next', async () => {
    const ts = await openTestStore('sqlite');
    try {
      assert.equal(await deferItemIndexes(ts.store), true);
      const integrationId = 'int-resumed';
      await registerIntegration(ts.db, 'sqlite', integrationId, env.sim.tenantId);
      // As after a kill: items stored, indexes still missing; the next round is a delta one.
      const result = await syncIntegration(simContext(ts.store, env.sim, simClient(env.sim), integrationId), {
        mode: 'delta',
      });
      assert.deepEqual(result.errors, []);
      assert.equal((await deferredIndexSql(ts.store)).size, 3);
    } finally {
      await ts.cleanup();
    }
  });
});
