import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type HttpReceiver, startHttpReceiver } from '../../test/support/alert-receivers.ts';
import { DeliveryError } from './delivery-error.ts';
import { guardedPost } from './http-post.ts';
import { classifyAddress, OutboundGuard, OutboundRefusedError } from './outbound-guard.ts';

describe('outbound guard', () => {
  it('classifies addresses, IPv4 embedded in IPv6 included', () => {
    const cases: Array<[string, string]> = [
      ['8.8.8.8', 'public'],
      ['2606:4700:4700::1111', 'public'],
      ['127.0.0.1', 'loopback'],
      ['127.9.9.9', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:7f00:1', 'loopback'],
      ['64:ff9b::7f00:1', 'loopback'],
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['100.64.0.1', 'private'],
      ['fd12:3456::1', 'private'],
      ['2002:c0a8:0101::1', 'private'],
      ['169.254.1.1', 'link-local'],
      ['fe80::1%eth0', 'link-local'],
      ['169.254.169.254', 'metadata'],
      ['::ffff:169.254.169.254', 'metadata'],
      ['fd00:ec2::254', 'metadata'],
      ['168.63.129.16', 'metadata'],
      ['100.100.100.200', 'metadata'],
      ['0.0.0.0', 'reserved'],
      ['::', 'reserved'],
      ['224.0.0.1', 'reserved'],
    ];
    for (const [address, cls] of cases) assert.equal(classifyAddress(address), cls, address);
  });

  it('refuses other schemes and non-public literal addresses unless allowed', () => {
    const strict = new OutboundGuard(false);
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'gopher://example.com/'])
      assert.throws(() => strict.checkUrl(url), /only http and https/);
    for (const url of [
      'http://127.0.0.1:8080/hook',
      'http://[::1]/hook',
      'http://[::ffff:127.0.0.1]/hook',
      'http://10.0.0.5/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://0.0.0.0/',
    ])
      assert.throws(() => strict.checkUrl(url), OutboundRefusedError, url);
    assert.equal(strict.checkUrl('https://93.184.215.14/hook').hostname, '93.184.215.14');

    const open = new OutboundGuard(true);
    open.checkUrl('http://127.0.0.1:8080/hook');
    open.checkUrl('http://10.0.0.5/hook');
    assert.throws(
      () => open.checkUrl('http://169.254.169.254/'),
      /metadata .* only reachable when alerts\.allowPrivateTargets lists them/,
    );

    const listed = new OutboundGuard(['10.0.0.0/8', '169.254.169.254']);
    listed.checkUrl('http://10.9.8.7/');
    listed.checkUrl('http://169.254.169.254/');
    assert.throws(() => listed.checkUrl('http://127.0.0.1/'), /loopback/);
  });

  it('checks the address actually connected to: a name resolving to loopback is refused at connect', async () => {
    const receiver = await startHttpReceiver();
    const strict = new OutboundGuard(false);
    try {
      const url = receiver.url.replace('127.0.0.1', 'localhost');
      await assert.rejects(
        guardedPost(url, '{}', { guard: strict, timeoutMs: 2000, headers: {} }),
        (err: DeliveryError) =>
          err instanceof DeliveryError &&
          !err.retryable &&
          /refused to connect to loopback address/.test(err.message),
      );
      await assert.rejects(strict.resolve('localhost'), OutboundRefusedError);
      assert.equal(receiver.requests.length, 0, 'nothing reached the receiver');
    } finally {
      await strict.close();
      await receiver.close();
    }
  });

  describe('redirects', () => {
    let first: HttpReceiver;
    let second: HttpReceiver;
    const guard = new OutboundGuard(['127.0.0.1/32']);
    after(async () => {
      await guard.close();
      await first?.close();
      await second?.close();
    });

    it('follows a 307 only through the guard, and never to a refused address', async () => {
      first = await startHttpReceiver();
      second = await startHttpReceiver();
      first.script({ status: 307, headers: { location: second.url } });
      const ok = await guardedPost(first.url, '{"a":1}', {
        guard,
        timeoutMs: 2000,
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(ok.status, 200);
      assert.equal(second.requests[0].body, '{"a":1}', 'the POST body followed the 307');

      for (const target of [
        'http://169.254.169.254/latest/meta-data/',
        'http://[::1]:9/hook',
        'http://10.0.0.1/',
      ]) {
        first.script({ status: 308, headers: { location: target } });
        await assert.rejects(
          guardedPost(first.url, '{}', { guard, timeoutMs: 2000, headers: {} }),
          (err: DeliveryError) =>
            err instanceof DeliveryError && !err.retryable && /refused/.test(err.message),
          target,
        );
      }
      first.script({
        status: 308,
        headers: { location: second.url.replace('127.0.0.1', 'localhost').replace('http:', 'ftp:') },
      });
      await assert.rejects(
        guardedPost(first.url, '{}', { guard, timeoutMs: 2000, headers: {} }),
        /only http and https/,
      );

      first.script({ status: 302, headers: { location: second.url } });
      await assert.rejects(
        guardedPost(first.url, '{}', { guard, timeoutMs: 2000, headers: {} }),
        /HTTP 302: redirect not followed/,
      );
      assert.equal(second.requests.length, 1, 'only the 307 reached the second receiver');
    });
  });
});
