import type { ApiDeps } from '../deps.ts';
import type { ZodApp } from '../zod-app.ts';

/** The integrations routes of the REST API (mounted under /api/v1). */
export async function integrationsRoutes(_app: ZodApp, _deps: ApiDeps): Promise<void> {}
