import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestApi, type TestApi } from '../../test/support/api.ts';

/**
 * The web app's static serving on a real server (src/server/web.ts): the build's files, the
 * SPA fallback for app paths, JSON 404s under /api and for missing assets, cache headers,
 * the page's CSP, and a clear answer when the app was not built.
 */
describe('web app serving', () => {
  let api: TestApi;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dw-web-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(
      join(dir, 'index.html'),
      '<!doctype html><div id="root"></div><script src="/assets/index-AbC123.js"></script>',
    );
    writeFileSync(join(dir, 'assets', 'index-AbC123.js'), 'console.log("app")');
    writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    api = await startTestApi({ api: { webDir: dir } });
  });
  after(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('/ serves index.html to anyone, never cached, with a strict CSP', async () => {
    const res = await api.anon.get('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/);
    assert.match(res.text, /<div id="root">/);
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
  });

  test('app paths (deep links, reloads) get index.html', async () => {
    for (const path of ['/inventory', '/inventory/items/int-1/01ABC%21x', '/findings/12?status=open']) {
      const res = await api.anon.get(path);
      assert.equal(res.status, 200, path);
      assert.match(res.text, /<div id="root">/, path);
    }
  });

  test('hashed assets are cached for a year; other files for an hour', async () => {
    const js = await api.anon.get('/assets/index-AbC123.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(js.text, 'console.log("app")');
    const icon = await api.anon.get('/favicon.svg');
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('cache-control'), 'public, max-age=3600');
  });

  test('a missing asset is a JSON 404, not the page', async () => {
    const res = await api.anon.get('/assets/index-old999.js');
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'not_found');
    assert.equal((await api.anon.get('/robots.txt')).status, 404);
  });

  test('paths outside the build are not served', async () => {
    const res = await api.anon.get('/..%2f..%2fpackage.json');
    assert.equal(res.status, 404);
    assert.notEqual(res.headers.get('content-type')?.includes('html'), true);
  });

  test('unknown /api paths stay JSON: 404 when signed in, 401 for anonymous callers', async () => {
    const signedIn = await api.admin.get('/api/v1/no-such-thing');
    assert.equal(signedIn.status, 404);
    assert.equal(signedIn.body.error.code, 'not_found');
    assert.match(signedIn.body.error.message, /no route GET \/api\/v1\/no-such-thing/);
    const anon = await api.anon.get('/api/v1/no-such-thing');
    assert.equal(anon.status, 401);
    assert.equal(anon.body.error.code, 'unauthorized');
  });

  test('the API, health and the OpenAPI document keep their routes', async () => {
    assert.equal((await api.anon.get('/healthz')).status, 200);
    assert.equal((await api.anon.get('/openapi.json')).body.openapi, '3.0.3');
  });
});

describe('web app not built', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi({ api: { webDir: join(tmpdir(), 'dw-web-missing-build') } });
  });
  after(() => api?.close());

  test('/ and app paths say how to build it; /api stays JSON', async () => {
    for (const path of ['/', '/inventory']) {
      const res = await api.anon.get(path);
      assert.equal(res.status, 503, path);
      assert.match(res.text, /npm run build:web/, path);
    }
    assert.equal((await api.admin.get('/api/v1/nope')).body.error.code, 'not_found');
  });
});
