import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MinutePacer } from './pacer.ts';
import { auditRecordSchema, toAuditEventRow } from './record.ts';
import { HOUR_MS, MAX_AGE_MS, MAX_WINDOW_MS, planWindows } from './windows.ts';

describe('activity windows', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');

  test('the first round covers the lookback in ≤ 24 h windows, never more than 7 days back', () => {
    const w = planWindows({
      nowMs: now,
      listedUntilMs: null,
      lateMs: 12 * HOUR_MS,
      initialLookbackMs: 168 * HOUR_MS,
    });
    assert.equal(w[0].startMs, now - MAX_AGE_MS);
    assert.equal(w[w.length - 1].endMs, now);
    for (let i = 0; i < w.length; i++) {
      assert.ok(w[i].endMs - w[i].startMs <= MAX_WINDOW_MS);
      if (i > 0) assert.equal(w[i].startMs, w[i - 1].endMs, 'consecutive');
    }
  });

  test('later rounds start lateMs before where the last one ended (overlap for late content)', () => {
    const w = planWindows({
      nowMs: now,
      listedUntilMs: now - 5 * 60_000,
      lateMs: 12 * HOUR_MS,
      initialLookbackMs: 168 * HOUR_MS,
    });
    assert.deepEqual(w, [{ startMs: now - 5 * 60_000 - 12 * HOUR_MS, endMs: now }]);
    assert.deepEqual(
      planWindows({ nowMs: now, listedUntilMs: now, lateMs: 0, initialLookbackMs: HOUR_MS }),
      [],
    );
  });
});

describe('audit record mapping', () => {
  test('typed columns from a sharing record; UTC without zone; link scope from EventData', () => {
    const record = auditRecordSchema.parse({
      Id: 'r1',
      CreationTime: '2026-03-10T03:04:05',
      Operation: 'AnonymousLinkCreated',
      RecordType: 14,
      UserId: 'Ann@Contoso.TEST',
      UserKey: 'k1',
      UserType: 0,
      ClientIP: '203.0.113.9',
      ObjectId: 'https://h/personal/ann/Documents/keys/id_rsa',
      SiteUrl: 'https://h/personal/ann/',
      SourceFileName: 'Report.DOCX',
      TargetUserOrGroupName: 'SharingLinks.x.AnonymousView.y',
      EventData: '<LinkScope>Anonymous</LinkScope>',
      Unknown: { kept: true },
    });
    const row = toAuditEventRow(record);
    assert.equal(row.time, '2026-03-10T03:04:05.000Z');
    assert.equal(row.actor_upn, 'ann@contoso.test');
    assert.equal(row.actor_type, 'regular');
    assert.equal(row.extension, 'docx');
    assert.equal(row.link_scope, 'anonymous');
    assert.deepEqual((row.raw as Record<string, unknown>).Unknown, { kept: true });
  });

  test('link scope from the operation when EventData is absent; bad input is named', () => {
    const row = toAuditEventRow(
      auditRecordSchema.parse({
        Id: 'r2',
        CreationTime: '2026-03-10T03:04:05Z',
        Operation: 'CompanyLinkCreated',
        UserType: 5,
      }),
    );
    assert.equal(row.link_scope, 'organization');
    assert.equal(row.actor_type, 'application');
    assert.equal(auditRecordSchema.safeParse({ Id: 'r3', Operation: 'FileAccessed' }).success, false);
    assert.throws(
      () => toAuditEventRow(auditRecordSchema.parse({ Id: 'r4', CreationTime: 'yesterday', Operation: 'X' })),
      /CreationTime "yesterday"/,
    );
  });
});

describe('minute pacer', () => {
  test('lets perMinute requests through, then waits until the oldest leaves the minute', async () => {
    let clock = 0;
    const waits: number[] = [];
    const pacer = new MinutePacer(
      3,
      () => clock,
      async (ms) => {
        waits.push(ms);
        clock += ms;
      },
    );
    for (let i = 0; i < 3; i++) {
      await pacer.take();
      clock += 1000;
    }
    assert.deepEqual(waits, []);
    await pacer.take();
    assert.deepEqual(waits, [57_001]);
    assert.throws(() => new MinutePacer(0), /positive integer, got 0/);
  });
});

test('windows end on a whole second, which is what the API is asked for and what is stored as listed', () => {
  const now = Date.parse('2026-11-29T12:00:05.700Z');
  const [w] = planWindows({ nowMs: now, listedUntilMs: now - 60_000, lateMs: 0, initialLookbackMs: HOUR_MS });
  assert.equal(new Date(w.endMs).toISOString(), '2026-11-29T12:00:05.000Z');
});
