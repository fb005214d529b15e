import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { ensureFirstAdmin } from './first-admin.ts';
import { verifyPassword } from './passwords.ts';
import { checkCredentials } from './sessions.ts';

/** The first admin on an empty store, both dialects: a one-time password printed once, or the configured one. */
for (const dialect of testDialects()) {
  describe(`first admin (${dialect})`, () => {
    test('an empty store gets user admin with a random one-time password; a second start does nothing', async () => {
      const t = await openTestStore(dialect);
      try {
        const first = await ensureFirstAdmin(t.db);
        assert.ok(first?.oneTimePassword);
        assert.equal(first.username, 'admin');
        assert.match(first.oneTimePassword, /^[A-Za-z0-9_-]{24}$/);
        const row = await t.db.selectFrom('app_users').selectAll().executeTakeFirstOrThrow();
        assert.deepEqual(
          {
            username: row.username,
            role: row.role,
            mustChange: row.must_change_password,
            disabled: row.disabled,
          },
          { username: 'admin', role: 'admin', mustChange: 1, disabled: 0 },
        );
        assert.ok(row.password_hash && (await verifyPassword(first.oneTimePassword, row.password_hash)));
        assert.ok(!row.password_hash.includes(first.oneTimePassword), 'only its hash is stored');
        assert.equal(await ensureFirstAdmin(t.db), null, 'users exist: nothing printed again');
        const users = await t.db.selectFrom('app_users').select('id').execute();
        assert.equal(users.length, 1);
      } finally {
        await t.cleanup();
      }
    });

    test('a configured password (DW_ADMIN_PASSWORD) is used and not returned', async () => {
      const t = await openTestStore(dialect);
      try {
        const first = await ensureFirstAdmin(t.db, { password: 'from the environment' });
        assert.deepEqual(first, { username: 'admin' });
        const user = await checkCredentials(t.db, 'admin', 'from the environment');
        assert.deepEqual(user && { role: user.role, mustChangePassword: user.mustChangePassword }, {
          role: 'admin',
          mustChangePassword: true,
        });
      } finally {
        await t.cleanup();
      }
      const empty = await openTestStore(dialect);
      try {
        await assert.rejects(ensureFirstAdmin(empty.db, { password: 'short' }), /12 characters/);
      } finally {
        await empty.cleanup();
      }
    });
  });
}
