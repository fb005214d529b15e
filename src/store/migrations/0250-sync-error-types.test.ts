import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { openTestStore, testDialects } from '../../../test/support/store.ts';
import { listSyncErrors } from '../sync-state.ts';
import { up } from './0250-sync-error-types.ts';

for (const dialect of testDialects()) {
  test(`[${dialect}] 0250 renames the old sync_errors spellings to the resource types`, async () => {
    const { store, cleanup } = await openTestStore(dialect);
    try {
      const old = ['users', 'mfa', 'groups', 'group_members', 'drives', 'items', 'permissions'];
      const kept = ['signInActivity', 'drive_sync', 'drive_item'];
      for (const type of [...old, ...kept]) {
        await sql`insert into sync_errors
            (integration_id, resource_type, code, message, first_at, last_at, count)
            values ('i', ${type}, 'c', 'm', '2024-01-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z', 1)`.execute(
          store.db,
        );
      }
      await up(store.db);
      const types = (await listSyncErrors(store.db, 'i')).map((e) => e.resource_type);
      assert.deepEqual(types, [
        'user',
        'user_mfa',
        'group',
        'group_member',
        'drive',
        'drive_item',
        'permission',
        'signInActivity',
        'drive_sync',
        'drive_item',
      ]);
    } finally {
      await cleanup();
    }
  });
}
