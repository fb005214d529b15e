/** GET /admin/sharepoint/settings: the tenant's sharepointSettings (SharePointTenantSettings.Read.All). */
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.ts';
import { checkOptions, parseSelect, type Query } from './odata.ts';

/** A single object as the simulator serves it: bare (with its context), or wrapped in `value` like the docs' examples. */
export function singleValue(rt: Runtime, context: string, type: string, o: Record<string, unknown>) {
  const typed = { '@odata.type': `#microsoft.graph.${type}`, ...o };
  const ctx = `${rt.graphBaseUrl}/$metadata#${context}`;
  return rt.options.wrapSingleValues
    ? { '@odata.context': ctx, value: typed }
    : { '@odata.context': ctx, ...typed };
}

export function registerTenantSettingsRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get('/v1.0/admin/sharepoint/settings', async (req) => {
    const q = req.query as Query;
    checkOptions(q, ['$select'], 'drive');
    const all = structuredClone(rt.tenant.settings) as unknown as Record<string, unknown>;
    const select = parseSelect(q, new Set(Object.keys(all)), 'microsoft.graph.sharepointSettings', 'drive');
    const o = select ? Object.fromEntries(select.map((p) => [p, all[p]])) : all;
    return singleValue(rt, 'admin/sharepoint/settings/$entity', 'sharepointSettings', o);
  });
}
