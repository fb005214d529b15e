import type { Kysely } from 'kysely';
import { z } from 'zod';
import { loadBuiltinPacks } from '../../../../rules/packs.ts';
import type { Database } from '../../../../store/schema.ts';

/** The overview's findings by severity, latest pack scores and recent alert deliveries. */

export const findingCountsSchema = z
  .object({ critical: z.number(), high: z.number(), medium: z.number(), low: z.number(), info: z.number() })
  .describe('Open findings by severity');

export async function openFindingsBySeverity(db: Kysely<Database>, integrationId?: string) {
  let q = db
    .selectFrom('findings')
    .select((eb) => ['severity', eb.fn.countAll<number | string>().as('n')])
    .where('status', '=', 'open')
    .groupBy('severity');
  if (integrationId) q = q.where('integration_id', '=', integrationId);
  const out = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const r of await q.execute()) if (r.severity in out) out[r.severity as keyof typeof out] = Number(r.n);
  return out;
}

export const packScoresSchema = z.array(
  z.object({
    id: z.string(),
    title: z.string(),
    integrationId: z.string(),
    score: z.number().nullable().describe('passing / evaluated controls (0–1); null: nothing evaluated'),
    passing: z.number(),
    evaluated: z.number(),
    at: z.string(),
  }),
);

let packTitles: Map<string, string> | undefined;

/** The latest recorded score of each pack per integration (pack_scores_recent index). */
export async function latestPackScores(db: Kysely<Database>, integrationId?: string) {
  if (!packTitles) {
    try {
      packTitles = new Map(loadBuiltinPacks().map((p) => [p.id, p.title]));
    } catch {
      packTitles = new Map();
    }
  }
  let latest = db
    .selectFrom('pack_scores')
    .select((eb) => ['integration_id', 'pack_id', eb.fn.max('id').as('id')])
    .groupBy(['integration_id', 'pack_id']);
  if (integrationId) latest = latest.where('integration_id', '=', integrationId);
  const ids = (await latest.execute()).map((r) => Number(r.id));
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('pack_scores')
    .select(['integration_id', 'pack_id', 'passing', 'evaluated', 'at'])
    .where('id', 'in', ids)
    .orderBy('pack_id')
    .orderBy('integration_id')
    .execute();
  return rows.map((r) => ({
    id: r.pack_id,
    title: packTitles?.get(r.pack_id) ?? r.pack_id,
    integrationId: r.integration_id,
    score: r.evaluated === 0 ? null : r.passing / r.evaluated,
    passing: r.passing,
    evaluated: r.evaluated,
    at: r.at,
  }));
}

export const recentAlertsSchema = z.array(
  z.object({
    at: z.string(),
    policy: z.string().describe('Policy name (its id when removed)'),
    channel: z.string().describe('Channel name (its id when removed)'),
    status: z.enum(['pending', 'delivered', 'dead']),
    title: z.string(),
    severity: z.string(),
    attempts: z.number(),
  }),
);

/** The newest alert deliveries (one row per alert and channel in the outbox). */
export async function recentAlerts(db: Kysely<Database>, limit: number) {
  const rows = await db
    .selectFrom('alert_outbox as o')
    .leftJoin('alert_policies as p', 'p.id', 'o.policy_id')
    .leftJoin('alert_channels as c', 'c.id', 'o.channel_id')
    .select([
      'o.created_at',
      'o.policy_id',
      'o.channel_id',
      'p.name as policy_name',
      'c.name as channel_name',
      'o.status',
      'o.title',
      'o.severity',
      'o.attempts',
    ])
    .orderBy('o.id', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    at: r.created_at,
    policy: r.policy_name ?? r.policy_id,
    channel: r.channel_name ?? r.channel_id,
    status: r.status,
    title: r.title,
    severity: r.severity,
    attempts: Number(r.attempts),
  }));
}
