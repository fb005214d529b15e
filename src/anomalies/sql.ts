import { type Kysely, PostgresAdapter, type RawBuilder, sql } from 'kysely';
import type { Database } from '../store/schema.ts';

/** The few SQL expressions the detectors' aggregates need that the two dialects spell differently. */

export function isPostgresDb(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * floor(epoch ms of a timestamp column / bucketMs), exact on both dialects: SQLite keeps ISO
 * text (seconds from strftime('%s') plus the milliseconds of '%f'), PostgreSQL timestamptz.
 */
export function bucketOf(db: Kysely<Database>, column: string, bucketMs: number): RawBuilder<number> {
  const ref = sql.ref(column);
  const ms = Math.max(1, Math.round(bucketMs));
  if (isPostgresDb(db))
    return sql<number>`cast(floor(extract(epoch from ${ref}) * 1000 / ${sql.lit(ms)}) as bigint)`;
  return sql<number>`((cast(strftime('%s', ${ref}) as integer) * 1000 + cast(substr(strftime('%f', ${ref}), 4) as integer)) / ${sql.lit(ms)})`;
}

export interface Keyset {
  observedAt: string;
  id: string;
}

/**
 * audit_events rows after `after` (exclusive) by (observed_at, id), spelled as a row value:
 * SQLite and PostgreSQL search their (integration_id, observed_at, id) index for it as one
 * range. The OR spelling (observed_at > a or (observed_at = a and id > b)) is no range to
 * SQLite, and one collection round stamps every event it stores with the same observed_at, so
 * each chunk of the baseline build read every event stored (issue 16: 144 s for a million).
 */
export function keysetAfter(after: Keyset): RawBuilder<boolean> {
  return sql<boolean>`(observed_at, id) > (${after.observedAt}, ${after.id})`;
}

/** audit_events rows after `after` (exclusive; null: from the start) up to `upTo` (inclusive), by (observed_at, id). */
export function keysetRange(after: Keyset | null, upTo: Keyset): RawBuilder<boolean> {
  const upper = sql<boolean>`(observed_at, id) <= (${upTo.observedAt}, ${upTo.id})`;
  if (!after) return upper;
  return sql<boolean>`${keysetAfter(after)} and ${upper}`;
}
