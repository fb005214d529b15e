import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { quietLogger } from '../../../test/support/logger.ts';
import { freePort } from '../../../test/support/ports.ts';
import { waitFor } from '../../../test/support/wait.ts';
import { idleHooks, localCommandBus } from '../../app/commands/local-bus.ts';
import { openApp } from '../../app/context.ts';
import { createApiToken, createUser, principalOfApiToken } from '../../auth/principals.ts';
import { startService } from '../service.ts';
import { TokenUseRecorder } from './token-use.ts';

/**
 * API tokens' `last_used_at`: on `serve` the API runs on the server thread with a read-only
 * store, so the use is written by the main thread (a command), once a minute per token at most.
 */
describe('API token last use', () => {
  test('is written through the main thread when `serve` answers a token, once a minute at most', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-token-use-'));
    const port = await freePort();
    const app = await openApp({ dataDir: dir, logLevel: 'silent', 'server.port': port });
    const db = app.store.db;
    const user = await createUser(db, { username: 'robot', password: null, role: 'viewer' });
    const a = await createApiToken(db, { userId: user.id, name: 'a', role: 'viewer' });
    const b = await createApiToken(db, { userId: user.id, name: 'b', role: 'viewer' });
    const lastUsed = async (id: string) =>
      (
        await db
          .selectFrom('api_tokens')
          .select('last_used_at')
          .where('id', '=', id)
          .executeTakeFirstOrThrow()
      ).last_used_at;
    const service = await startService(app, {
      listen: { host: '127.0.0.1', port },
      rules: false,
      alerts: false,
      initialSync: false,
    });
    try {
      await service.ready;
      const get = (token: string) =>
        fetch(`${service.realtime.url}/api/v1/tokens`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(await lastUsed(a.id), null);
      const before = new Date(Date.now() - 1000).toISOString();
      const first = await get(a.token);
      assert.equal(first.status, 200, await first.text());
      const written = await waitFor('token a’s last use', () => lastUsed(a.id));
      assert.ok(new Date(written) >= new Date(before), `${written} is this use`);

      // Used again within the minute: not sent. Token b's first use, sent after it, is the barrier.
      assert.equal((await get(a.token)).status, 200);
      assert.equal((await get(b.token)).status, 200);
      await waitFor('token b’s last use', () => lastUsed(b.id));
      assert.equal(await lastUsed(a.id), written);
      const listed = (await (await get(b.token)).json()) as {
        items: { id: string; lastUsedAt: string | null }[];
      };
      assert.ok(listed.items.find((t) => t.id === a.id)?.lastUsedAt, 'the list shows it');
    } finally {
      await service.close();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the recorder sends a token’s use again once a minute has passed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-token-use-'));
    const app = await openApp({ dataDir: dir, logLevel: 'silent' });
    try {
      const db = app.store.db;
      const user = await createUser(db, { username: 'robot', password: null, role: 'viewer' });
      const { id, token } = await createApiToken(db, { userId: user.id, name: 'a', role: 'viewer' });
      const principal = await principalOfApiToken(db, token, new Date());
      assert.ok(principal);
      const noContext = async (): Promise<never> => {
        throw new Error('no sync context');
      };
      const recorder = new TokenUseRecorder(localCommandBus(app, idleHooks(noContext)), quietLogger);
      const lastUsed = async () =>
        (
          await db
            .selectFrom('api_tokens')
            .select('last_used_at')
            .where('id', '=', id)
            .executeTakeFirstOrThrow()
        ).last_used_at;
      const t0 = new Date('2026-01-01T10:00:00.000Z');
      recorder.used(principal, t0);
      await waitFor('the first use', async () => (await lastUsed()) === t0.toISOString());
      recorder.used(principal, new Date(t0.getTime() + 30_000));
      // Another token's use, sent after it, is the barrier: the half-minute use was not sent.
      const other = await createApiToken(db, { userId: user.id, name: 'b', role: 'viewer' });
      const otherPrincipal = await principalOfApiToken(db, other.token, new Date());
      assert.ok(otherPrincipal);
      recorder.used(otherPrincipal, t0);
      await waitFor('the other token’s use', async () =>
        Boolean(
          (
            await db
              .selectFrom('api_tokens')
              .select('last_used_at')
              .where('id', '=', other.id)
              .executeTakeFirst()
          )?.last_used_at,
        ),
      );
      assert.equal(await lastUsed(), t0.toISOString());
      const later = new Date(t0.getTime() + 61_000);
      recorder.used(principal, later);
      await waitFor('the use a minute later', async () => (await lastUsed()) === later.toISOString());
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
