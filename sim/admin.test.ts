import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import { startTestSim, type TestSim } from '../test/support/simulator.ts';
import type { SimChangeEvent, TruthRecord } from './contracts.ts';
import { generateFromOptions, resolveOptions } from './index.ts';
import { Runtime } from './runtime.ts';

let ts: TestSim;
before(async () => {
  ts = await startTestSim({ users: 20, items: 300 });
});
after(() => ts.close());

test('admin API needs the bearer secret', async () => {
  const r = await request(`${ts.sim.adminUrl}/counters`, { dispatcher: ts.agent });
  assert.equal(r.statusCode, 401);
  await r.body.dump();
  const wrong = await request(`${ts.sim.adminUrl}/truth`, {
    dispatcher: ts.agent,
    headers: { authorization: 'Bearer nope' },
  });
  assert.equal(wrong.statusCode, 401);
  await wrong.body.dump();
});

test('truth streams NDJSON covering every kind, consistent with the listings', async () => {
  const r = await request(`${ts.sim.adminUrl}/truth`, {
    dispatcher: ts.agent,
    headers: { authorization: `Bearer ${ts.sim.adminSecret}` },
  });
  assert.match(String(r.headers['content-type']), /application\/x-ndjson/);
  await r.body.dump();
  const records: TruthRecord[] = await ts.admin.truthArray();
  const kinds = new Set(records.map((x) => x.kind));
  for (const k of ['user', 'group', 'member', 'drive', 'noDrive', 'item', 'permission'])
    assert.ok(kinds.has(k as TruthRecord['kind']), k);
  const users = await ts.admin.users();
  assert.equal(records.filter((x) => x.kind === 'user').length, users.length);
  const drives = await ts.admin.drives();
  for (const d of drives)
    assert.equal(records.filter((x) => x.kind === 'item' && x.driveId === d.id).length, d.itemCount);
  const roots = records.filter((x) => x.kind === 'item' && x.parentId === null);
  assert.ok(roots.every((x) => x.kind === 'item' && x.name === 'root' && x.path === '/'));
  const disabled = records.filter((x) => x.kind === 'user' && !x.accountEnabled);
  assert.ok(disabled.every((x) => x.kind === 'user' && x.isMfaRegistered === null));
});

test('counters count per endpoint template and reset', async () => {
  await ts.token();
  await ts.admin.resetCounters();
  await ts.get('/users?$top=1');
  await ts.get('/users?$top=2');
  const c = await ts.admin.counters();
  assert.equal(c.requests, 2);
  assert.equal(c.requestsByEndpoint['GET /users'], 2);
  assert.equal(c.ruSpent, 4);
  await ts.admin.resetCounters();
  assert.equal((await ts.admin.counters()).requests, 0);
});

test('mutations emit change events to runtime listeners (massDownload: access events only)', () => {
  const o = resolveOptions({ seed: 5, users: 10, items: 200, referenceTime: '2026-01-01T00:00:00Z' });
  const rt = new Runtime(generateFromOptions(o), o);
  const events: SimChangeEvent[] = [];
  rt.onChange((e) => events.push(e));
  const d = rt.tenant.drives[0];
  const before = d.seq;
  const root = rt.tenant.itemId(d.rootIdx);
  const { itemId } = rt.mutate({
    op: 'createItem',
    driveId: d.id,
    parentId: root,
    name: 'a.txt',
    size: 10,
  }) as { itemId: string };
  rt.mutate({ op: 'share', driveId: d.id, itemId, kind: 'external', email: 'x@fabrikam.example' });
  rt.mutate({ op: 'massDownload', driveId: d.id, count: 3, clientIp: '198.51.100.7' });
  assert.deepEqual(
    events.map((e) => `${e.kind}/${e.op}`),
    ['item/created', 'permission/shared', 'access/downloaded', 'access/downloaded', 'access/downloaded'],
  );
  assert.equal(events[1].targetEmail, 'x@fabrikam.example');
  assert.equal(events[2].clientIp, '198.51.100.7');
  assert.ok(events.every((e, k) => e.seq === k + 1 && !Number.isNaN(Date.parse(e.at))));
  const seqAfterShare = d.seq;
  assert.ok(seqAfterShare > before);
  rt.mutate({ op: 'massDownload', driveId: d.id, count: 2 });
  assert.equal(d.seq, seqAfterShare, 'downloads change nothing in the drive');
  const t0 = rt.clock.now();
  rt.mutate({ op: 'advanceClock', seconds: 120 });
  assert.ok(rt.clock.now() - t0 >= 120_000);
  assert.equal(rt.lookupItem(d.id, itemId)?.path, '/a.txt');
  assert.equal(rt.lookupDrive(d.id)?.ownerId, rt.tenant.users[d.ownerIdx].id);
});

test('SimOptions.events: validated by resolveOptions, kept on the runtime options; CLI flag for coalescing', async () => {
  const o = resolveOptions({ events: { coalesceMs: 5, auditLateRate: 0.5, autoMissed: true } });
  assert.deepEqual(o.events, { coalesceMs: 5, auditLateRate: 0.5, autoMissed: true });
  const rt = new Runtime(generateFromOptions({ users: 5, items: 50 }), o);
  const { resolveEventOptions } = await import('./events/options.ts');
  const resolved = resolveEventOptions(rt, { applicationId: 'app' });
  assert.equal(resolved.coalesceMs, 5);
  assert.equal(resolved.applicationId, 'app');
  assert.throws(
    () => resolveOptions({ events: { coalesceMs: -1 } }),
    /events\.coalesceMs must be a number ≥ 0/,
  );
  assert.throws(
    () => resolveOptions({ events: { auditLateRate: 2 } }),
    /events\.auditLateRate must be in 0\.\.1/,
  );
  assert.throws(
    () => resolveOptions({ events: { nope: 1 } as never }),
    /events\.nope is not an event option/,
  );
  assert.throws(() => resolveOptions({ events: { autoMissed: 'yes' } as never }), /must be a boolean/);
  const { parseSimArgs } = await import('./main.ts');
  assert.deepEqual(parseSimArgs(['--seed', '3', '--notification-coalesce-ms', '25']), {
    seed: 3,
    events: { coalesceMs: 25 },
  });
  assert.throws(() => parseSimArgs(['--notification-coalesce-ms', 'x']), /expects a number/);
});
