import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openStore } from '../../src/store/store.ts';
import { checkHistory } from './history-check.ts';

test('the history check finds a doubled "added", a removal of an absent item and a gap', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-chaos-history-'));
  const store = await openStore({ file: join(dir, 'h.db') });
  try {
    const add = (id: string, type: string) =>
      sql`insert into changes (integration_id, tenant_id, resource_type, resource_id, drive_id, change_type, source, observed_at)
        values ('i', 't', 'drive_item', ${id}, 'd', ${type}, 'delta', '2026-01-01T00:00:00.000Z')`.execute(
        store.db,
      );
    await add('a', 'added');
    await add('a', 'removed');
    await add('a', 'added'); // fine: re-added after removal
    assert.deepEqual((await checkHistory(store, 'i')).duplicates, []);
    await add('a', 'added');
    await add('b', 'removed');
    const c = await checkHistory(store, 'i');
    assert.equal(c.duplicates.length, 2, c.duplicates.join('; '));
    // "a" is present by its history but not stored: a gap.
    assert.deepEqual(c.gaps, ['history says present, not stored: drive_item|d||||a']);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
