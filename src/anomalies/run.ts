import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';
import { keysetOf, type LoadStats, readAnomalyCursor, refreshBaselines } from './baselines.ts';
import { loadDetectorSettings } from './load.ts';
import { hourSpans } from './regions.ts';
import type { DetectorSettings } from './settings.ts';
import { detectSpan } from './span.ts';
import { bucketOf, type Keyset, keysetRange } from './sql.ts';
import type { Detection } from './types.ts';

export interface RunDetectorsOptions {
  /** End of the judged span (ms; default now). */
  now?: number;
  /** The judged span: events from `now - hours` on (default 24 h). */
  hours?: number;
  /** Settings instead of the integration's (tests, the bench). */
  settings?: DetectorSettings;
  /** Counts the event rows read (tests prove memory stays bounded with it). */
  stats?: LoadStats;
}

const HOUR = 3_600_000;

/**
 * The detectors over an integration's recent activity, `hours` back from `now` (the CLI's
 * `activity detect`, the bench): the baselines are brought up to date first, then the span is
 * judged in bounded reads (span.ts). Running it twice finds the same detections.
 */
export async function runDetectors(
  db: Kysely<Database>,
  integrationId: string,
  opts: RunDetectorsOptions = {},
): Promise<Detection[]> {
  const now = opts.now ?? Date.now();
  const settings = opts.settings ?? (await loadDetectorSettings(db, integrationId));
  await refreshBaselines(db, integrationId, settings.params.unusual_ip, now);
  const span = { from: now - (opts.hours ?? 24) * HOUR, to: now + 1 };
  return detectSpan(db, integrationId, span, settings, opts.stats);
}

/** How far detection got: the newest audit event and history record judged. */
export interface DetectionPosition {
  event: Keyset | null;
  changeId: number | null;
}

export interface NewDetections {
  detections: Detection[];
  /** Where the cursor was when this round started (the writer checks it is still there). */
  from: DetectionPosition;
  /** Where it goes once the detections are written. */
  to: DetectionPosition;
  /** The hour spans judged again. */
  spans: Array<{ from: number; to: number }>;
}

/**
 * Detection over what arrived since the integration's detection cursor: the audit events after
 * it (by arrival: observed_at, id) and the history records after its changes.id. The windows
 * judged again are the hours those fall into (late content included: an event 12 h late
 * re-opens its own hour), each with the detectors' margins. The first run judges the last
 * `firstRunHours`. Nothing is written here but the baselines: the caller writes the detections
 * and moves the cursor to `to` in one transaction, so a crash loses or doubles nothing.
 */
export async function detectNew(
  db: Kysely<Database>,
  integrationId: string,
  opts: { now?: number; settings?: DetectorSettings; firstRunHours?: number; stats?: LoadStats } = {},
): Promise<NewDetections> {
  const now = opts.now ?? Date.now();
  const settings = opts.settings ?? (await loadDetectorSettings(db, integrationId));
  await refreshBaselines(db, integrationId, settings.params.unusual_ip, now);
  const cursor = await readAnomalyCursor(db, integrationId);
  const from: DetectionPosition = {
    event: keysetOf(cursor?.detected_observed_at ?? null, cursor?.detected_event_id ?? null),
    changeId: cursor?.detected_change_id ?? null,
  };
  const to: DetectionPosition = {
    event: await newestEvent(db, integrationId),
    changeId: await newestChange(db, integrationId),
  };
  let spans: Array<{ from: number; to: number }>;
  if (from.event === null && from.changeId === null)
    spans = [{ from: now - (opts.firstRunHours ?? 24) * HOUR, to: now + 1 }];
  else spans = hourSpans(await newHours(db, integrationId, from, to));
  const detections: Detection[] = [];
  const seen = new Set<string>();
  for (const span of spans)
    for (const d of await detectSpan(db, integrationId, span, settings, opts.stats)) {
      const key = `${d.detector}|${d.resourceId}|${d.from}|${d.to}`;
      if (seen.has(key)) continue;
      seen.add(key);
      detections.push(d);
    }
  return { detections, from, to, spans };
}

async function newestEvent(db: Kysely<Database>, integrationId: string): Promise<Keyset | null> {
  const row = await db
    .selectFrom('audit_events')
    .select(['observed_at', 'id'])
    .where('integration_id', '=', integrationId)
    .orderBy('observed_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? keysetOf(String(row.observed_at), row.id) : null;
}

async function newestChange(db: Kysely<Database>, integrationId: string): Promise<number | null> {
  const row = await db
    .selectFrom('changes')
    .select((eb) => eb.fn.max('id').as('id'))
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
  return row?.id === null || row?.id === undefined ? null : Number(row.id);
}

/** The hours (floor(t / 1 h)) of the events and history records between the two positions. */
async function newHours(
  db: Kysely<Database>,
  integrationId: string,
  from: DetectionPosition,
  to: DetectionPosition,
): Promise<number[]> {
  const hours: number[] = [];
  if (to.event) {
    const rows = await db
      .selectFrom('audit_events')
      .select(bucketOf(db, 'time', HOUR).as('hour'))
      .distinct()
      .where('integration_id', '=', integrationId)
      .where(keysetRange(from.event, to.event))
      .execute();
    hours.push(...rows.map((r) => Number(r.hour)));
  }
  if (to.changeId !== null && to.changeId !== from.changeId) {
    const rows = await db
      .selectFrom('changes')
      .select(bucketOf(db, 'observed_at', HOUR).as('hour'))
      .distinct()
      .where('integration_id', '=', integrationId)
      .where('id', '>', from.changeId ?? 0)
      .where('id', '<=', to.changeId)
      .where((eb) =>
        eb.or([
          eb.and([eb('resource_type', '=', 'drive_item'), eb('change_type', '=', 'removed')]),
          eb.and([eb('resource_type', '=', 'drive'), eb('change_type', '=', 'modified')]),
        ]),
      )
      .execute();
    hours.push(...rows.map((r) => Number(r.hour)));
  }
  return hours;
}
