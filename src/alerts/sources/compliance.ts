import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { Candidate } from '../batch.ts';
import type { Policy } from '../policy-repo.ts';
import { jsonColumn } from '../what-changed.ts';
import type { AlertSource } from './source.ts';

/**
 * Compliance policies: rows of `pack_scores` (a pack's score for an integration, recorded
 * whenever it changes; src/rules/pack-score.ts). An alert when the score (passing /
 * evaluated controls) falls below the policy's percentage, and when it is back.
 */
export interface PackScoreRow {
  id: number;
  integration_id: string;
  integration_name: string | null;
  pack_id: string;
  at: string;
  passing: number;
  evaluated: number;
  /** The controls that fail (from details). */
  failing: string[];
}

type CompliancePolicy = Extract<Policy, { kind: 'compliance' }>;

interface ScoreDetails {
  controls?: Array<{ id: string; status: string }>;
}

export async function readPackScores(
  db: Kysely<Database>,
  afterId: number,
  limit: number,
): Promise<PackScoreRow[]> {
  const rows = await db
    .selectFrom('pack_scores as s')
    .leftJoin('integrations as i', 'i.id', 's.integration_id')
    .select([
      's.id',
      's.integration_id',
      'i.name as integration_name',
      's.pack_id',
      's.at',
      's.passing',
      's.evaluated',
      's.details',
    ])
    .where('s.id', '>', afterId)
    .orderBy('s.id')
    .limit(limit)
    .execute();
  return rows.map(({ details, ...r }) => ({
    ...r,
    id: Number(r.id),
    passing: Number(r.passing),
    evaluated: Number(r.evaluated),
    failing: (jsonColumn<ScoreDetails>(details)?.controls ?? [])
      .filter((c) => c.status === 'fail')
      .map((c) => c.id),
  }));
}

/** Passing controls in percent, null when none was evaluated. */
function percent(passing: number, evaluated: number): number | null {
  return evaluated > 0 ? Math.round((passing / evaluated) * 1000) / 10 : null;
}

/** The score recorded before this one for the same integration and pack. */
async function previousPercent(db: Kysely<Database>, row: PackScoreRow): Promise<number | null> {
  const prev = await db
    .selectFrom('pack_scores')
    .select(['passing', 'evaluated'])
    .where('integration_id', '=', row.integration_id)
    .where('pack_id', '=', row.pack_id)
    .where('id', '<', row.id)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return prev ? percent(Number(prev.passing), Number(prev.evaluated)) : null;
}

export const complianceSource: AlertSource<CompliancePolicy, PackScoreRow> = {
  read: readPackScores,
  async match(db, policy, row, ctx): Promise<Candidate | null> {
    const f = policy.filter;
    if (f.packs.length && !f.packs.includes(row.pack_id)) return null;
    if (f.integrations.length && !f.integrations.includes(row.integration_id)) return null;
    const now = percent(row.passing, row.evaluated);
    if (now === null) return null;
    const before = await previousPercent(db, row);
    const dropped = now < f.belowPercent && (before === null || before >= f.belowPercent);
    const recovered = f.recovered && now >= f.belowPercent && before !== null && before < f.belowPercent;
    if (!dropped && !recovered) return null;
    const failing = row.failing.slice(0, 10).join(', ');
    return {
      item: {
        source: 'compliance',
        sourceId: row.id,
        event: dropped ? 'score_dropped' : 'score_recovered',
        severity: dropped ? policy.severity : 'info',
        title: `${row.pack_id} score ${dropped ? 'below' : 'back at'} ${f.belowPercent}%: ${now}%`,
        ruleId: null,
        detector: policy.name,
        integration: row.integration_name ?? row.integration_id,
        resourceType: 'pack',
        resourceId: row.pack_id,
        resourceName: row.pack_id,
        resourcePath: null,
        owner: null,
        resourceUrl: null,
        changed: `${before === null ? '—' : `${before}%`} → ${now}% (${row.passing} of ${row.evaluated} controls pass)`,
        reason: failing ? `failing controls: ${failing}${row.failing.length > 10 ? ', …' : ''}` : null,
        actor: null,
        at: row.at,
        appUrl: ctx.links.pack(row.pack_id, row.integration_id),
      },
      ref: { integrationId: row.integration_id, driveId: null, itemId: null },
    };
  },
  enrich: async (_db, c) => c,
};
