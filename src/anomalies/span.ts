import { type Kysely, sql } from 'kysely';
import { auditEventsQuery } from '../store/activity-queries.ts';
import { decodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import { countRows, detectUnusualIpFromBaseline, type LoadStats } from './baselines.ts';
import { ACCESS, detectOffHours, isOffHours } from './detectors/off-hours.ts';
import { detectQuotaSpikes } from './detectors/quota-spike.ts';
import { detectSensitiveLinks } from './detectors/sensitive-link.ts';
import { DELETES, detectHistoryDeletes, detectVolume, VOLUME_OPERATIONS } from './detectors/volume.ts';
import { activityEventOf, loadActivityEvents, loadHistoryRemovals, loadQuotaSamples } from './load.ts';
import { type BucketCount, burstRegions, type Region } from './regions.ts';
import type { DetectorParams, DetectorSettings } from './settings.ts';
import { bucketOf } from './sql.ts';
import { type Detection, iso } from './types.ts';

/**
 * Every enabled detector over the events of one span [from, to) (ms), in bounded reads: the
 * volume and off-hours detectors count events per actor and window-long bucket in SQL and read
 * only the ranges where a burst can be (regions.ts), with MARGIN before and after so a burst
 * crossing the span's edge is seen whole; unusual_ip reads the baseline (baselines.ts, which the
 * caller brought up to date); Anyone links are read page by page; quota and history removals
 * by window. Returns the detections whose evidence reaches into the span.
 */

/** How far before and after the span bursts are followed (the longest burst assumed). */
export const MARGIN_MS = 24 * 3_600_000;
const PAGE = 1_000;

export interface Span {
  from: number;
  to: number;
}

const windowMs = (p: { window_minutes: number }) => Math.max(1, Math.round(p.window_minutes * 60_000));

export async function detectSpan(
  db: Kysely<Database>,
  integrationId: string,
  span: Span,
  settings: DetectorSettings,
  stats?: LoadStats,
): Promise<Detection[]> {
  const on = settings.enabled;
  const p = settings.params;
  const range = { from: span.from - MARGIN_MS, to: span.to + MARGIN_MS };
  const out: Detection[] = [];
  // In detectAll's order: mass_delete (audit, then history), mass_download, mass_external_share, …
  for (const id of ['mass_delete', 'mass_download', 'mass_external_share'] as const) {
    if (!on[id]) continue;
    const regions = await actorRegions(db, integrationId, VOLUME_OPERATIONS[id], range, p[id]);
    for (const r of regions) {
      const events = await regionEvents(db, integrationId, r, VOLUME_OPERATIONS[id], stats);
      out.push(...detectVolume(id, events, p[id]));
    }
    if (id === 'mass_delete')
      out.push(...(await historyDeletes(db, integrationId, range, p.mass_delete, stats)));
  }
  if (on.new_anonymous_link_on_sensitive)
    out.push(...(await sensitiveLinks(db, integrationId, span, p.new_anonymous_link_on_sensitive, stats)));
  if (on.unusual_ip)
    out.push(...(await detectUnusualIpFromBaseline(db, integrationId, p.unusual_ip, span, stats)));
  if (on.off_hours_bulk_access) {
    const o = p.off_hours_bulk_access;
    const regions = await actorRegions(db, integrationId, [...ACCESS], range, o);
    for (const r of regions) {
      if (!touchesOffHours(r, o)) continue;
      const events = await regionEvents(db, integrationId, r, [...ACCESS], stats);
      out.push(...detectOffHours(events, o));
    }
  }
  if (on.quota_spike) {
    const q = p.quota_spike;
    const samples = await loadQuotaSamples(
      db,
      integrationId,
      iso(span.from - q.window_hours * 3_600_000),
      iso(span.to),
    );
    out.push(...detectQuotaSpikes(samples, q, span.from));
  }
  return out.filter((d) => Date.parse(d.to) >= span.from && Date.parse(d.from) < span.to);
}

/** Per actor, the ranges where `threshold` of these operations can fall within the window. */
async function actorRegions(
  db: Kysely<Database>,
  integrationId: string,
  operations: string[],
  range: Span,
  p: { threshold: number; window_minutes: number },
): Promise<Region[]> {
  const w = windowMs(p);
  const rows = await actorBucketCounts(db, integrationId, operations, range, p).execute();
  return burstRegions(counts(rows, 'actor_upn'), p.threshold, w);
}

/**
 * Per actor and window-long bucket, how many of these operations fall in the range (buckets
 * with fewer than half the threshold left out: no burst fits in them and their neighbour).
 * Index-only on audit_events_operation (integration_id, operation, time, actor_upn), migration
 * 0960: one range per operation, where audit_events_time would read every event of the range
 * and look each up for its operation and actor (span-plans.test.ts).
 */
export function actorBucketCounts(
  db: Kysely<Database>,
  integrationId: string,
  operations: string[],
  range: Span,
  p: { threshold: number; window_minutes: number },
) {
  const bucket = bucketOf(db, 'time', windowMs(p));
  return db
    .selectFrom('audit_events')
    .select((eb) => ['actor_upn', bucket.as('bucket'), eb.fn.countAll().as('n')])
    .where('integration_id', '=', integrationId)
    .where('operation', 'in', operations)
    .where('actor_upn', 'is not', null)
    .where('time', '>=', iso(range.from))
    .where('time', '<', iso(range.to))
    .groupBy(['actor_upn', sql`2`])
    .having((eb) => eb.fn.countAll(), '>=', Math.ceil(p.threshold / 2));
}

function* counts(rows: Array<Record<string, unknown>>, key: string): Iterable<BucketCount> {
  for (const r of rows) yield { key: String(r[key]), bucket: Number(r.bucket), count: Number(r.n) };
}

async function regionEvents(
  db: Kysely<Database>,
  integrationId: string,
  r: Region,
  operations: string[],
  stats: LoadStats | undefined,
) {
  const events = await loadActivityEvents(db, integrationId, iso(r.from), iso(r.to), {
    actor: r.key,
    operations,
  });
  countRows(stats, events.length);
  return events;
}

/** Whether any minute of the region is outside working hours. */
function touchesOffHours(r: Region, p: DetectorParams['off_hours_bulk_access']): boolean {
  for (let t = r.from; t < r.to; t += 60_000) if (isOffHours(t, p)) return true;
  return false;
}

/** mass_delete from the inventory's history, per drive, for drives without audited deletes. */
async function historyDeletes(
  db: Kysely<Database>,
  integrationId: string,
  range: Span,
  p: DetectorParams['mass_delete'],
  stats: LoadStats | undefined,
): Promise<Detection[]> {
  const w = windowMs(p);
  const bucket = bucketOf(db, 'observed_at', w);
  const rows = await db
    .selectFrom('changes')
    .select((eb) => ['drive_id', bucket.as('bucket'), eb.fn.countAll().as('n')])
    .where('integration_id', '=', integrationId)
    .where('resource_type', '=', 'drive_item')
    .where('change_type', '=', 'removed')
    .where('drive_id', 'is not', null)
    .where('observed_at', '>=', iso(range.from))
    .where('observed_at', '<', iso(range.to))
    .groupBy(['drive_id', sql`2`])
    .having((eb) => eb.fn.countAll(), '>=', Math.ceil(p.threshold / 2))
    .execute();
  const regions = burstRegions(counts(rows, 'drive_id'), p.threshold, w);
  if (regions.length === 0) return [];
  const audited = await db
    .selectFrom('audit_events')
    .select('drive_id')
    .distinct()
    .where('integration_id', '=', integrationId)
    .where('operation', 'in', [...DELETES])
    .where(
      'drive_id',
      'in',
      regions.map((r) => r.key),
    )
    .where('time', '>=', iso(range.from))
    .where('time', '<', iso(range.to))
    .execute();
  const auditedDrives = new Set(audited.map((r) => r.drive_id));
  const out: Detection[] = [];
  for (const r of regions) {
    if (auditedDrives.has(r.key)) continue;
    const removals = await loadHistoryRemovals(db, integrationId, iso(r.from), iso(r.to), r.key);
    countRows(stats, removals.length);
    out.push(...detectHistoryDeletes(removals, auditedDrives, p));
  }
  return out;
}

/** Anyone links created in the span, page by page (keyset on time, id). */
async function sensitiveLinks(
  db: Kysely<Database>,
  integrationId: string,
  span: Span,
  p: DetectorParams['new_anonymous_link_on_sensitive'],
  stats: LoadStats | undefined,
): Promise<Detection[]> {
  const out: Detection[] = [];
  let after: { time: string; id: string } | null = null;
  for (;;) {
    let q = auditEventsQuery(db, { integrationId, from: iso(span.from), to: iso(span.to) })
      .where('operation', 'like', '%LinkCreated')
      .where((eb) =>
        eb.or([eb('operation', '=', 'AnonymousLinkCreated'), eb('link_scope', '=', 'anonymous')]),
      );
    if (after) {
      const a: { time: string; id: string } = after;
      q = q.where(sql<boolean>`(time > ${a.time} or (time = ${a.time} and id > ${a.id}))`);
    }
    const rows = await q.orderBy('time').orderBy('id').limit(PAGE).execute();
    countRows(stats, rows.length);
    out.push(...detectSensitiveLinks(rows.map(activityEventOf), p));
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1];
    after = { time: String(decodeValue('timestamp', last.time)), id: String(last.id) };
  }
  return out;
}
