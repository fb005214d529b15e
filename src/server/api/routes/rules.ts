import type { ApiDeps } from '../deps.ts';
import type { ZodApp } from '../zod-app.ts';
import { catalogRoutes } from './rules/catalog.ts';
import { findingsRoutes } from './rules/findings.ts';
import { packsRoutes } from './rules/packs.ts';

/** The rules routes of the REST API (mounted under /api/v1): /rules, /findings, /packs. */
export async function rulesRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  await catalogRoutes(app, deps);
  await findingsRoutes(app, deps);
  await packsRoutes(app, deps);
}
