import type { ApiDeps } from '../deps.ts';
import type { ZodApp } from '../zod-app.ts';

/** The alerts routes of the REST API (mounted under /api/v1). */
export async function alertsRoutes(_app: ZodApp, _deps: ApiDeps): Promise<void> {}
