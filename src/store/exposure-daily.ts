import { type Kysely, type SqlBool, sql } from 'kysely';
import type { Database } from './schema.ts';

/**
 * Exposure at a glance and its trend. The counts read every live file's entry of the covering
 * index drive_items_api_exposure (about a second per million items); the trend reads one row
 * per integration and day from exposure_daily, which the service writes (recordExposureDay),
 * instead of replaying every permission's life on each request.
 */

export const EXPOSURE_LEVELS = ['public', 'external', 'internal', 'private'] as const;
export type ExposureLevel = (typeof EXPOSURE_LEVELS)[number];
export type ExposureCounts = Record<ExposureLevel, { files: number; bytes: number }>;

export interface ExposureTrendPoint {
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  /** Exposed files at the day's last count; null when nothing was counted that day. */
  public: number | null;
  external: number | null;
  internal: number | null;
}

/** Live files (folders excluded) and their bytes per exposure, for one integration or all. */
export async function countExposure(db: Kysely<Database>, integrationId?: string): Promise<ExposureCounts> {
  let q = db
    .selectFrom('drive_items')
    .select((eb) => [
      'exposure',
      eb.fn.countAll<number | string>().as('n'),
      eb.fn.sum<number | string>('size').as('bytes'),
    ])
    .where('deleted_at', 'is', null)
    .where(sql<SqlBool>`is_folder = false`)
    .groupBy('exposure');
  if (integrationId) q = q.where('integration_id', '=', integrationId);
  const out = emptyCounts();
  for (const r of await q.execute())
    if (r.exposure && r.exposure in out)
      out[r.exposure as ExposureLevel] = { files: Number(r.n), bytes: Number(r.bytes ?? 0) };
  return out;
}

/** Counts the integration's exposure now and keeps it as today's value (the last count of a day wins). */
export async function recordExposureDay(
  db: Kysely<Database>,
  integrationId: string,
  now: Date,
): Promise<ExposureCounts> {
  const counts = await countExposure(db, integrationId);
  const values = {
    public_files: counts.public.files,
    public_bytes: counts.public.bytes,
    external_files: counts.external.files,
    external_bytes: counts.external.bytes,
    internal_files: counts.internal.files,
    internal_bytes: counts.internal.bytes,
    private_files: counts.private.files,
    private_bytes: counts.private.bytes,
    taken_at: now.toISOString(),
  };
  await db
    .insertInto('exposure_daily')
    .values({ integration_id: integrationId, day: utcDay(now), ...values })
    .onConflict((oc) => oc.columns(['integration_id', 'day']).doUpdateSet(values))
    .execute();
  return counts;
}

/**
 * The last `days` UTC days, oldest first: exposed files per day summed over the integrations
 * counted that day. Today is `today` (the live counts); a past day nobody counted is null
 * rather than zero, so a chart shows a gap, not a drop.
 */
export async function exposureTrend(
  db: Kysely<Database>,
  options: { now: Date; days: number; today: ExposureCounts; integrationId?: string },
): Promise<ExposureTrendPoint[]> {
  const todayKey = utcDay(options.now);
  const keys = Array.from({ length: options.days }, (_, i) =>
    utcDay(new Date(options.now.getTime() - (options.days - 1 - i) * DAY_MS)),
  );
  let q = db
    .selectFrom('exposure_daily')
    .select((eb) => [
      'day',
      eb.fn.sum<number | string>('public_files').as('public'),
      eb.fn.sum<number | string>('external_files').as('external'),
      eb.fn.sum<number | string>('internal_files').as('internal'),
    ])
    .where('day', '>=', keys[0])
    .where('day', '<', todayKey)
    .groupBy('day');
  if (options.integrationId) q = q.where('integration_id', '=', options.integrationId);
  const past = new Map((await q.execute()).map((r) => [r.day, r]));
  return keys.map((day) => {
    if (day === todayKey)
      return {
        day,
        public: options.today.public.files,
        external: options.today.external.files,
        internal: options.today.internal.files,
      };
    const r = past.get(day);
    return r
      ? { day, public: Number(r.public), external: Number(r.external), internal: Number(r.internal) }
      : { day, public: null, external: null, internal: null };
  });
}

const DAY_MS = 86_400_000;

function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}

function emptyCounts(): ExposureCounts {
  return {
    public: { files: 0, bytes: 0 },
    external: { files: 0, bytes: 0 },
    internal: { files: 0, bytes: 0 },
    private: { files: 0, bytes: 0 },
  };
}
