import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../../../test/support/cli.ts';
import { principalOfApiToken } from '../../auth/principals.ts';
import { checkCredentials } from '../../auth/sessions.ts';
import { openStore } from '../../store/store.ts';

/** `drivewarden users …` and `drivewarden tokens …` as people run them, on a SQLite store. */
describe('drivewarden users and tokens', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-users-cli-'));
  const env = { DW_DATABASE_URL: '', DW_CONFIG: '' };
  const run = (...args: string[]) => runCli(dir, args, env);
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };
  const withStore = async <T>(fn: (db: Awaited<ReturnType<typeof openStore>>['db']) => Promise<T>) => {
    const store = await openStore({ dataDir: dir });
    try {
      return await fn(store.db);
    } finally {
      await store.close();
    }
  };
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('adds and lists users; passwords come from a file or a terminal, never an argument', async () => {
    const added = await run(
      'users',
      'add',
      'Alice',
      '--role',
      'admin',
      '--password-file',
      file('a.txt', 'alice password 1\n'),
    );
    assert.equal(added.status, 0, added.stderr);
    assert.match(added.stdout, /added admin "alice"/);
    const bob = await run('users', 'add', 'bob', '--password-file', file('b.txt', 'bob password 12'));
    assert.equal(bob.status, 0, bob.stderr);
    const noPassword = await run('users', 'add', 'carol');
    assert.equal(noPassword.status, 1);
    assert.match(noPassword.stderr, /--password-file/);
    const json = await run('users', 'list', '--json');
    assert.deepEqual(
      JSON.parse(json.stdout).map((u: { username: string; role: string }) => [u.username, u.role]),
      [
        ['alice', 'admin'],
        ['bob', 'viewer'],
      ],
    );
    assert.ok(!json.stdout.includes('scrypt'), 'no password hash');
    await withStore(async (db) => {
      assert.equal((await checkCredentials(db, 'alice', 'alice password 1'))?.role, 'admin');
    });
  });

  it('never removes the last admin; sets passwords', async () => {
    const last = await run('users', 'remove', 'alice');
    assert.equal(last.status, 1);
    assert.match(last.stderr, /cannot remove the last admin/);
    const reset = await run(
      'users',
      'set-password',
      'bob',
      '--password-file',
      file('b2.txt', 'bob new password'),
    );
    assert.equal(reset.status, 0, reset.stderr);
    assert.match(reset.stdout, /to be changed at next sign-in/);
    await withStore(async (db) => {
      const bob = await checkCredentials(db, 'bob', 'bob new password');
      assert.equal(bob?.mustChangePassword, true);
      assert.equal(await checkCredentials(db, 'bob', 'bob password 12'), null);
    });
  });

  it('creates a token shown once, lists tokens without secrets, revokes one', async () => {
    const created = await run(
      'tokens',
      'create',
      '--user',
      'bob',
      '--name',
      'ci job',
      '--expires-days',
      '30',
    );
    assert.equal(created.status, 0, created.stderr);
    const token = /^(dw_[A-Za-z0-9_-]{43})$/m.exec(created.stdout)?.[1];
    assert.ok(token, created.stdout);
    assert.match(created.stdout, /created viewer token "ci job" for bob/);
    const id = await withStore(async (db) => {
      const principal = await principalOfApiToken(db, token, new Date());
      assert.deepEqual(principal && [principal.username, principal.role], ['bob', 'viewer']);
      return (await db.selectFrom('api_tokens').select('id').executeTakeFirstOrThrow()).id;
    });
    const list = await run('tokens', 'list');
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^${id}\\tci job\\t${token.slice(0, 8)}…\\tbob\\tviewer\\t`));
    assert.ok(!list.stdout.includes(token));
    const revoked = await run('tokens', 'revoke', id);
    assert.equal(revoked.status, 0, revoked.stderr);
    assert.match(revoked.stdout, /revoked token "ci job" of bob/);
    await withStore(async (db) => {
      assert.equal(await principalOfApiToken(db, token, new Date()), null);
    });
  });
});
