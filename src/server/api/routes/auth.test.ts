import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type ApiClient,
  type ApiResponse,
  apiClient,
  startTestApi,
  type TestApi,
} from '../../../../test/support/api.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { hashPassword } from '../../../auth/passwords.ts';
import { createUser, type Role } from '../../../auth/principals.ts';
import { tokenHash } from '../../../auth/tokens.ts';

/**
 * Sign-in and roles on a real server, both dialects: the session cookie and its attributes,
 * CSRF on unsafe requests, sign-out, expiry, the sign-in throttle, users (the last admin
 * stays), API tokens shown once, and no password hash in any answer.
 */

const PASSWORD = 'correct horse battery';

/**
 * A user whose password hash is cheap (N=2^12 instead of 2^17): a sign-in then costs ~5 ms,
 * not ~1 s on a busy machine. Verification follows the hash's own parameters, so the paths
 * are the same; new passwords set through the API still get the full cost.
 */
export async function addTestUser(
  db: TestApi['app']['store']['db'],
  username: string,
  role: Role,
  options: { mustChangePassword?: boolean } = {},
): Promise<void> {
  const user = await createUser(db, { username, password: null, role, ...options });
  const password_hash = await hashPassword(PASSWORD, { N: 2 ** 12, r: 8, p: 1 });
  await db.updateTable('app_users').set({ password_hash }).where('id', '=', user.id).execute();
}

interface Session {
  cookie: string;
  csrf: string;
  setCookie: string;
  /** A client sending the cookie (and the CSRF token unless `csrf` overrides it). */
  client(csrf?: string | null): ApiClient;
}

for (const dialect of testDialects()) {
  describe(`auth routes (${dialect})`, () => {
    let api: TestApi;
    let clockOffsetMs = 0;
    const answers: string[] = [];
    const remember = <T>(res: ApiResponse<T>) => {
      answers.push(res.text, JSON.stringify([...res.headers]));
      return res;
    };
    /** A client that records every answer (for the no-hash check) and sends extra headers. */
    const recording = (headers: Record<string, string>): ApiClient => {
      const base = apiClient(api.url);
      const request = async (method: string, path: string, body?: unknown, extra?: Record<string, string>) =>
        remember(await base.request(method, path, body, { ...headers, ...extra }));
      return {
        request,
        get: (p) => request('GET', p),
        post: (p, b) => request('POST', p, b ?? {}),
        patch: (p, b) => request('PATCH', p, b ?? {}),
        put: (p, b) => request('PUT', p, b ?? {}),
        delete: (p) => request('DELETE', p),
      };
    };
    const anon = () => recording({});
    const signIn = async (username: string, password = PASSWORD): Promise<Session> => {
      const res = await anon().post('/api/v1/auth/sign-in', { username, password });
      assert.equal(res.status, 200, res.text);
      const setCookie = res.headers.get('set-cookie') ?? '';
      const cookie = setCookie.split(';')[0];
      const csrf = res.body.csrfToken as string;
      return {
        cookie,
        csrf,
        setCookie,
        client: (override) =>
          recording({ cookie, ...(override === null ? {} : { 'x-csrf-token': override ?? csrf }) }),
      };
    };

    before(async () => {
      api = await startTestApi({
        dialect,
        api: { now: () => new Date(Date.now() + clockOffsetMs) },
      });
      const db = api.app.store.db;
      await addTestUser(db, 'alice', 'admin');
      await addTestUser(db, 'bob', 'viewer', { mustChangePassword: true });
      await addTestUser(db, 'carol', 'viewer');
      await addTestUser(db, 'zed', 'viewer');
    });
    after(() => api?.close());

    test('sign-in sets an HttpOnly, SameSite=Strict session cookie and answers the user and a CSRF token', async () => {
      const session = await signIn('Alice');
      assert.match(session.cookie, /^dw_session=dws_[A-Za-z0-9_-]{43}$/);
      const attributes = session.setCookie.split(';').map((a) => a.trim().toLowerCase());
      assert.ok(attributes.includes('httponly'), session.setCookie);
      assert.ok(attributes.includes('samesite=strict'), session.setCookie);
      assert.ok(attributes.includes('path=/'), session.setCookie);
      assert.ok(!attributes.includes('secure'), 'plain http: no Secure attribute');
      const expires = Date.parse(attributes.find((a) => a.startsWith('expires='))?.slice(8) ?? '');
      assert.ok(Math.abs(expires - (Date.now() + 12 * 3_600_000)) < 60_000, 'the session lasts 12 h');
      const state = await session.client().get('/api/v1/auth/session');
      assert.equal(state.status, 200);
      assert.deepEqual(
        { user: state.body.user, csrf: state.body.csrfToken, sso: state.body.sso },
        {
          user: { id: state.body.user.id, username: 'alice', role: 'admin', mustChangePassword: false },
          csrf: session.csrf,
          sso: { enabled: false },
        },
      );
      const anonymous = await anon().get('/api/v1/auth/session');
      assert.deepEqual(anonymous.body, { user: null, csrfToken: null, sso: { enabled: false } });
      const row = await api.app.store.db
        .selectFrom('app_users')
        .select('last_sign_in_at')
        .where('username', '=', 'alice')
        .executeTakeFirstOrThrow();
      assert.ok(row.last_sign_in_at, 'the last sign-in is recorded');
    });

    test('a wrong password and an unknown user both get 401 invalid_credentials, taking as long', async () => {
      let t0 = performance.now();
      const wrong = await anon().post('/api/v1/auth/sign-in', {
        username: 'alice',
        password: 'not the password',
      });
      const wrongMs = performance.now() - t0;
      t0 = performance.now();
      const unknown = await anon().post('/api/v1/auth/sign-in', { username: 'mallory', password: PASSWORD });
      const unknownMs = performance.now() - t0;
      for (const res of [wrong, unknown]) {
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, 'invalid_credentials');
        assert.equal(res.body.error.message, 'username or password is wrong');
        assert.equal(res.headers.get('set-cookie'), null);
      }
      // alice's test hash is cheap, the dummy hash has the full cost: without it an unknown
      // user would answer in ~1 ms, with it at least as slowly as a real check.
      assert.ok(unknownMs > wrongMs, `unknown user ${unknownMs} ms vs wrong password ${wrongMs} ms`);
      assert.ok(unknownMs > 50, `unknown user ${unknownMs} ms: the dummy hash was checked`);
      const bad = await anon().post('/api/v1/auth/sign-in', { username: 'alice' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.error.message, /password/);
    });

    test('the session cookie works on viewer routes; unsafe requests need the right x-csrf-token', async () => {
      const dave = await signIn('zed');
      assert.equal((await dave.client().get('/api/v1/tokens')).status, 200);
      const missing = await dave.client(null).post('/api/v1/tokens', { name: 'ci' });
      assert.equal(missing.status, 403);
      assert.equal(missing.body.error.code, 'csrf');
      const wrong = await dave.client('csrf_wrong').post('/api/v1/tokens', { name: 'ci' });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.error.code, 'csrf');
      const other = await signIn('carol');
      const crossed = await dave.client(other.csrf).post('/api/v1/tokens', { name: 'ci' });
      assert.equal(crossed.status, 403, "another session's CSRF token does not count");
      const right = await dave.client().post('/api/v1/tokens', { name: 'ci' });
      assert.equal(right.status, 201, right.text);
      assert.equal(right.body.role, 'viewer');
      const forged = await recording({ cookie: 'dw_session=dws_forged', 'x-csrf-token': dave.csrf }).get(
        '/api/v1/tokens',
      );
      assert.equal(forged.status, 401);
    });

    test('a viewer cannot manage users (403), by session or token', async () => {
      const dave = await signIn('zed');
      const bySession = await dave.client().post('/api/v1/users', { username: 'eve', role: 'admin' });
      assert.equal(bySession.status, 403);
      assert.equal(bySession.body.error.code, 'forbidden');
      assert.equal((await dave.client().get('/api/v1/users')).status, 403);
      assert.equal((await api.viewer.post('/api/v1/users', { username: 'eve', role: 'admin' })).status, 403);
      assert.equal((await api.viewer.delete('/api/v1/users/whatever')).status, 403);
    });

    test('sign-out ends the session and clears the cookie; a stale cookie is cleared too', async () => {
      const carol = await signIn('carol');
      const noCsrf = await carol.client(null).post('/api/v1/auth/sign-out');
      assert.equal(noCsrf.status, 403, 'no other site can sign people out');
      const out = await carol.client().post('/api/v1/auth/sign-out');
      assert.equal(out.status, 204);
      assert.match(out.headers.get('set-cookie') ?? '', /^dw_session=;/);
      assert.equal((await carol.client().get('/api/v1/tokens')).status, 401);
      const again = await carol.client(null).post('/api/v1/auth/sign-out');
      assert.equal(again.status, 204, 'an ended session signs out without fuss');
      const count = await api.app.store.db
        .selectFrom('app_sessions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('token_hash', '=', tokenHash(carol.cookie.slice('dw_session='.length)))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 0);
    });

    test('an expired session is refused (401)', async () => {
      const carol = await signIn('carol');
      assert.equal((await carol.client().get('/api/v1/tokens')).status, 200);
      clockOffsetMs = 12 * 3_600_000 + 1000;
      try {
        const res = await carol.client().get('/api/v1/tokens');
        assert.equal(res.status, 401);
        assert.equal(res.body.error.code, 'unauthorized');
        assert.equal((await carol.client().get('/api/v1/auth/session')).body.user, null);
      } finally {
        clockOffsetMs = 0;
      }
    });

    test('changing the own password: the current one is checked, must-change cleared, other sessions end', async () => {
      const first = await signIn('bob');
      const second = await signIn('bob');
      assert.equal((await first.client().get('/api/v1/auth/session')).body.user.mustChangePassword, true);
      const wrong = await first
        .client()
        .post('/api/v1/auth/password', { current: 'nope nope nope', next: 'a new long password' });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error.code, 'wrong_password');
      const weak = await first.client().post('/api/v1/auth/password', { current: PASSWORD, next: 'short' });
      assert.equal(weak.status, 400);
      assert.match(weak.body.error.message, /12 characters/);
      const ok = await first
        .client()
        .post('/api/v1/auth/password', { current: PASSWORD, next: 'a new long password' });
      assert.equal(ok.status, 204, ok.text);
      const state = await first.client().get('/api/v1/auth/session');
      assert.equal(state.body.user.mustChangePassword, false);
      assert.equal((await second.client().get('/api/v1/tokens')).status, 401, 'the other session ended');
      const old = await anon().post('/api/v1/auth/sign-in', { username: 'bob', password: PASSWORD });
      assert.equal(old.status, 401);
      await signIn('bob', 'a new long password');
    });

    test('users: add (one-time password shown once), list with paging, change, remove; the last admin stays', async () => {
      const alice = await signIn('alice');
      const added = await alice.client().post('/api/v1/users', { username: 'Dave', role: 'viewer' });
      assert.equal(added.status, 201, added.text);
      assert.equal(added.body.user.username, 'dave');
      assert.equal(added.body.user.mustChangePassword, true);
      assert.match(added.body.oneTimePassword, /^[A-Za-z0-9_-]{24}$/);
      const dave = await signIn('dave', added.body.oneTimePassword);
      assert.equal((await dave.client().get('/api/v1/auth/session')).body.user.role, 'viewer');
      const dup = await api.admin.post('/api/v1/users', { username: 'dave', role: 'viewer' });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'user_exists');
      const badRole = await api.admin.post('/api/v1/users', { username: 'zed', role: 'root' });
      assert.equal(badRole.status, 400);
      assert.match(badRole.body.error.message, /role/);
      const badName = await api.admin.post('/api/v1/users', { username: 'no spaces', role: 'viewer' });
      assert.equal(badName.status, 400);
      assert.match(badName.body.error.message, /username/);

      const page1 = await api.admin.get('/api/v1/users?limit=2');
      assert.equal(page1.status, 200);
      assert.deepEqual(
        page1.body.items.map((u: { username: string }) => u.username),
        ['alice', 'bob'],
      );
      const page2 = await api.admin.get(`/api/v1/users?limit=2&cursor=${page1.body.nextCursor}`);
      assert.deepEqual(
        page2.body.items.map((u: { username: string }) => u.username),
        ['carol', 'dave'],
      );
      const filtered = await api.admin.get('/api/v1/users?role=admin&sort=-username');
      assert.deepEqual(
        filtered.body.items.map((u: { username: string }) => u.username),
        ['test-admin', 'alice'],
      );
      assert.equal((await api.admin.get('/api/v1/users?sort=password')).status, 400);

      const daveId = added.body.user.id as string;
      const disabled = await alice.client().patch(`/api/v1/users/${daveId}`, { disabled: true });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal(disabled.body.disabled, true);
      assert.equal((await dave.client().get('/api/v1/tokens')).status, 401, 'disabling ends the sessions');
      const refused = await anon().post('/api/v1/auth/sign-in', {
        username: 'dave',
        password: added.body.oneTimePassword,
      });
      assert.equal(refused.status, 401);
      assert.equal((await alice.client().delete(`/api/v1/users/${daveId}`)).status, 204);
      assert.equal((await alice.client().delete(`/api/v1/users/${daveId}`)).status, 404);

      // Two admins (alice, test-admin): alice removes test-admin, then cannot remove, demote or disable herself.
      const users = (await api.admin.get('/api/v1/users?role=admin')).body.items as Array<{
        id: string;
        username: string;
      }>;
      const aliceId = users.find((u) => u.username === 'alice')?.id as string;
      const testAdminId = users.find((u) => u.username === 'test-admin')?.id as string;
      const demoteOther = await alice.client().patch(`/api/v1/users/${testAdminId}`, { role: 'viewer' });
      assert.equal(demoteOther.status, 200);
      for (const [method, body] of [
        ['DELETE', undefined],
        ['PATCH', { role: 'viewer' }],
        ['PATCH', { disabled: true }],
      ] as const) {
        const res = await alice.client().request(method, `/api/v1/users/${aliceId}`, body);
        assert.equal(res.status, 409, `${method} ${JSON.stringify(body)}: ${res.text}`);
        assert.equal(res.body.error.code, 'last_admin');
      }
      assert.equal(
        (await alice.client().patch(`/api/v1/users/${testAdminId}`, { role: 'admin' })).status,
        200,
      );
    });

    test('tokens: the secret is shown once, never listed, works until revoked; viewers manage only their own', async () => {
      const carol = await signIn('carol');
      const created = await carol.client().post('/api/v1/tokens', { name: 'carol script' });
      assert.equal(created.status, 201, created.text);
      const secret = created.body.token as string;
      assert.match(secret, /^dw_[A-Za-z0-9_-]{43}$/);
      assert.equal(created.body.prefix, secret.slice(0, 8));
      const asToken = apiClient(api.url, secret);
      const listed = await asToken.get('/api/v1/tokens');
      remember(listed);
      assert.equal(listed.status, 200);
      assert.deepEqual(
        listed.body.items.map((t: { name: string }) => t.name),
        ['ci', 'carol script'].filter((n) => listed.text.includes(n)),
      );
      assert.ok(
        listed.body.items.every((t: { username: string }) => t.username === 'carol'),
        'a viewer sees only own tokens',
      );
      assert.ok(
        !listed.text.includes(secret) && !listed.text.includes(tokenHash(secret)),
        'no secret, no hash',
      );
      assert.ok(listed.body.items.every((t: object) => !('token' in t)));
      const all = await api.admin.get('/api/v1/tokens?limit=1');
      assert.equal(all.body.items.length, 1);
      assert.ok(all.body.nextCursor, 'admins see every token, paged');
      const adminToken = await carol.client().post('/api/v1/tokens', { name: 'up', role: 'admin' });
      assert.equal(adminToken.status, 403);
      const forOthers = await carol.client().post('/api/v1/tokens', { name: 'x', userId: 'someone' });
      assert.equal(forOthers.status, 403);
      const adminsToken = (await api.admin.get('/api/v1/tokens?sort=name')).body.items.find(
        (t: { username: string }) => t.username === 'test-admin',
      );
      assert.equal(
        (await carol.client().delete(`/api/v1/tokens/${adminsToken.id}`)).status,
        404,
        "not the viewer's",
      );
      const expired = await carol
        .client()
        .post('/api/v1/tokens', { name: 'old', expiresAt: '2020-01-01T00:00:00Z' });
      assert.equal(expired.status, 400);
      assert.match(expired.body.error.message, /expiresAt/);
      assert.equal((await carol.client().delete(`/api/v1/tokens/${created.body.id}`)).status, 204);
      const revoked = await asToken.get('/api/v1/tokens');
      assert.equal(revoked.status, 401);
      assert.equal(revoked.body.error.code, 'unauthorized');
    });

    test('sign-in is throttled after 5 failures for a user and address: 429 rate_limited, even with the right password', async () => {
      for (let i = 0; i < 5; i++) {
        const res = await anon().post('/api/v1/auth/sign-in', { username: 'carol', password: `wrong ${i}` });
        assert.equal(res.status, 401);
      }
      const limited = await anon().post('/api/v1/auth/sign-in', { username: 'carol', password: PASSWORD });
      assert.equal(limited.status, 429);
      assert.equal(limited.body.error.code, 'rate_limited');
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      await signIn('alice');
    });

    test('no answer ever carried a password hash', () => {
      assert.ok(answers.length > 50);
      for (const text of answers) assert.ok(!/scrypt\$/.test(text), text.slice(0, 200));
    });
  });
}

describe('auth routes: the Secure attribute (sqlite)', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi({ config: { auth: { secureCookie: true } } });
    await addTestUser(api.app.store.db, 'alice', 'admin');
  });
  after(() => api?.close());

  test('auth.secureCookie sets Secure even behind a proxy that hides https', async () => {
    const res = await api.anon.post('/api/v1/auth/sign-in', { username: 'alice', password: PASSWORD });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('set-cookie') ?? '', /; Secure/);
  });
});
