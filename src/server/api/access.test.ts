import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { startTestApi, type TestApi } from '../../../test/support/api.ts';
import { testDialects } from '../../../test/support/store.ts';
import { ApiError } from './errors.ts';
import { listQuerySchema, pageSchema } from './pagination.ts';
import type { ZodApp } from './zod-app.ts';

/**
 * The API's frame on a real server, both dialects: anonymous callers refused, viewers refused
 * on admin routes, undeclared routes admin-only, one error shape, zod validation naming the
 * field, the OpenAPI document public.
 */
for (const dialect of testDialects()) {
  describe(`API frame (${dialect})`, () => {
    let api: TestApi;
    before(async () => {
      api = await startTestApi({ dialect });
    });
    after(() => api?.close());

    test('the OpenAPI document and health are public; API routes are not', async () => {
      const doc = await api.anon.get('/openapi.json');
      assert.equal(doc.status, 200);
      assert.equal(doc.body.openapi, '3.0.3');
      assert.equal((await api.anon.get('/healthz')).status, 200);
    });

    test('an unknown route answers 404 in the error shape', async () => {
      const res = await api.admin.get('/api/v1/nope');
      assert.equal(res.status, 404);
      assert.equal(res.body.error.code, 'not_found');
      assert.match(res.body.error.requestId, /\S/);
    });

    test('a malformed bearer token is refused with a message naming the header', async () => {
      const res = await api.anon.request('GET', '/api/v1/nope', undefined, { authorization: 'Bearer nope' });
      assert.equal(res.status, 401, 'unknown paths are not revealed to anonymous callers');
      assert.match(res.body.error.message, /^authorization: /);
      const bad = await api.anon.request('GET', '/openapi.json', undefined, { authorization: 'Basic abc' });
      assert.equal(bad.status, 200, 'public routes ignore bad credentials');
    });
  });
}

describe('API access declarations (sqlite)', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi({});
  });
  after(() => api?.close());

  test('anonymous → 401, viewer on admin → 403, undeclared → admin-only, validation → 400 naming the field', async () => {
    // A second server on the same store, with test routes: one per access level and one that declares none.
    const { createServer } = await import('../app.ts');
    const server = await createServer({
      config: api.app.config,
      store: api.app.store,
      logger: api.app.logger,
      deps: {
        api: {
          config: api.app.config,
          db: api.app.store.db,
          dialect: 'sqlite',
          commands: { run: async () => ({}) as never },
          logger: api.app.logger,
        },
      },
    });
    const z_ = server as unknown as ZodApp;
    z_.get('/t/viewer', { config: { access: 'viewer' } }, async () => ({ ok: true }));
    z_.post('/t/admin', { config: { access: 'admin' } }, async () => ({ ok: true }));
    z_.post('/t/undeclared', async () => ({ ok: true }));
    z_.get(
      '/t/list',
      {
        config: { access: 'viewer' },
        schema: { querystring: listQuerySchema, response: { 200: pageSchema(z.object({ n: z.number() })) } },
      },
      async (req) => ({ items: [{ n: req.query.limit }], nextCursor: null }),
    );
    z_.get('/t/throws', { config: { access: 'viewer' } }, async () => {
      throw new ApiError(409, 'conflict', 'already there');
    });
    await server.listen({ host: '127.0.0.1', port: 0 });
    const { apiClient } = await import('../../../test/support/api.ts');
    const port = (server.server.address() as { port: number }).port;
    const url = `http://127.0.0.1:${port}`;
    const anon = apiClient(url);
    const viewer = apiClient(url, api.viewer.token);
    const admin = apiClient(url, api.admin.token);
    try {
      assert.equal((await anon.get('/t/viewer')).status, 401);
      assert.equal((await anon.get('/t/viewer')).body.error.code, 'unauthorized');
      assert.equal((await viewer.get('/t/viewer')).status, 200);
      assert.equal((await viewer.post('/t/admin')).status, 403);
      assert.equal((await viewer.post('/t/admin')).body.error.code, 'forbidden');
      assert.equal((await admin.post('/t/admin')).status, 200);
      assert.equal((await viewer.post('/t/undeclared')).status, 403, 'undeclared = admin-only');
      assert.equal((await admin.post('/t/undeclared')).status, 200);
      const bad = await viewer.get('/t/list?limit=9999');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'invalid_request');
      assert.match(bad.body.error.message, /limit/);
      assert.deepEqual((await viewer.get('/t/list?limit=7')).body, { items: [{ n: 7 }], nextCursor: null });
      const conflict = await viewer.get('/t/throws');
      assert.equal(conflict.status, 409);
      assert.deepEqual(
        { code: conflict.body.error.code, message: conflict.body.error.message },
        { code: 'conflict', message: 'already there' },
      );
      const revoked = apiClient(url, 'dw_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      assert.equal((await revoked.get('/t/viewer')).status, 401);
    } finally {
      await server.close();
    }
  });
});
