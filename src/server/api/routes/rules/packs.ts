import { z } from 'zod';
import { computePackScores, packScoreHistory } from '../../../../rules/pack-score.ts';
import type { ApiDeps } from '../../deps.ts';
import { notFound } from '../../errors.ts';
import { pageSchema } from '../../pagination.ts';
import { integrationFilter } from '../../schemas.ts';
import type { ZodApp } from '../../zod-app.ts';
import { loadPacksOnce } from './packs-data.ts';

/** /packs: compliance packs (CISA SCuBA, CIS), their controls and scores per integration. */

const scoreSchema = z.object({
  integrationId: z.string(),
  passing: z.number().int(),
  evaluated: z.number().int(),
  total: z.number().int(),
  score: z.number().nullable().describe('passing / evaluated (0–1); null while nothing is evaluated'),
});

const packSummary = z.object({
  id: z.string(),
  title: z.string(),
  version: z.string(),
  source: z.string().describe('Where the framework is published'),
  description: z.string().nullable(),
  controls: z.number().int(),
  covered: z.number().int().describe('Controls decided by drivewarden rules'),
  scores: z.array(scoreSchema).describe('The current score per integration'),
});

const controlScoreSchema = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(['pass', 'fail', 'not_evaluated']),
  rules: z.array(z.string()),
  notRun: z.array(z.string()),
  failing: z.array(z.object({ ruleId: z.string(), open: z.number().int() })),
});

const packDetail = packSummary.extend({
  status: z
    .array(scoreSchema.extend({ controls: z.array(controlScoreSchema) }))
    .describe('Per integration: every control with its status'),
  history: z
    .array(scoreSchema.extend({ packId: z.string(), at: z.string() }))
    .describe('Recorded scores, newest first (a row whenever the score changed)'),
});

async function integrationIds(deps: ApiDeps, only?: string): Promise<string[]> {
  let q = deps.db.selectFrom('integrations').select('id').orderBy('name');
  if (only) q = q.where('id', '=', only);
  return (await q.execute()).map((r) => r.id);
}

export async function packsRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  app.get(
    '/packs',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['packs'],
        summary: 'The compliance packs with their current score per integration',
        querystring: z.object({ integrationId: integrationFilter }),
        response: { 200: pageSchema(packSummary) },
      },
    },
    async (request) => {
      const packs = loadPacksOnce();
      const scores = new Map<string, z.infer<typeof scoreSchema>[]>();
      for (const integrationId of await integrationIds(deps, request.query.integrationId))
        for (const s of await computePackScores(deps.db, integrationId, packs))
          scores.set(s.packId, [...(scores.get(s.packId) ?? []), scoreOf(s)]);
      // A handful of packs shipped with drivewarden: one page.
      return {
        items: packs.map((p) => ({
          id: p.id,
          title: p.title,
          version: p.version,
          source: p.source,
          description: p.description ?? null,
          controls: p.controls.length,
          covered: p.controls.filter((c) => c.rules.length > 0).length,
          scores: scores.get(p.id) ?? [],
        })),
        nextCursor: null,
      };
    },
  );

  app.get(
    '/packs/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['packs'],
        summary: "A pack's controls, their status per integration and its scores over time",
        params: z.object({ id: z.string().min(1).max(100) }),
        querystring: z.object({
          integrationId: integrationFilter,
          historyLimit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: packDetail },
      },
    },
    async (request) => {
      const pack = loadPacksOnce().find((p) => p.id === request.params.id);
      if (!pack) throw notFound(`pack ${request.params.id}`);
      const status = [];
      for (const integrationId of await integrationIds(deps, request.query.integrationId)) {
        const [s] = await computePackScores(deps.db, integrationId, [pack]);
        status.push({ ...scoreOf(s), controls: s.controls });
      }
      const history = await packScoreHistory(deps.db, {
        packId: pack.id,
        integrationId: request.query.integrationId,
        limit: request.query.historyLimit,
      });
      return {
        id: pack.id,
        title: pack.title,
        version: pack.version,
        source: pack.source,
        description: pack.description ?? null,
        controls: pack.controls.length,
        covered: pack.controls.filter((c) => c.rules.length > 0).length,
        scores: status.map(({ controls: _c, ...s }) => s),
        status,
        history,
      };
    },
  );
}

function scoreOf(s: {
  integrationId: string;
  passing: number;
  evaluated: number;
  total: number;
  score: number | null;
}) {
  return {
    integrationId: s.integrationId,
    passing: s.passing,
    evaluated: s.evaluated,
    total: s.total,
    score: s.score,
  };
}
