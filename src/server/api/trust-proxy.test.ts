import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startTestApi, type TestApi } from '../../../test/support/api.ts';

/**
 * Behind a load balancer (`DW_TRUST_PROXY`): the sign-in lockout keys on the client's address
 * from X-Forwarded-For when the proxy is trusted, and ignores that header (which anyone can
 * send) when it is not.
 */
describe('trusted proxy and the sign-in lockout', () => {
  const apis: TestApi[] = [];
  after(async () => {
    for (const a of apis) await a.close();
  });

  /** Five wrong passwords for one user from `from`, then one more from `next`: its status. */
  const lockoutThenTry = async (api: TestApi, from: string, next: string): Promise<number> => {
    const signIn = (ip: string) =>
      api.anon.request(
        'POST',
        '/api/v1/auth/sign-in',
        { username: 'admin', password: 'not the password' },
        { 'x-forwarded-for': ip },
      );
    for (let i = 0; i < 5; i++) assert.equal((await signIn(from)).status, 401);
    return (await signIn(next)).status;
  };

  test('trusted (a hop count): another client address behind the balancer is not locked out', async () => {
    const api = await startTestApi({ config: { server: { trustProxy: 1 } } });
    apis.push(api);
    assert.equal(await lockoutThenTry(api, '203.0.113.7', '203.0.113.7'), 429, 'the same client is locked');
    assert.equal(await lockoutThenTry(api, '198.51.100.1', '198.51.100.2'), 401, 'another client is not');
  });

  test('not trusted (the default): a forged X-Forwarded-For does not escape the lockout', async () => {
    const api = await startTestApi({});
    apis.push(api);
    assert.equal(api.app.config.server.trustProxy, false);
    assert.equal(await lockoutThenTry(api, '203.0.113.7', '198.51.100.9'), 429);
  });
});
