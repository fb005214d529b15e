import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SignInLimited, SignInLimiter } from './sign-in-limiter.ts';

/** The sign-in throttle with a moved clock: lockout per user and address, per address, the window, concurrency. */
describe('sign-in limiter', () => {
  const fail = async () => null;
  const pass = async () => 'ok';

  test('5 failures lock the user at that address until the oldest leaves the 15-minute window', async () => {
    let now = 0;
    const limiter = new SignInLimiter({ now: () => now });
    for (let i = 0; i < 5; i++) {
      assert.equal(await limiter.attempt('alice', '10.0.0.1', fail), null);
      now += 60_000;
    }
    let checked = false;
    await assert.rejects(
      limiter.attempt('Alice', '10.0.0.1', async () => {
        checked = true;
        return 'ok';
      }),
      (err) => err instanceof SignInLimited && err.retryAfterSeconds === 600,
    );
    assert.equal(checked, false, 'a locked attempt never reaches the password check');
    assert.equal(await limiter.attempt('alice', '10.0.0.2', pass), 'ok', 'another address is not locked');
    assert.equal(await limiter.attempt('bob', '10.0.0.1', pass), 'ok', 'another user is not locked');
    now = 15 * 60_000 + 1;
    assert.equal(await limiter.attempt('alice', '10.0.0.1', pass), 'ok', 'the first failure left the window');
  });

  test('a success clears the pair; many usernames from one address lock the address', async () => {
    let now = 0;
    const limiter = new SignInLimiter({ now: () => now, perAddress: 8 });
    for (let i = 0; i < 4; i++) await limiter.attempt('alice', 'a', fail);
    await limiter.attempt('alice', 'a', pass);
    for (let i = 0; i < 3; i++) await limiter.attempt('alice', 'a', fail);
    assert.equal(
      await limiter.attempt('alice', 'a', pass),
      'ok',
      'the count started again after the success',
    );
    await limiter.attempt('u1', 'a', fail);
    await assert.rejects(limiter.attempt('u2', 'a', pass), /from this address/);
    now += 16 * 60_000;
    assert.equal(await limiter.attempt('u2', 'a', pass), 'ok');
  });

  test('at most `concurrent` checks run; `queue` more wait; the rest are refused', async () => {
    const limiter = new SignInLimiter({ concurrent: 2, queue: 1 });
    let running = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    const slow = () =>
      new Promise<string>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        releases.push(() => {
          running--;
          resolve('ok');
        });
      });
    const a = limiter.attempt('a', 'x', slow);
    const b = limiter.attempt('b', 'x', slow);
    const c = limiter.attempt('c', 'x', slow);
    await assert.rejects(limiter.attempt('d', 'x', slow), /at once/);
    await new Promise((r) => setImmediate(r));
    assert.equal(releases.length, 2, 'the third waits');
    releases.shift()?.();
    await new Promise((r) => setImmediate(r));
    assert.equal(releases.length, 2, 'the third started when one ended');
    for (const release of releases.splice(0)) release();
    assert.deepEqual(await Promise.all([a, b, c]), ['ok', 'ok', 'ok']);
    assert.equal(peak, 2);
  });
});
