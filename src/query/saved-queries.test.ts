import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import type { Store } from '../store/store.ts';
import { EXAMPLE_QUERIES } from './examples.ts';
import { SavedQueries } from './saved-queries.ts';
import { inventorySnapshot, SEED, seedInventory } from './seed-inventory.fixture.ts';

for (const dialect of testDialects()) {
  describe(`saved queries (${dialect})`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let queries: SavedQueries;
    before(async () => {
      ({ store, cleanup } = await openTestStore(dialect));
      await seedInventory(store);
      queries = new SavedQueries(store);
    });
    after(() => cleanup());

    it('saves a query that runs, lists it after the examples, runs it with parameters, deletes it', async () => {
      const saved = await queries.save({
        name: 'files-of',
        description: 'Files of one owner',
        sql: `select i.path from drive_items i join drives d on d.integration_id = i.integration_id and d.id = i.drive_id
              where d.owner_email = :owner and i.is_folder = false and i.deleted_at is null order by i.path`,
        createdBy: 'tester',
      });
      assert.deepEqual(saved.params, { owner: null });
      assert.equal(saved.createdBy, 'tester');
      const list = await queries.list();
      assert.deepEqual(
        list.map((q) => q.name),
        [...EXAMPLE_QUERIES.map((e) => e.name), 'files-of'],
      );
      const rows = await queries.run('files-of', { owner: 'bob@contoso.test' });
      assert.deepEqual(
        rows.rows.map((r) => r.path),
        ['/Deck.pptx', '/Old.docx', '/Team/spec.md'],
      );
      await queries.delete('files-of');
      await assert.rejects(
        queries.run('files-of'),
        /no query named "files-of" \(there are: shared-with-anyone, /,
      );
    });

    it('runs a built-in example by name with its default parameters (days = 180)', async () => {
      const result = await queries.run('stale-external-shares', { now: SEED.now });
      assert.deepEqual(
        result.rows.map((r) => r.path),
        ['/Old.docx', '/Plans/q1.docx'],
      );
    });

    it('refuses to save what does not run, names and duplicates it cannot take', async () => {
      const before = await inventorySnapshot(store);
      const save = (over: Partial<Parameters<SavedQueries['save']>[0]>) =>
        queries.save({ name: 'x', description: 'd', sql: 'select 1 as one', ...over });
      await assert.rejects(save({ name: 'Bad Name' }), /a query name is 1-63 lower-case letters/);
      await assert.rejects(save({ name: 'biggest-drives' }), /"biggest-drives" is a built-in example/);
      await assert.rejects(save({ description: '  ' }), /needs a --description/);
      await assert.rejects(
        save({ sql: 'select secret_enc from integrations' }),
        /^QueryError: not saved: the query does not run on the current inventory: refused: integrations\.secret_enc holds a secret/,
      );
      await assert.rejects(save({ sql: 'delete from drive_items' }), /not saved: .*only queries run here/);
      await assert.rejects(save({ sql: 'select nope from nowhere' }), /not saved: .*SQL error: .*nowhere/);
      assert.deepEqual(await inventorySnapshot(store), before, 'nothing saved, nothing changed');
      await save({ name: 'one' });
      await assert.rejects(save({ name: 'one' }), /already saved \(--replace to change it\)/);
      const replaced = await save({ name: 'one', sql: 'select 2 as two', replace: true });
      assert.equal(replaced.sql, 'select 2 as two');
      assert.deepEqual((await queries.run('one')).rows, [{ two: 2 }]);
      await assert.rejects(queries.delete('biggest-drives'), /built-in example and cannot be deleted/);
      await assert.rejects(queries.delete('nothing'), /no saved query named "nothing"/);
      await queries.delete('one');
    });
  });
}
