import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApi, type TestApi } from '../../../../test/support/api.ts';
import { quietLogger } from '../../../../test/support/logger.ts';
import { testDialects } from '../../../../test/support/store.ts';
import { hashPassword } from '../../../auth/passwords.ts';
import { createUser } from '../../../auth/principals.ts';
import { SubscriptionCache } from '../../../store/subscription-cache.ts';
import { WebhookReceiver } from '../../webhooks/receiver.ts';
import { type RouteAccess, routeAccessTable } from '../access.ts';

/**
 * Every route of the whole server (REST API, web app, webhook receiver, review page, health,
 * docs), enumerated from the server itself, never listed by hand: each route that is not
 * public refuses an anonymous caller (401) and each admin route refuses a viewer (403), by
 * API token and by browser session. Public routes must be in the allow-list below, and unsafe
 * methods under /api/v1 are admin-only unless listed as a viewer's own writes.
 */

/** Routes anyone may call, with why. HEAD follows GET. */
const PUBLIC: Record<string, string> = {
  'GET /healthz': 'health',
  'GET /readyz': 'readiness',
  'GET /openapi.json': 'the API document',
  'GET /docs': 'the API reference (swagger-ui)',
  'GET /docs/*': 'swagger-ui files',
  'POST /webhooks/graph': "Graph's change notifications (validated by clientState)",
  'POST /webhooks/graph/lifecycle': "Graph's lifecycle notifications",
  'GET /review': "the owners' review page (its signed token is the credential)",
  'POST /review': "the owners' review form (same token)",
  'POST /api/v1/auth/sign-in': 'signing in',
  'POST /api/v1/auth/sign-out': 'signing out (a live session still needs its CSRF token)',
  'GET /api/v1/auth/session': 'who is signed in, null when nobody',
  'GET /api/v1/auth/sso/start':
    'sign-in with Microsoft: the redirect to Entra ID, before anyone is signed in',
  'GET /api/v1/auth/sso/callback':
    "Microsoft's sign-in redirect: no SameSite=Strict cookie on a cross-site navigation; the browser's binding cookie and the single-use state are the credential",
  'GET /api/v1/connect/microsoft/callback':
    "Microsoft's consent redirect: no SameSite=Strict cookie on a cross-site navigation; the single-use state is the credential",
  'GET /': 'the web app',
  'GET /*': "the web app's files and deep links",
};
/** Prefixes whose GET routes are public (swagger-ui's static files). */
const PUBLIC_PREFIXES = ['/docs/'];

/** Writes under /api/v1 a viewer may make: on their own things only, or reads that need a body. */
const VIEWER_WRITES = new Set([
  'POST /api/v1/auth/password',
  'POST /api/v1/tokens',
  'DELETE /api/v1/tokens/:id',
  'POST /api/v1/query',
  'POST /api/v1/query/export',
]);

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const isPublicAllowed = (route: RouteAccess) => {
  const method = route.method === 'HEAD' ? 'GET' : route.method;
  return (
    `${method} ${route.url}` in PUBLIC ||
    (method === 'GET' && PUBLIC_PREFIXES.some((p) => route.url.startsWith(p)))
  );
};

/** A concrete path for a route's pattern: every parameter and wildcard filled with "1". */
const pathOf = (url: string) => url.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, '1').replace(/\*$/, '1');

interface Answer {
  status: number;
  code?: string;
  message?: string;
}

/** One request, reading the error body when there is one; streams (SSE) are cut after 3 s (status 0). */
async function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
): Promise<Answer> {
  const unsafe = UNSAFE.has(method);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 3_000);
  try {
    const res = await fetch(new URL(path, base), {
      method,
      headers: { ...headers, ...(unsafe ? { 'content-type': 'application/json' } : {}) },
      body: unsafe ? '{}' : undefined,
      signal: abort.signal,
    });
    if (!(res.headers.get('content-type') ?? '').includes('json') || method === 'HEAD') {
      await res.body?.cancel();
      return { status: res.status };
    }
    const body = (await res.json()) as { error?: { code: string; message: string } };
    return { status: res.status, code: body.error?.code, message: body.error?.message };
  } catch (err) {
    // Still open after 3 s: a stream (SSE) that the access hook let through (it refuses at once).
    if (abort.signal.aborted) return { status: 0, message: 'open stream' };
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

for (const dialect of testDialects()) {
  describe(`every route refuses whom it should (${dialect})`, () => {
    let api: TestApi;
    let receiver: WebhookReceiver | undefined;
    const webDir = mkdtempSync(join(tmpdir(), 'dw-web-'));
    let routes: RouteAccess[] = [];
    let viewerSession: Record<string, string>;

    before(async () => {
      api = await startTestApi({
        dialect,
        api: { webDir },
        server: (db) => {
          receiver = new WebhookReceiver({
            db,
            cache: new SubscriptionCache(db),
            logger: quietLogger,
            flushIntervalMs: 60_000,
          });
          return {
            receiver,
            reviews: {
              db,
              key: randomBytes(32),
              decide: async () => {
                throw new Error('no decision in this test');
              },
            },
          };
        },
      });
      routes = routeAccessTable(api.server);
      // A viewer signed in by browser: the session path of the access hook, not only tokens.
      const db = api.app.store.db;
      const password = 'viewer password 1';
      await createUser(db, { username: 'browser-viewer', password, role: 'viewer' });
      const signIn = await api.anon.post('/api/v1/auth/sign-in', { username: 'browser-viewer', password });
      assert.equal(signIn.status, 200, signIn.text);
      viewerSession = {
        cookie: (signIn.headers.get('set-cookie') ?? '').split(';')[0],
        'x-csrf-token': signIn.body.csrfToken,
      };
    });
    after(async () => {
      await receiver?.close();
      await api?.close();
      rmSync(webDir, { recursive: true, force: true });
    });

    test('the route table is the whole server', () => {
      const has = (method: string, url: string) => routes.some((r) => r.method === method && r.url === url);
      for (const [method, url] of [
        ['GET', '/healthz'],
        ['GET', '/openapi.json'],
        ['GET', '/docs'],
        ['POST', '/webhooks/graph'],
        ['GET', '/review'],
        ['POST', '/api/v1/auth/sign-in'],
        ['GET', '/api/v1/users'],
        ['DELETE', '/api/v1/tokens/:id'],
      ])
        assert.ok(has(method, url), `${method} ${url} in the table`);
      assert.ok(routes.length >= 20, `${routes.length} routes`);
      for (const route of routes) {
        const found = api.server.findRoute({ method: route.method as 'GET', url: pathOf(route.url) });
        assert.ok(found, `${route.method} ${pathOf(route.url)} reaches a route`);
      }
    });

    test('public routes are only those allowed', () => {
      const extra = routes.filter((r) => r.access === 'public' && !isPublicAllowed(r));
      assert.deepEqual(
        extra.map((r) => `${r.method} ${r.url}`),
        [],
        'a new public route must be added to PUBLIC with why',
      );
    });

    test('changes under /api/v1 are admin-only, but for a viewer’s own writes', () => {
      const loose = routes.filter(
        (r) =>
          r.url.startsWith('/api/v1/') &&
          UNSAFE.has(r.method) &&
          r.access === 'viewer' &&
          !VIEWER_WRITES.has(`${r.method} ${r.url}`),
      );
      assert.deepEqual(
        loose.map((r) => `${r.method} ${r.url}`),
        [],
        'a write a viewer may make must be added to VIEWER_WRITES',
      );
    });

    test('every route that is not public refuses an anonymous caller (401)', async () => {
      const guarded = routes.filter((r) => r.access !== 'public');
      assert.ok(guarded.some((r) => r.url === '/api/v1/users'));
      const wrong: string[] = [];
      for (const route of guarded) {
        const answer = await call(api.url, route.method, pathOf(route.url), {});
        if (answer.status !== 401 || (route.method !== 'HEAD' && answer.code !== 'unauthorized'))
          wrong.push(`${route.method} ${route.url}: ${answer.status} ${answer.code ?? ''}`);
      }
      assert.deepEqual(wrong, []);
    });

    test('every admin route refuses a viewer (403), by token and by session', async () => {
      const adminOnly = routes.filter((r) => r.access === 'admin');
      assert.ok(adminOnly.some((r) => r.url === '/api/v1/users/:id'));
      const wrong: string[] = [];
      for (const route of adminOnly) {
        for (const [how, headers] of [
          ['token', { authorization: `Bearer ${api.viewer.token}` }],
          ['session', viewerSession],
        ] as const) {
          const answer = await call(api.url, route.method, pathOf(route.url), headers);
          if (answer.status !== 403 || (route.method !== 'HEAD' && answer.code !== 'forbidden'))
            wrong.push(`${route.method} ${route.url} (${how}): ${answer.status} ${answer.code ?? ''}`);
        }
      }
      assert.deepEqual(wrong, []);
    });

    test('a session that must change its password gets only the password change (403 password_change_required elsewhere)', async () => {
      const db = api.app.store.db;
      const user = await createUser(db, {
        username: 'must-change',
        password: null,
        role: 'admin',
        mustChangePassword: true,
      });
      const password = 'one-time password 1';
      const password_hash = await hashPassword(password, { N: 2 ** 12, r: 8, p: 1 });
      await db.updateTable('app_users').set({ password_hash }).where('id', '=', user.id).execute();
      const signIn = await api.anon.post('/api/v1/auth/sign-in', { username: 'must-change', password });
      assert.equal(signIn.status, 200, signIn.text);
      assert.equal(signIn.body.user.mustChangePassword, true);
      const session = {
        cookie: (signIn.headers.get('set-cookie') ?? '').split(';')[0],
        'x-csrf-token': signIn.body.csrfToken,
      };
      const allowed = (r: RouteAccess) => `${r.method} ${r.url}` === 'POST /api/v1/auth/password';
      const wrong: string[] = [];
      for (const route of routes.filter((r) => r.access !== 'public' && !allowed(r))) {
        const answer = await call(api.url, route.method, pathOf(route.url), session);
        if (answer.status !== 403 || (route.method !== 'HEAD' && answer.code !== 'password_change_required'))
          wrong.push(`${route.method} ${route.url}: ${answer.status} ${answer.code ?? ''}`);
      }
      assert.deepEqual(wrong, []);
      // Reading the session and changing the password are let through; then everything is.
      const read = await call(api.url, 'GET', '/api/v1/auth/session', session);
      assert.equal(read.status, 200);
      const change = await fetch(`${api.url}/api/v1/auth/password`, {
        method: 'POST',
        headers: { ...session, 'content-type': 'application/json' },
        body: JSON.stringify({ current: password, next: 'a password of my own' }),
      });
      assert.equal(change.status, 204, await change.text());
      const after = await call(api.url, 'GET', '/api/v1/users', session);
      assert.equal(after.status, 200);
      const signOut = await call(api.url, 'POST', '/api/v1/auth/sign-out', session);
      assert.equal(signOut.status, 204);
    });

    test('every viewer route lets a viewer through the access check', async () => {
      const wrong: string[] = [];
      for (const route of routes.filter((r) => r.access === 'viewer')) {
        const answer = await call(api.url, route.method, pathOf(route.url), viewerSession);
        const refused =
          answer.status === 401 ||
          (answer.status === 403 && /needs the admin role|x-csrf-token/.test(answer.message ?? ''));
        if (refused) wrong.push(`${route.method} ${route.url}: ${answer.status} ${answer.message ?? ''}`);
      }
      assert.deepEqual(wrong, []);
    });
  });
}
