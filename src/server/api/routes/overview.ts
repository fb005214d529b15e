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

/**
 * Exposure counts read every live item's index entry and the trend every permission: on the
 * 1,000,000-item bench store (machine loaded) 2.4 s and 5.3 s cold, so one answer serves a minute.
 */
const SCAN_TTL_MS = 60_000;

/** The overview routes of the REST API (mounted under /api/v1). */
export async function overviewRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const recent = new Map<
    string,
    {
      at: number;
      value: {
        exposure: Awaited<ReturnType<typeof exposureCounts>>;
        exposureTrend: Awaited<ReturnType<typeof exposureTrend>>;
      };
    }
  >();
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
      // The two scans of the overview (every live item; every permission) are kept a minute.
      const key = `${integrationId ?? '*'}\u0000${days}`;
      const cached = recent.get(key);
      const scans =
        cached && now.getTime() - cached.at < SCAN_TTL_MS && now.getTime() >= cached.at
          ? cached.value
          : {
              exposure: await exposureCounts(deps.db, integrationId),
              exposureTrend: await exposureTrend(deps.db, now, days, integrationId),
            };
      if (scans !== cached?.value) recent.set(key, { at: now.getTime(), value: scans });
      return {
        ...scans,
        findings: await openFindingsBySeverity(deps.db, integrationId),
        packs: await latestPackScores(deps.db, integrationId),
        syncHealth: await syncHealth(deps.db, now, integrationId),
        recentAlerts: await recentAlerts(deps.db, 10),
      };
    },
  );
}
