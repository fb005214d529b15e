import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { integrationFilter } from '../schemas.ts';
import type { ZodApp } from '../zod-app.ts';
import { exposureCounts, exposureSchema, exposureTrend, exposureTrendSchema } from './overview/exposure.ts';
import {
  findingCountsSchema,
  latestPackScores,
  openFindingsBySeverity,
  packScoresSchema,
  recentAlerts,
  recentAlertsSchema,
} from './overview/findings-packs-alerts.ts';
import { syncHealth, syncHealthSchema } from './overview/health.ts';

const overviewQuery = z.object({
  integrationId: integrationFilter,
  days: z.coerce.number().int().min(1).max(90).default(30).describe('Days of exposure trend (1–90)'),
});

const overviewSchema = z.object({
  exposure: exposureSchema.describe('Live files (not folders) and their bytes by exposure'),
  exposureTrend: exposureTrendSchema,
  findings: findingCountsSchema,
  packs: packScoresSchema,
  syncHealth: syncHealthSchema,
  recentAlerts: recentAlertsSchema,
});

/** The overview routes of the REST API (mounted under /api/v1). */
export async function overviewRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  app.get(
    '/overview',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['overview'],
        summary: 'Exposure, its trend, open findings, pack scores, sync health and recent alerts',
        querystring: overviewQuery,
        response: { 200: overviewSchema },
      },
    },
    async (req) => {
      const now = deps.now?.() ?? new Date();
      const { integrationId, days } = req.query;
      return {
        exposure: await exposureCounts(deps.db, integrationId),
        exposureTrend: await exposureTrend(deps.db, now, days, integrationId),
        findings: await openFindingsBySeverity(deps.db, integrationId),
        packs: await latestPackScores(deps.db, integrationId),
        syncHealth: await syncHealth(deps.db, now, integrationId),
        recentAlerts: await recentAlerts(deps.db, 10),
      };
    },
  );
}
