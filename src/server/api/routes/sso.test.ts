import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import type { SimIdTokenTamper } from '../../../../sim/contracts.ts';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { startTestSim, type TestSim } from '../../../../test/support/simulator.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { createUser } from '../../../auth/principals.ts';

/**
 * Sign-in with Microsoft against the simulator's Entra ID, over real HTTP on both sides (the
 * API, the simulator's authorize and token endpoints, discovery and JWKS): the whole flow gives
 * a working session with the mapped role, and each way an answer can be wrong is refused with
 * a message on the sign-in page and no session.
 */

const OTHER_TENANT = '99999999-8888-7777-6666-555555555555';

interface Flow {
  /** The sign-in page's error (?sso_error=…), when the callback refused. */
  error?: string;
  /** The session cookie (name=value), when it signed in. */
  session?: string;
  /** The callback URL Microsoft sent the browser to, and the binding cookie sent with it. */
  callback: string;
  binding: string;
}

function cookieOf(
  headers: Headers | Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const raw =
    headers instanceof Headers
      ? headers.getSetCookie()
      : ([] as string[]).concat(headers['set-cookie'] ?? []);
  const found = raw.find((c) => c.startsWith(`${name}=`));
  return found?.split(';')[0];
}

for (const dialect of testDialects()) {
  describe(`sign-in with Microsoft (${dialect})`, () => {
    let ts: TestSim;
    let api: TestApi;
    let upns: string[];
    const admin = () => upns[0];
    const viewer = () => upns[1];
    const nobody = () => upns[2];

    before(async () => {
      ts = await startTestSim({ users: 6, items: 40 });
      upns = (await ts.admin.users())
        .filter((u) => u.userType === 'Member' && u.accountEnabled)
        .map((u) => u.userPrincipalName);
      await ts.admin.signIn({
        autoUser: admin(),
        appRoles: { [admin()]: ['drivewarden.admin'], [viewer()]: ['drivewarden.viewer'] },
      });
      api = await startTestApi({
        dialect,
        config: {
          auth: {
            sso: {
              enabled: true,
              authority: ts.sim.authorityUrl,
              tenant: ts.sim.tenantId,
              clientId: ts.sim.clientId,
              clientSecret: ts.sim.clientSecret,
              caFile: ts.sim.caCertPath,
            },
          },
        },
      });
    });
    after(async () => {
      await api?.close();
      await ts?.close();
    });

    /** Start → Microsoft's authorize (automatic user) → the callback, as a browser would follow them. */
    async function signIn(
      as: string,
      tamper: SimIdTokenTamper | null = null,
      callback?: (url: string, binding: string) => { url: string; binding: string },
    ): Promise<Flow> {
      await ts.admin.signIn({ autoUser: as, tamperNextIdToken: tamper });
      const start = await fetch(`${api.url}/api/v1/auth/sso/start`, { redirect: 'manual' });
      assert.equal(start.status, 302, await start.text());
      const authorize = start.headers.get('location') ?? '';
      const binding = cookieOf(start.headers, 'dw_sso') ?? '';
      assert.ok(binding, 'the start sets the binding cookie');
      assert.ok(authorize.startsWith(`${ts.sim.authorityUrl}/${ts.sim.tenantId}/oauth2/v2.0/authorize?`));
      const ms = await request(authorize, { dispatcher: ts.agent });
      await ms.body.text();
      assert.equal(ms.statusCode, 302);
      let back = { url: String(ms.headers.location), binding };
      if (callback) back = callback(back.url, back.binding);
      const answer = await fetch(back.url, { redirect: 'manual', headers: { cookie: back.binding } });
      const text = await answer.text();
      const flow: Flow = { callback: back.url, binding: back.binding };
      if (answer.status === 302) {
        const location = new URL(answer.headers.get('location') ?? '', api.url);
        assert.equal(location.pathname, '/sign-in');
        flow.error = location.searchParams.get('sso_error') ?? '';
        assert.equal(cookieOf(answer.headers, 'dw_session'), undefined, 'no session on a refusal');
      } else {
        assert.equal(answer.status, 200, text);
        flow.session = cookieOf(answer.headers, 'dw_session');
        assert.match(text, /http-equiv="refresh" content="0;url=\/"/);
      }
      return flow;
    }

    const sessionOf = async (cookie: string) =>
      (await (await fetch(`${api.url}/api/v1/auth/session`, { headers: { cookie } })).json()) as {
        user: { username: string; role: string; mustChangePassword: boolean } | null;
        csrfToken: string | null;
        sso: { enabled: boolean };
      };

    test('the session reports sign-in with Microsoft as offered', async () => {
      const anon = await api.anon.get('/api/v1/auth/session');
      assert.deepEqual(anon.body.sso, { enabled: true });
    });

    test('the full flow signs in with the mapped role and a working session', async () => {
      const start = await fetch(`${api.url}/api/v1/auth/sso/start`, { redirect: 'manual' });
      const setCookie = start.headers.getSetCookie().find((c) => c.startsWith('dw_sso=')) ?? '';
      assert.match(setCookie, /HttpOnly/i);
      assert.match(setCookie, /SameSite=Lax/i);
      assert.match(setCookie, /Path=\/api\/v1\/auth\/sso\/callback/);
      assert.match(setCookie, /Max-Age=600/);
      const authorize = new URL(start.headers.get('location') ?? '');
      assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
      assert.ok(authorize.searchParams.get('nonce'));
      assert.equal(authorize.searchParams.get('redirect_uri'), `${api.url}/api/v1/auth/sso/callback`);
      await start.body?.cancel();

      const flow = await signIn(admin());
      assert.equal(flow.error, undefined);
      assert.ok(flow.session);
      const session = await sessionOf(flow.session);
      assert.equal(session.user?.username, admin().toLowerCase());
      assert.equal(session.user?.role, 'admin');
      assert.equal(session.user?.mustChangePassword, false);
      // The same kind of session as a password sign-in: an admin route and a CSRF-checked write work.
      const users = await fetch(`${api.url}/api/v1/users`, { headers: { cookie: flow.session } });
      assert.equal(users.status, 200);
      const token = await fetch(`${api.url}/api/v1/tokens`, {
        method: 'POST',
        headers: {
          cookie: flow.session,
          'x-csrf-token': session.csrfToken ?? '',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name: 'from sso' }),
      });
      assert.equal(token.status, 201);
      const row = await api.app.store.db
        .selectFrom('sso_identities as i')
        .innerJoin('app_users as u', 'u.id', 'i.user_id')
        .select(['u.username', 'u.password_hash', 'u.external_id', 'i.tenant_id', 'i.issuer'])
        .where('u.username', '=', admin().toLowerCase())
        .executeTakeFirstOrThrow();
      assert.equal(row.password_hash, null, 'an Entra user has no password');
      assert.equal(row.tenant_id, ts.sim.tenantId);
      assert.equal(row.issuer, `${ts.sim.authorityUrl}/${ts.sim.tenantId}/v2.0`);

      // Signing in again uses the same linked user; the role follows Entra's assignment.
      await ts.admin.signIn({ appRoles: { [admin()]: ['drivewarden.viewer'] } });
      const again = await signIn(admin());
      assert.equal((await sessionOf(again.session ?? '')).user?.role, 'viewer');
      const count = await api.app.store.db
        .selectFrom('app_users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('username', '=', admin().toLowerCase())
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 1);
      await ts.admin.signIn({ appRoles: { [admin()]: ['drivewarden.admin'] } });
    });

    test('a viewer app role signs in as a viewer', async () => {
      const flow = await signIn(viewer());
      assert.equal((await sessionOf(flow.session ?? '')).user?.role, 'viewer');
      const users = await fetch(`${api.url}/api/v1/users`, { headers: { cookie: flow.session ?? '' } });
      assert.equal(users.status, 403);
    });

    test('a user without a mapped role is refused with a clear message', async () => {
      const flow = await signIn(nobody());
      assert.match(flow.error ?? '', new RegExp(`${nobody()} has no drivewarden role`, 'i'));
      assert.match(flow.error ?? '', /drivewarden\.admin or drivewarden\.viewer/);
      const row = await api.app.store.db
        .selectFrom('app_users')
        .select('id')
        .where('username', '=', nobody().toLowerCase())
        .executeTakeFirst();
      assert.equal(row, undefined, 'no user created');
    });

    test('a forged signature is refused', async () => {
      const flow = await signIn(admin(), { forgeSignature: true });
      assert.match(flow.error ?? '', /could not be verified: .*signature/i);
    });

    test('a wrong audience is refused', async () => {
      const flow = await signIn(admin(), { aud: '00000000-1111-2222-3333-444444444444' });
      assert.match(flow.error ?? '', /could not be verified: .*"aud"/);
    });

    test('a wrong issuer (another tenant) is refused', async () => {
      const flow = await signIn(admin(), { tid: OTHER_TENANT });
      assert.match(flow.error ?? '', /could not be verified: .*"iss"/);
    });

    test('an expired token is refused', async () => {
      const flow = await signIn(admin(), { expiresInSeconds: -600 });
      assert.match(flow.error ?? '', /could not be verified: .*"exp"/);
    });

    test('a wrong nonce is refused', async () => {
      const flow = await signIn(admin(), { nonce: 'not-the-nonce' });
      assert.match(flow.error ?? '', /could not be verified: .*"nonce"/);
    });

    test('a replayed answer is refused, and so is one with another state', async () => {
      const first = await signIn(admin());
      assert.ok(first.session);
      const replay = await fetch(first.callback, { redirect: 'manual', headers: { cookie: first.binding } });
      const location = new URL(replay.headers.get('location') ?? '', api.url);
      assert.match(location.searchParams.get('sso_error') ?? '', /unknown, expired or already used/);
      assert.equal(cookieOf(replay.headers, 'dw_session'), undefined);

      const wrong = await signIn(admin(), null, (url, binding) => {
        const u = new URL(url);
        u.searchParams.set('state', 'x'.repeat(43));
        return { url: u.href, binding };
      });
      assert.match(wrong.error ?? '', /does not belong to the sign-in this browser started/);

      // Another browser's answer (its binding cookie is not ours) is refused the same way.
      const other = await signIn(admin(), null, (url) => ({
        url,
        binding: 'dw_sso=someone-elses-binding-value-xx',
      }));
      assert.match(other.error ?? '', /does not belong to the sign-in this browser started/);
      const noCookie = await signIn(admin(), null, (url) => ({ url, binding: '' }));
      assert.match(noCookie.error ?? '', /did not start in this browser/);
    });

    test('a tenant outside the allowed list is refused', async () => {
      // The running server's settings (the same object the commands read), put back after.
      const sso = api.app.config.auth.sso;
      sso.allowedTenants = [OTHER_TENANT];
      try {
        const flow = await signIn(admin());
        assert.match(flow.error ?? '', new RegExp(`tenant ${ts.sim.tenantId} may not sign in here`));
      } finally {
        sso.allowedTenants = [];
      }
    });

    test('a local user with the same name is never taken over', async () => {
      const upn = upns[3];
      await ts.admin.signIn({ appRoles: { [upn]: ['drivewarden.admin'] } });
      await createUser(api.app.store.db, { username: upn, password: null, role: 'viewer' });
      const flow = await signIn(upn);
      assert.match(flow.error ?? '', /exists already and is not linked to this Microsoft account/);
    });

    test('a redirect URI the app registration does not list gets AADSTS50011, not a redirect', async () => {
      const start = await fetch(`${api.url}/api/v1/auth/sso/start`, { redirect: 'manual' });
      await start.body?.cancel();
      const authorize = new URL(start.headers.get('location') ?? '');
      authorize.searchParams.set('redirect_uri', 'http://evil.example/callback');
      const ms = await request(authorize, { dispatcher: ts.agent });
      const page = await ms.body.text();
      assert.equal(ms.statusCode, 400);
      assert.match(page, /AADSTS50011/);
    });
  });
}
