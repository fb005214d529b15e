import { type Kysely, sql } from 'kysely';
import { auditEventsQuery } from '../store/activity-queries.ts';
import { decodeValue } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';
import type { AnomalyCursorsTable } from '../store/tables/anomalies.ts';
import { EvidenceBuilder } from './detectors/bursts.ts';
import { ipPrefix } from './detectors/unusual-ip.ts';
import { activityEventOf } from './load.ts';
import type { DetectorParams } from './settings.ts';
import { type Keyset, keysetAfter, keysetRange } from './sql.ts';
import { type Detection, iso, type Severity } from './types.ts';

/**
 * The unusual_ip baseline, kept instead of re-reading 30 days of events: per actor and client
 * address the prefix and first and last use (anomaly_actor_ips), folded in from new audit events
 * in chunks of CHUNK (keyset over (observed_at, id)), each chunk one transaction with the
 * baseline cursor, so a chunk counts once whatever crashes. The first run builds it from
 * everything stored, chunk by chunk. Addresses unused for the baseline's days are pruned.
 */

export const BASELINE_CHUNK = 5_000;
const UPSERT_ROWS = 100;
const PAGE = 500;

const ts = (v: unknown) => String(decodeValue('timestamp', v));

export interface LoadStats {
  /** Event rows read into memory (aggregates excluded). */
  rows: number;
  /** The most event rows held at once. */
  largest: number;
}

export const noStats = (): LoadStats => ({ rows: 0, largest: 0 });

export function countRows(stats: LoadStats | undefined, n: number): void {
  if (!stats) return;
  stats.rows += n;
  stats.largest = Math.max(stats.largest, n);
}

export async function readAnomalyCursor(
  db: Kysely<Database>,
  integrationId: string,
): Promise<AnomalyCursorsTable | undefined> {
  const row = await db
    .selectFrom('anomaly_cursors')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    ...row,
    baseline_observed_at: row.baseline_observed_at === null ? null : ts(row.baseline_observed_at),
    detected_observed_at: row.detected_observed_at === null ? null : ts(row.detected_observed_at),
    detected_change_id: row.detected_change_id === null ? null : Number(row.detected_change_id),
    prefix_bits: row.prefix_bits === null ? null : Number(row.prefix_bits),
  };
}

export async function writeAnomalyCursor(
  db: Kysely<Database>,
  integrationId: string,
  patch: Partial<Omit<AnomalyCursorsTable, 'integration_id' | 'updated_at'>>,
  now: string,
): Promise<void> {
  const values = { ...patch, updated_at: now };
  await db
    .insertInto('anomaly_cursors')
    .values({ integration_id: integrationId, ...values })
    .onConflict((oc) => oc.column('integration_id').doUpdateSet(values))
    .execute();
}

/** The position of the `size`-th audit event after `after`, or of the last one when fewer; null when none. */
export async function nextKeyset(
  db: Kysely<Database>,
  integrationId: string,
  after: Keyset | null,
  size: number,
): Promise<Keyset | null> {
  const row =
    (await eventPositionsAfter(db, integrationId, after)
      .orderBy('observed_at')
      .orderBy('id')
      .limit(1)
      .offset(size - 1)
      .executeTakeFirst()) ??
    (await eventPositionsAfter(db, integrationId, after)
      .orderBy('observed_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst());
  return row ? { observedAt: ts(row.observed_at), id: row.id } : null;
}

/** The (observed_at, id) of the audit events after `after` (null: all); a range of audit_events_observed. */
export function eventPositionsAfter(db: Kysely<Database>, integrationId: string, after: Keyset | null) {
  const q = db
    .selectFrom('audit_events')
    .select(['observed_at', 'id'])
    .where('integration_id', '=', integrationId);
  return after ? q.where(keysetAfter(after)) : q;
}

export const keysetOf = (observedAt: string | null, id: string | null): Keyset | null =>
  observedAt !== null && id !== null ? { observedAt, id } : null;

const sameKeyset = (a: Keyset | null, b: Keyset | null) =>
  a === b || (a !== null && b !== null && a.observedAt === b.observedAt && a.id === b.id);

/** Brings the baseline up to the newest stored event; returns how many events it folded in. */
export async function refreshBaselines(
  db: Kysely<Database>,
  integrationId: string,
  p: DetectorParams['unusual_ip'],
  now: number,
  chunk = BASELINE_CHUNK,
): Promise<{ events: number; chunks: number }> {
  const cursor = await readAnomalyCursor(db, integrationId);
  if (cursor && cursor.prefix_bits !== null && cursor.prefix_bits !== p.ipv4_prefix_bits)
    await recomputePrefixes(db, integrationId, p.ipv4_prefix_bits, now);
  let after = keysetOf(cursor?.baseline_observed_at ?? null, cursor?.baseline_event_id ?? null);
  let events = 0;
  let chunks = 0;
  for (;;) {
    const end = await nextKeyset(db, integrationId, after, chunk);
    if (!end) break;
    const from = after;
    const folded = await db.transaction().execute(async (trx) => {
      // Another process folded this chunk meanwhile: start again from where it got.
      const current = await readAnomalyCursor(trx, integrationId);
      if (
        !sameKeyset(keysetOf(current?.baseline_observed_at ?? null, current?.baseline_event_id ?? null), from)
      )
        return null;
      const n = await foldChunk(trx, integrationId, from, end, p.ipv4_prefix_bits);
      await writeAnomalyCursor(
        trx,
        integrationId,
        { baseline_observed_at: end.observedAt, baseline_event_id: end.id, prefix_bits: p.ipv4_prefix_bits },
        iso(now),
      );
      return n;
    });
    if (folded === null) {
      const current = await readAnomalyCursor(db, integrationId);
      after = keysetOf(current?.baseline_observed_at ?? null, current?.baseline_event_id ?? null);
      continue;
    }
    events += folded;
    chunks++;
    after = end;
  }
  await db
    .deleteFrom('anomaly_actor_ips')
    .where('integration_id', '=', integrationId)
    .where('last_seen', '<', iso(now - p.baseline_days * 86_400_000))
    .execute();
  return { events, chunks };
}

/** One chunk of events as (actor, address) aggregates merged into the baseline. */
async function foldChunk(
  db: Kysely<Database>,
  integrationId: string,
  after: Keyset | null,
  upTo: Keyset,
  bits: number,
): Promise<number> {
  const rows = await chunkAddresses(db, integrationId, after, upTo).execute();
  let events = 0;
  for (let i = 0; i < rows.length; i += UPSERT_ROWS) {
    const values = rows.slice(i, i + UPSERT_ROWS).map((r) => {
      events += Number(r.n);
      return {
        integration_id: integrationId,
        actor: String(r.actor_upn),
        ip: String(r.client_ip),
        prefix: ipPrefix(String(r.client_ip), bits),
        first_seen: ts(r.first),
        last_seen: ts(r.last),
        events: Number(r.n),
      };
    });
    await db
      .insertInto('anomaly_actor_ips')
      .values(values)
      .onConflict((oc) =>
        oc.columns(['integration_id', 'actor', 'ip']).doUpdateSet({
          first_seen: sql`case when excluded.first_seen < anomaly_actor_ips.first_seen then excluded.first_seen else anomaly_actor_ips.first_seen end`,
          last_seen: sql`case when excluded.last_seen > anomaly_actor_ips.last_seen then excluded.last_seen else anomaly_actor_ips.last_seen end`,
          events: sql`anomaly_actor_ips.events + excluded.events`,
        }),
      )
      .execute();
  }
  return events;
}

/** The (actor, address) aggregates of the events in one chunk: a range of audit_events_observed. */
export function chunkAddresses(
  db: Kysely<Database>,
  integrationId: string,
  after: Keyset | null,
  upTo: Keyset,
) {
  return db
    .selectFrom('audit_events')
    .select((eb) => [
      'actor_upn',
      'client_ip',
      eb.fn.min('time').as('first'),
      eb.fn.max('time').as('last'),
      eb.fn.countAll().as('n'),
    ])
    .where('integration_id', '=', integrationId)
    .where(keysetRange(after, upTo))
    .where('actor_upn', 'is not', null)
    .where('client_ip', 'is not', null)
    .groupBy(['actor_upn', 'client_ip']);
}

/** ipv4_prefix_bits changed: every stored address gets its prefix again (pages by key). */
async function recomputePrefixes(db: Kysely<Database>, integrationId: string, bits: number, now: number) {
  await db.transaction().execute(async (trx) => {
    let after: { actor: string; ip: string } | null = null;
    for (;;) {
      let q = trx
        .selectFrom('anomaly_actor_ips')
        .select(['actor', 'ip'])
        .where('integration_id', '=', integrationId);
      if (after) {
        const a: { actor: string; ip: string } = after;
        q = q.where(sql<boolean>`(actor > ${a.actor} or (actor = ${a.actor} and ip > ${a.ip}))`);
      }
      const page = await q.orderBy('actor').orderBy('ip').limit(PAGE).execute();
      for (const r of page)
        await trx
          .updateTable('anomaly_actor_ips')
          .set({ prefix: ipPrefix(r.ip, bits) })
          .where('integration_id', '=', integrationId)
          .where('actor', '=', r.actor)
          .where('ip', '=', r.ip)
          .execute();
      if (page.length < PAGE) break;
      after = page[page.length - 1];
    }
    await writeAnomalyCursor(trx, integrationId, { prefix_bits: bits }, iso(now));
  });
}

/**
 * unusual_ip over the baseline: an address first used in [from, to) whose prefix the actor
 * had not used within the baseline before, by an actor with `min_history_hours` of history,
 * and (by default) a prefix nobody in the tenant used before. Its evidence: the actor's events
 * from that prefix from then on, streamed. Same judgement as detectUnusualIp over the events.
 */
export async function detectUnusualIpFromBaseline(
  db: Kysely<Database>,
  integrationId: string,
  p: DetectorParams['unusual_ip'],
  span: { from: number; to: number },
  stats?: LoadStats,
): Promise<Detection[]> {
  const baselineMs = p.baseline_days * 86_400_000;
  const out: Detection[] = [];
  const judged = new Set<string>();
  let after: { first: string; actor: string; ip: string } | null = null;
  for (;;) {
    let q = db
      .selectFrom('anomaly_actor_ips')
      .select(['actor', 'ip', 'prefix', 'first_seen'])
      .where('integration_id', '=', integrationId)
      .where('first_seen', '>=', iso(span.from))
      .where('first_seen', '<', iso(span.to));
    if (after) {
      const a: { first: string; actor: string; ip: string } = after;
      q = q.where(
        sql<boolean>`(first_seen > ${a.first} or (first_seen = ${a.first} and (actor > ${a.actor} or (actor = ${a.actor} and ip > ${a.ip}))))`,
      );
    }
    const page = await q.orderBy('first_seen').orderBy('actor').orderBy('ip').limit(PAGE).execute();
    for (const c of page) {
      const key = `${c.actor}|${c.prefix}`;
      if (judged.has(key)) continue;
      judged.add(key);
      const d = await judgeAddress(
        db,
        integrationId,
        p,
        baselineMs,
        c.actor,
        c.prefix,
        Date.parse(ts(c.first_seen)),
        stats,
      );
      if (d) out.push(d);
    }
    if (page.length < PAGE) break;
    const last = page[page.length - 1];
    after = { first: ts(last.first_seen), actor: last.actor, ip: last.ip };
  }
  return out.sort((a, b) => a.from.localeCompare(b.from));
}

async function judgeAddress(
  db: Kysely<Database>,
  integrationId: string,
  p: DetectorParams['unusual_ip'],
  baselineMs: number,
  actor: string,
  prefix: string,
  t0: number,
  stats: LoadStats | undefined,
): Promise<Detection | null> {
  const mine = await db
    .selectFrom('anomaly_actor_ips')
    .select(['ip', 'prefix', 'first_seen', 'last_seen'])
    .where('integration_id', '=', integrationId)
    .where('actor', '=', actor)
    .execute();
  const known = (r: { first_seen: unknown; last_seen: unknown }) =>
    Date.parse(ts(r.first_seen)) < t0 && Date.parse(ts(r.last_seen)) >= t0 - baselineMs;
  const inPrefix = mine.filter((r) => r.prefix === prefix);
  if (inPrefix.some(known)) return null;
  const firstSeen = Math.min(...mine.map((r) => Date.parse(ts(r.first_seen))));
  if (t0 - firstSeen < p.min_history_hours * 3_600_000) return null;
  if (p.ignore_tenant_prefixes) {
    const tenant = await db
      .selectFrom('anomaly_actor_ips')
      .select('actor')
      .where('integration_id', '=', integrationId)
      .where('prefix', '=', prefix)
      .where('first_seen', '<', iso(t0))
      .where('last_seen', '>=', iso(t0 - baselineMs))
      .limit(1)
      .executeTakeFirst();
    if (tenant) return null;
  }
  const evidence = new EvidenceBuilder();
  const ips = inPrefix.map((r) => r.ip);
  let cursor: { time: string; id: string } | null = null;
  for (;;) {
    let q = auditEventsQuery(db, { integrationId, actor, from: iso(t0) }).where('client_ip', 'in', ips);
    if (cursor) {
      const c: { time: string; id: string } = cursor;
      q = q.where(sql<boolean>`(time > ${c.time} or (time = ${c.time} and id > ${c.id}))`);
    }
    const rows = await q.orderBy('time').orderBy('id').limit(PAGE).execute();
    countRows(stats, rows.length);
    for (const r of rows) evidence.add(activityEventOf(r));
    if (rows.length < PAGE) break;
    const last = rows[rows.length - 1];
    cursor = { time: ts(last.time), id: String(last.id) };
  }
  const first = evidence.first;
  const last = evidence.last;
  if (!first || !last) return null;
  return {
    detector: 'unusual_ip',
    severity: p.severity as Severity,
    resourceType: 'user',
    resourceId: actor,
    driveId: null,
    itemId: null,
    actor,
    reason: `${actor} used ${first.ip} (${prefix}), never seen for them in ${p.baseline_days} days`,
    from: iso(first.time),
    to: iso(last.time),
    evidence: evidence.evidence({ prefix }),
  };
}
