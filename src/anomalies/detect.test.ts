import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findingsOf } from './as-finding.ts';
import { detectAll } from './detect.ts';
import { bursts } from './detectors/bursts.ts';
import { ipPrefix } from './detectors/unusual-ip.ts';
import { resolveDetectorSettings } from './settings.ts';
import type { ActivityEvent, QuotaSample } from './types.ts';

/** Tuesday 2026-03-10 10:00 UTC = 11:00 in the default tenant zone (UTC+1). */
const T0 = Date.parse('2026-03-10T10:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
let n = 0;

function ev(over: Partial<ActivityEvent> & { time: number }): ActivityEvent {
  return {
    id: `e${n++}`,
    operation: 'FileAccessed',
    actor: 'ann@contoso.test',
    ip: '198.51.100.10',
    driveId: 'd1',
    itemId: `i${n}`,
    objectUrl: `https://h/personal/ann/Documents/f${n}.docx`,
    fileName: `f${n}.docx`,
    extension: 'docx',
    targetName: null,
    targetType: null,
    linkScope: null,
    ...over,
  };
}

function series(count: number, spanMs: number, over: Partial<ActivityEvent>, start = T0): ActivityEvent[] {
  return Array.from({ length: count }, (_, k) =>
    ev({ time: start + Math.floor((k * spanMs) / count), ...over }),
  );
}

const settings = resolveDetectorSettings();
const detect = (events: ActivityEvent[], quota: QuotaSample[] = [], since = T0 - 24 * HOUR) =>
  detectAll({ events, quota, since, settings });
const ids = (events: ActivityEvent[]) => detect(events).map((d) => d.detector);

describe('volume detectors', () => {
  test('mass_download: ≥ 50 downloads in a minute by one actor, with evidence', () => {
    const burst = series(60, 50_000, { operation: 'FileDownloaded' });
    const [d, ...rest] = detect(burst);
    assert.equal(rest.length, 0);
    assert.equal(d.detector, 'mass_download');
    assert.equal(d.severity, 'high');
    assert.equal(d.resourceType, 'user');
    assert.equal(d.actor, 'ann@contoso.test');
    assert.equal(d.evidence.count, 60);
    assert.deepEqual(
      d.evidence.eventIds,
      burst.map((e) => e.id),
    );
    assert.deepEqual(ids(series(40, 50_000, { operation: 'FileDownloaded' })), []);
    assert.deepEqual(ids(series(60, 10 * MIN, { operation: 'FileDownloaded' })), [], 'spread out');
    const two = [
      ...series(30, 30_000, { operation: 'FileDownloaded' }),
      ...series(30, 30_000, { operation: 'FileDownloaded', actor: 'bob@contoso.test' }),
    ];
    assert.deepEqual(ids(two), [], 'per actor');
  });

  test('mass_delete and mass_external_share', () => {
    assert.deepEqual(ids(series(120, 5 * MIN, { operation: 'FileDeleted' })), ['mass_delete']);
    assert.deepEqual(ids(series(90, 5 * MIN, { operation: 'FileDeleted' })), []);
    const external = series(25, 30 * MIN, {
      operation: 'SharingInvitationCreated',
      targetName: 'x@gmail.com',
      targetType: 'Guest',
    });
    const [d] = detect(external);
    assert.equal(d.detector, 'mass_external_share');
    assert.deepEqual(d.evidence.details.targets, ['x@gmail.com']);
    assert.deepEqual(
      ids(series(25, 30 * MIN, { operation: 'SharingSet', targetType: 'Member' })),
      [],
      'internal sharing',
    );
  });

  test('mass_delete from the inventory history for drives the audit feed is silent about', () => {
    const removals = series(120, 2 * MIN, { operation: 'FileDeleted', actor: null, driveId: 'd9' });
    const found = detectAll({ events: [], removals, since: T0 - HOUR, settings });
    assert.deepEqual(
      found.map((d) => [d.detector, d.resourceType, d.resourceId, d.evidence.count]),
      [['mass_delete', 'drive', 'd9', 120]],
    );
    const audited = series(120, 2 * MIN, { operation: 'FileDeleted', driveId: 'd9' });
    const both = detectAll({ events: audited, removals, since: T0 - HOUR, settings });
    assert.deepEqual(
      both.map((d) => [d.detector, d.resourceType]),
      [['mass_delete', 'user']],
      'the audit feed names the actor: no second finding from history',
    );
  });

  test('bursts are maximal: one detection per burst, not per window', () => {
    const t = [0, 1, 2, 3, 4, 5, 100, 101].map((time) => ({ time }));
    assert.deepEqual(
      bursts(t, 3, 3).map((b) => b.map((x) => x.time)),
      [[0, 1, 2, 3, 4, 5]],
    );
    assert.deepEqual(bursts(t, 2, 3).length, 2);
  });
});

describe('new_anonymous_link_on_sensitive', () => {
  test('an Anyone link on a key file, not on an ordinary file nor an organization link', () => {
    const key = ev({
      time: T0,
      operation: 'AnonymousLinkCreated',
      linkScope: 'anonymous',
      fileName: 'id_rsa',
      extension: null,
    });
    const [d] = detect([key]);
    assert.equal(d.detector, 'new_anonymous_link_on_sensitive');
    assert.equal(d.severity, 'critical');
    assert.equal(d.resourceType, 'drive_item');
    assert.equal(d.itemId, key.itemId);
    assert.deepEqual(d.evidence.eventIds, [key.id]);
    assert.deepEqual(ids([ev({ time: T0, operation: 'AnonymousLinkCreated', linkScope: 'anonymous' })]), []);
    assert.deepEqual(
      ids([ev({ time: T0, operation: 'CompanyLinkCreated', fileName: 'prod.env', extension: 'env' })]),
      [],
    );
  });
});

describe('unusual_ip', () => {
  const history = (actor: string, ip: string) => series(20, 3 * 24 * HOUR, { actor, ip }, T0 - 4 * 24 * HOUR);

  test('a prefix never seen for the actor nor the tenant, once the actor has history', () => {
    const odd = series(3, 2 * MIN, { ip: '185.220.101.47' });
    const found = detect([...history('ann@contoso.test', '198.51.100.10'), ...odd]);
    assert.deepEqual(
      found.map((d) => [d.detector, d.actor, d.evidence.count]),
      [['unusual_ip', 'ann@contoso.test', 3]],
    );
    assert.equal(found[0].evidence.details.prefix, '185.220.0.0/16');
    assert.deepEqual(ids(odd), [], 'no history: no baseline');
    assert.deepEqual(
      ids([...history('ann@contoso.test', '198.51.100.10'), ...series(3, MIN, { ip: '198.51.7.1' })]),
      [],
      'same /16',
    );
  });

  test('a prefix a colleague uses is known to the tenant (unless configured otherwise)', () => {
    const events = [
      ...history('ann@contoso.test', '198.51.100.10'),
      ...history('bob@contoso.test', '100.64.0.9'),
      ev({ time: T0, ip: '100.64.0.3' }),
    ];
    assert.deepEqual(ids(events), []);
    const strict = resolveDetectorSettings({ unusual_ip: { params: { ignore_tenant_prefixes: false } } });
    assert.deepEqual(
      detectAll({ events, since: T0 - HOUR, settings: strict }).map((d) => d.actor),
      ['ann@contoso.test'],
    );
    assert.equal(ipPrefix('10.1.2.3', 24), '10.1.2.0/24');
    assert.equal(ipPrefix('2001:db8:1:2::5', 16), '2001:db8:1');
  });
});

describe('off_hours_bulk_access', () => {
  test('bulk access at night or on a weekend, never in working hours', () => {
    const night = Date.parse('2026-03-10T01:00:00Z'); // 02:00 local, Tuesday
    assert.deepEqual(ids(series(40, 30 * MIN, {}, night)), ['off_hours_bulk_access']);
    assert.deepEqual(ids(series(40, 30 * MIN, {})), [], '11:00 local on a Tuesday');
    const saturday = Date.parse('2026-03-14T11:00:00Z');
    assert.deepEqual(ids(series(40, 30 * MIN, {}, saturday)), ['off_hours_bulk_access']);
    assert.deepEqual(ids(series(20, 30 * MIN, {}, night)), [], 'a few files at night is no bulk');
  });
});

describe('quota_spike and settings', () => {
  const GB = 1024 ** 3;
  const sample = (used: number, time: number): QuotaSample => ({
    driveId: 'd1',
    owner: 'ann@contoso.test',
    time,
    used,
  });

  test('≥ 20 % growth within 24 h and at least min_bytes', () => {
    const spike = detect([], [sample(100 * GB, T0 - 2 * HOUR), sample(130 * GB, T0)]);
    assert.deepEqual(
      spike.map((d) => [d.detector, d.resourceType, d.resourceId, d.actor]),
      [['quota_spike', 'drive', 'd1', 'ann@contoso.test']],
    );
    assert.equal(detect([], [sample(100 * GB, T0 - 2 * HOUR), sample(110 * GB, T0)]).length, 0);
    assert.equal(detect([], [sample(100 * GB, T0 - 30 * HOUR), sample(130 * GB, T0)]).length, 0, 'over days');
    assert.equal(detect([], [sample(10_000, T0 - HOUR), sample(50_000, T0)]).length, 0, 'tiny drive');
  });

  test('per-integration overrides, disabled detectors, and a bad value named', () => {
    const burst = series(30, 50_000, { operation: 'FileDownloaded' });
    const lower = resolveDetectorSettings({ mass_download: { params: { threshold: 25 } } });
    assert.equal(detectAll({ events: burst, since: 0, settings: lower }).length, 1);
    const off = resolveDetectorSettings({ mass_download: { enabled: false, params: { threshold: 25 } } });
    assert.equal(detectAll({ events: burst, since: 0, settings: off }).length, 0);
    assert.throws(
      () => resolveDetectorSettings({ mass_delete: { params: { threshold: -1 } } }),
      /detector mass_delete: parameter threshold/,
    );
    assert.throws(
      () => resolveDetectorSettings({ mass_delete: { params: { severity: 'urgent' } } }),
      /severity must be one of/,
    );
    assert.throws(
      () => resolveDetectorSettings({ quota_spike: { params: { nope: 1 } } }),
      /detector quota_spike/,
    );
  });
});

describe('detections as findings', () => {
  test('keyed like rule rows, one per detector and resource (the latest burst), evidence in details', () => {
    const first = series(60, 50_000, { operation: 'FileDownloaded' });
    const later = series(60, 50_000, { operation: 'FileDownloaded' }, T0 + 2 * HOUR);
    const key = ev({ time: T0, operation: 'AnonymousLinkCreated', fileName: 'id_rsa', extension: null });
    const findings = findingsOf(detect([...first, ...later, key]));
    assert.deepEqual(
      findings.map((f) => [f.ruleId, f.resource_type, f.key, f.result]),
      [
        ['mass_download', 'user', 'ann@contoso.test', 'alarm'],
        ['new_anonymous_link_on_sensitive', 'drive_item', `d1/${key.itemId}`, 'alarm'],
      ],
    );
    const evidence = findings[0].details.evidence as { eventIds: string[] };
    assert.deepEqual(
      evidence.eventIds,
      later.map((e) => e.id),
      'the latest burst',
    );
  });
});
