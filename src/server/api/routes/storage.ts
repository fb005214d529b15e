import { z } from 'zod';
import type { ApiDeps } from '../deps.ts';
import { pageSchema } from '../pagination.ts';
import type { ZodApp } from '../zod-app.ts';
import { policiesQuerySchema, storagePolicies, storagePolicySchema } from './storage/policies.ts';
import { storageTop, topQuerySchema, topSchema } from './storage/top.ts';
import { storageUsage, usageQuerySchema, usageRowSchema } from './storage/usage.ts';

const tags = ['storage'];
const viewer = { access: 'viewer' as const };

/** The storage routes of the REST API (mounted under /api/v1). */
export async function storageRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  app.get(
    '/storage/usage',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'Bytes used per user (drives they own) or per group (drives of its members)',
        querystring: usageQuerySchema,
        response: { 200: pageSchema(usageRowSchema) },
      },
    },
    async (req) => storageUsage(deps.db, req.query),
  );
  app.get(
    '/storage/top',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'Totals, drives per quota state, the largest drives and files',
        querystring: topQuerySchema,
        response: { 200: topSchema },
      },
    },
    async (req) => storageTop(deps.db, req.query),
  );
  app.get(
    '/storage/policies',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'Storage policies and the drives violating or nearing them',
        querystring: policiesQuerySchema,
        response: { 200: z.object({ items: z.array(storagePolicySchema) }) },
      },
    },
    async (req) => ({ items: await storagePolicies(deps.db, req.query.integrationId) }),
  );
}
