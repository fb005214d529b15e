/** Audit events for the anomaly tests: a few working days of background and injected bursts, as rows. */
import type { AuditEventInsert } from '../../src/store/audit.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;

export interface EventSpec {
  id: string;
  time: number;
  actor: string;
  ip: string;
  operation?: string;
}

export function auditRow(e: EventSpec): AuditEventInsert {
  return {
    id: e.id,
    time: new Date(e.time).toISOString(),
    operation: e.operation ?? 'FileAccessed',
    record_type: 6,
    workload: 'OneDrive',
    actor_upn: e.actor,
    actor_id: null,
    actor_type: 'regular',
    client_ip: e.ip,
    user_agent: null,
    object_url: `https://h/personal/x/Documents/${e.id}.docx`,
    site_url: null,
    drive_id: 'd1',
    item_id: `item-${e.id}`,
    item_type: 'File',
    file_name: `${e.id}.docx`,
    extension: 'docx',
    target_name: null,
    target_type: null,
    link_scope: null,
    content_id: 'c',
    raw: {},
  };
}

/**
 * `actors` people opening a file every 10 minutes between 08:00 and 14:00 UTC (09:00–15:00 in
 * the detectors' default zone) on `days` days from `day0` (a Monday), alternating between two
 * addresses of their own /16 from the first day.
 */
export function background(day0: number, days: number, actors: number): EventSpec[] {
  const out: EventSpec[] = [];
  for (let a = 0; a < actors; a++)
    for (let d = 0; d < days; d++)
      for (let t = 8 * HOUR; t < 14 * HOUR; t += 10 * MIN) {
        const k = out.length;
        out.push({
          id: `bg-${a}-${d}-${t / MIN}`,
          time: day0 + d * 24 * HOUR + t + a * 1000,
          actor: `user${a}@contoso.test`,
          ip: `10.${a}.0.${k % 2 === 0 ? 1 : 2}`,
        });
      }
  return out;
}

export function burst(
  prefix: string,
  count: number,
  start: number,
  spanMs: number,
  over: Omit<EventSpec, 'id' | 'time'>,
): EventSpec[] {
  return Array.from({ length: count }, (_, k) => ({
    ...over,
    id: `${prefix}-${k}`,
    time: start + Math.floor((k * spanMs) / count),
  }));
}

/**
 * A fixed sequence of arrivals (the kill -9 test of detection): two days of background, then
 * batches each carrying one attack (downloads, late deletes, a new address), minutes apart.
 */
export function arrivals(): Array<{ at: number; rows: AuditEventInsert[] }> {
  const day0 = Date.parse('2026-03-09T00:00:00Z');
  const now = day0 + 2 * 24 * HOUR + 15 * HOUR;
  const out: Array<{ at: number; rows: AuditEventInsert[] }> = [
    {
      at: now - HOUR,
      rows: background(day0, 3, 6)
        .filter((e) => e.time < now - HOUR)
        .map(auditRow),
    },
  ];
  for (let k = 0; k < 6; k++) {
    const at = now + k * 5 * MIN;
    const actor = `user${k}@contoso.test`;
    const events =
      k % 3 === 0
        ? burst(`dl${k}`, 55, at - 3 * MIN, 50_000, { actor, ip: `10.${k}.0.1`, operation: 'FileDownloaded' })
        : k % 3 === 1
          ? burst(`del${k}`, 110, at - 9 * HOUR, 8 * MIN, {
              actor,
              ip: `10.${k}.0.2`,
              operation: 'FileDeleted',
            })
          : burst(`odd${k}`, 4, at - 2 * MIN, 60_000, { actor, ip: `203.${k}.0.9` });
    out.push({ at, rows: events.map(auditRow) });
  }
  return out;
}
