/**
 * GET /admin/sharepoint/settings: the tenant's sharepointSettings (SharePointTenantSettings.Read.All);
 * PATCH changes the properties it names (…ReadWrite.All) and answers 200 with the whole object.
 */
import type { FastifyInstance } from 'fastify';
import { MutationError } from '../model/errors.ts';
import { applySettings } from '../model/tenant-settings.ts';
import type { Runtime } from '../runtime.ts';
import { badRequest } from './errors.ts';
import { checkOptions, parseSelect, type Query } from './odata.ts';

/** Properties Graph documents as read-only on sharepointSettings (v1.0). */
const READ_ONLY = new Set(['availableManagedPathsForSiteCreation']);

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

  app.patch('/v1.0/admin/sharepoint/settings', async (req) => {
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('The request body must be a JSON object of sharepointSettings properties.');
    const changes = Object.fromEntries(Object.entries(body).filter(([k]) => !k.startsWith('@odata.')));
    const readOnly = Object.keys(changes).filter((k) => READ_ONLY.has(k));
    if (readOnly.length > 0)
      throw badRequest(`Read-only property cannot be updated: ${readOnly.join(', ')}.`);
    try {
      rt.tenant.settings = applySettings(rt.tenant.settings, changes);
    } catch (e) {
      if (e instanceof MutationError) throw badRequest(e.message);
      throw e;
    }
    const all = structuredClone(rt.tenant.settings) as unknown as Record<string, unknown>;
    return singleValue(rt, 'admin/sharepoint/settings/$entity', 'sharepointSettings', all);
  });
}
