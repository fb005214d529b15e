import { selectParam } from '../resources/graph-query.ts';
import { tenantSettings } from '../resources/tenant-settings.ts';
import type { ResourceDef } from '../resources/types.ts';
import { type ChangeSource, upsertRows } from '../store/apply.ts';
import { resolveSyncErrors } from '../store/sync-state.ts';
import { inTransaction, reportError, rowContext, type SyncContext, zodMessage } from './context.ts';
import { singleObject } from './payloads.ts';

const def = tenantSettings as ResourceDef<unknown>;

/**
 * GET /admin/sharepoint/settings (SharePointTenantSettings.Read.All, 1 RU) into the one
 * tenant_settings row of the integration, with history like every resource. Throws the
 * GraphError of a failed read (a 403 when the permission is missing); an answer its schema
 * rejects is recorded as an invalidPayload error and leaves the stored row as it was.
 */
export async function collectTenantSettings(
  ctx: SyncContext,
  source: ChangeSource,
): Promise<{ changes: number }> {
  const res = await ctx.client.request<unknown>({
    url: `${tenantSettings.graph.endpoint}?$select=${selectParam(def)}`,
    resource: 'tenantSettings',
  });
  const parsed = tenantSettings.schema.safeParse(singleObject(res.body));
  if (!parsed.success) {
    await reportError(ctx, {
      resourceType: 'tenant_settings',
      code: 'invalidPayload',
      message: `unexpected sharepointSettings payload: ${zodMessage(parsed.error)}`,
      requestId: res.requestId ?? null,
    });
    return { changes: 0 };
  }
  const row = tenantSettings.toRow(parsed.data, rowContext(ctx));
  const records = await inTransaction(
    ctx,
    source,
    async (actx) => (await upsertRows(actx, def, [row])).changes,
  );
  await resolveSyncErrors(ctx.store.db, ctx.integration.id, 'tenant_settings');
  return { changes: records.length };
}
