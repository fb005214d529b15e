import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openStore } from '../../src/store/store.ts';
import { freePort } from './ports.ts';
import { ensureTestPostgres, unreachable } from './postgres-server.ts';
import { TEST_PG_URL } from './store.ts';

/** The PostgreSQL the tests use: the configured server when it answers, else a throwaway one. */
describe('the PostgreSQL of the tests', () => {
  it('uses the configured server when it answers', async () => {
    const server = await ensureTestPostgres(TEST_PG_URL);
    assert.equal(server.embedded, false);
    assert.equal(server.url, TEST_PG_URL);
    await server.stop();
    assert.equal(await unreachable(TEST_PG_URL), undefined, 'stop() leaves a server it did not start alone');
  });

  it('starts a throwaway PostgreSQL 18 when the configured one does not answer, and removes it on stop', async () => {
    const closed = `postgres://postgres@127.0.0.1:${await freePort()}/test`;
    assert.match((await unreachable(closed)) ?? '', /ECONNREFUSED/);
    const server = await ensureTestPostgres(closed);
    try {
      assert.equal(server.embedded, true);
      assert.notEqual(server.url, closed);
      const store = await openStore({
        databaseUrl: server.url,
        schema: 'dw_embedded_check',
        maxConnections: 1,
      });
      try {
        const rows = await store.db
          .selectNoFrom((eb) => eb.fn<string>('current_setting', [eb.val('server_version_num')]).as('v'))
          .execute();
        assert.ok(Number(rows[0]?.v) >= 180000, `PostgreSQL ${rows[0]?.v}`);
        assert.deepEqual(await store.db.selectFrom('integrations').selectAll().execute(), [], 'migrated');
      } finally {
        await store.close();
      }
    } finally {
      await server.stop();
    }
    assert.match((await unreachable(server.url)) ?? '', /ECONNREFUSED/);
  });
});
