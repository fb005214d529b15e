import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SimChangeEvent } from '../contracts.ts';
import { generateFromOptions, resolveOptions } from '../index.ts';
import { Runtime } from '../runtime.ts';
import { FOREIGN_IP, TENANT_UTC_OFFSET_HOURS } from './activity.ts';

const HOUR = 3_600_000;

function runtime() {
  const o = resolveOptions({ seed: 9, users: 25, items: 3000, referenceTime: '2026-01-01T00:00:00Z' });
  const rt = new Runtime(generateFromOptions(o), o);
  const events: SimChangeEvent[] = [];
  rt.onChange((e) => events.push(e));
  return { rt, events };
}

function localHour(iso: string): number {
  return (new Date(Date.parse(iso) + TENANT_UTC_OFFSET_HOURS * HOUR).getUTCHours() + 24) % 24;
}

function localDay(iso: string): number {
  return new Date(Date.parse(iso) + TENANT_UTC_OFFSET_HOURS * HOUR).getUTCDay();
}

test('background activity: a week of weekday working-hours access, a few addresses per user, nothing changed', () => {
  const { rt, events } = runtime();
  const seqs = rt.tenant.drives.map((d) => d.seq);
  // The week ends when the mutation runs: between these two readings of the clock.
  const before = rt.clock.now();
  const r = rt.mutate({ op: 'backgroundActivity', days: 7 }) as { events: number; users: number };
  assert.equal(events.length, r.events);
  assert.ok(r.events > r.users * 20, `${r.events} events for ${r.users} users`);
  const now = rt.clock.now();
  const byUser = new Map<string, Set<string>>();
  let weekend = 0;
  for (const e of events) {
    assert.equal(e.kind, 'access');
    const at = Date.parse(e.at);
    assert.ok(at <= now && at >= before - 7 * 24 * HOUR, 'inside the week');
    const day = localDay(e.at);
    if (day === 0 || day === 6) weekend++;
    else {
      const h = localHour(e.at);
      assert.ok(h >= 7 && h < 20, `working hours (local ${h}h)`);
    }
    const ips = byUser.get(e.actorId ?? '') ?? new Set();
    ips.add(e.clientIp ?? '');
    byUser.set(e.actorId ?? '', ips);
  }
  assert.ok(weekend < events.length * 0.05, `rare weekend activity (${weekend})`);
  for (const ips of byUser.values()) assert.ok(ips.size <= 3 && !ips.has(FOREIGN_IP));
  assert.deepEqual(
    rt.tenant.drives.map((d) => d.seq),
    seqs,
    'access events change no drive',
  );
  assert.throws(() => rt.mutate({ op: 'backgroundActivity', days: 0 }), /days must be in/);
});

test('attack scenarios: the documented volumes, within their time spans, by one actor', () => {
  const { rt, events } = runtime();
  const download = rt.mutate({ op: 'attack', scenario: 'massDownload' }) as {
    itemIds: string[];
    actorId: string;
  };
  const downloads = events.filter((e) => e.op === 'downloaded');
  assert.ok(downloads.length >= 100 && downloads.length === download.itemIds.length);
  const times = downloads.map((e) => Date.parse(e.at));
  assert.ok(Math.max(...times) - Math.min(...times) <= 120_000, 'within 2 minutes');
  assert.ok(downloads.every((e) => e.actorId === download.actorId));

  events.length = 0;
  const share = rt.mutate({ op: 'attack', scenario: 'massExternalShare' }) as { itemIds: string[] };
  assert.equal(share.itemIds.length, 50);
  const shared = events.filter((e) => e.kind === 'permission' && e.op === 'shared');
  assert.equal(shared.length, 50);
  assert.ok(shared.every((e) => e.targetEmail === 'exfil.drop@gmail.com'));

  events.length = 0;
  rt.mutate({ op: 'attack', scenario: 'newCountryIp' });
  assert.ok(events.length > 0 && events.every((e) => e.clientIp === FOREIGN_IP && localHour(e.at) === 3));

  events.length = 0;
  const del = rt.mutate({ op: 'attack', scenario: 'massDelete', count: 300 }) as { itemIds: string[] };
  assert.equal(del.itemIds.length, 300);
  assert.equal(events.filter((e) => e.op === 'deleted').length, 300);

  events.length = 0;
  const anon = rt.mutate({ op: 'attack', scenario: 'anonymousLinkOnSensitive' }) as { itemIds: string[] };
  assert.deepEqual(
    events.map((e) => `${e.kind}/${e.op}/${e.linkScope ?? ''}`),
    ['item/created/', 'permission/shared/anonymous'],
  );
  assert.match(rt.lookupItem(events[0].driveId ?? '', anon.itemIds[0])?.name ?? '', /\.env$/);
  assert.throws(() => rt.mutate({ op: 'attack', scenario: 'nope' } as never), /none of massDownload/);
});
