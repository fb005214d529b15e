import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import { backoffDelay, MAX_RETRY_AFTER_MS, parseRetryAfter, TenantGate } from './throttle.ts';
import { pathOf } from './transport.ts';

describe('parseRetryAfter', () => {
  it('reads seconds with decimals', () => {
    assert.equal(parseRetryAfter('2.128'), 2128);
    assert.equal(parseRetryAfter('10'), 10_000);
    assert.equal(parseRetryAfter(' 0.5 '), 500);
  });
  it('reads an HTTP date', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:03 GMT', now), 3000);
  });
  it('caps a huge value at 15 minutes (a tenant is never paused without end, no timer overflows)', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('99999999999'), MAX_RETRY_AFTER_MS);
    assert.equal(parseRetryAfter('Fri, 01 Jan 2100 00:00:00 GMT', now), MAX_RETRY_AFTER_MS);
    assert.equal(MAX_RETRY_AFTER_MS, 900_000);
  });
  it('ignores missing or garbage values', () => {
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter(''), undefined);
    assert.equal(parseRetryAfter('soon'), undefined);
  });
});

describe('backoffDelay (full jitter)', () => {
  const opts = { baseMs: 500, capMs: 30_000 };
  it('grows exponentially up to the cap', () => {
    const top = () => 0.999999;
    assert.equal(backoffDelay(0, opts, top), 499);
    assert.equal(backoffDelay(1, opts, top), 999);
    assert.equal(backoffDelay(3, opts, top), 3999);
    assert.equal(backoffDelay(10, opts, top), 29_999);
    assert.equal(backoffDelay(100, opts, top), 29_999);
  });
  it('is uniform from 0', () => {
    assert.equal(
      backoffDelay(5, opts, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(2, opts, () => 0.5),
      1000,
    );
  });
});

describe('TenantGate', () => {
  it('holds waiters until the deadline and only moves forward', async () => {
    // Simulated time: the gate's deadline and its wait do not depend on the machine's load.
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    try {
      const gate = new TenantGate(0);
      gate.pause(120);
      gate.pause(30); // shorter: ignored
      let open = false;
      const waiting = gate.wait().then(() => {
        open = true;
      });
      mock.timers.tick(119);
      await new Promise<void>((resolve) => setImmediate(resolve));
      assert.equal(open, false, 'still closed 1 ms before the deadline');
      mock.timers.tick(1);
      await waiting;
      assert.equal(gate.pausedMs, 120);
    } finally {
      mock.timers.reset();
    }
  });
  it('counts overlapping pauses once (union, not sum)', () => {
    const gate = new TenantGate(0);
    const now = 1_000_000;
    gate.pause(100, now);
    gate.pause(150, now + 50); // extends to +200
    assert.equal(gate.remainingMs(now), 200);
  });
});

describe('pathOf', () => {
  it('keeps opaque links byte for byte', () => {
    assert.equal(
      pathOf("https://h/v1.0/drives/d/root/microsoft.graph.delta(token='a%2Bb')?$top=5"),
      "/v1.0/drives/d/root/microsoft.graph.delta(token='a%2Bb')?$top=5",
    );
    assert.equal(pathOf('https://h:8443'), '/');
    assert.equal(pathOf('https://h/a b#frag'), '/a%20b');
  });
});
