import type { ChangeSource } from '../store/apply.ts';
import { describeError, reportError, type SyncContext } from './context.ts';
import { collectLabelCatalogue } from './label-catalogue.ts';
import { collectTenantSettings } from './tenant-settings.ts';

export type TenantConfigStatus = Record<'tenant_settings' | 'sensitivity_label', 'ok' | string>;

/**
 * The tenant-wide configuration, on the directory schedule (syncIntegration, and the service's
 * directory poll): the SharePoint settings and the sensitivity label catalogue. A part that
 * fails (a missing permission above all) is recorded as an error of its resource type and
 * the other part still runs; nothing is thrown. Returns 'ok' or the error code per part.
 */
export async function refreshTenantConfig(
  ctx: SyncContext,
  source: ChangeSource,
): Promise<TenantConfigStatus> {
  const run = async (subject: keyof TenantConfigStatus, work: () => Promise<unknown>) => {
    try {
      await work();
      return 'ok';
    } catch (err) {
      const e = describeError(err, subject);
      await reportError(ctx, e);
      return e.code;
    }
  };
  const [settings, labels] = await Promise.all([
    run('tenant_settings', () => collectTenantSettings(ctx, source)),
    run('sensitivity_label', () => collectLabelCatalogue(ctx, source)),
  ]);
  return { tenant_settings: settings, sensitivity_label: labels };
}
