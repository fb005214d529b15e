import assert from 'node:assert/strict';
import { test } from 'node:test';
import { webhookFloodRun } from './webhook-floods.ts';

test('webhook floods: bad bodies, forged and unknown entries, replays refused or ignored and counted in /metrics; genuine acks all under 3 s', async () => {
  const r = await webhookFloodRun();
  assert.deepEqual(r.problems, []);
  assert.equal(r.acceptedForgeries, 0);
  assert.equal(r.slowGenuineAcks, 0, 'genuine acks over 3 s');
  assert.equal(r.genuineRefused, 0);
  assert.ok((r.answers[429] ?? 0) > 0, 'the flooding sources were refused');
  assert.ok((r.metrics.rejectedByReason.client_state_mismatch ?? 0) >= 50);
  assert.ok((r.metrics.rejectedByReason.unknown_subscription ?? 0) >= 50);
});
