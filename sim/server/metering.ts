/** Resource units and the per-tenant budget (docs/graph-behaviour.md, "Throttling and cost"). */
import type { Runtime } from '../runtime.ts';

/** RU price of a Graph request by endpoint template (e.g. "/drives/{id}/root/delta"). */
export function ruCost(method: string, template: string, query: Record<string, unknown>): number {
  if (template.includes('/permissions')) return 5;
  if (template.endsWith('/root/delta')) return typeof query.token === 'string' && query.token !== '' ? 1 : 2;
  if (method !== 'GET') return 2;
  if (
    template === '/users' ||
    template.endsWith('/delta') ||
    template === '/groups' ||
    template.endsWith('/transitiveMembers') ||
    template.endsWith('/members') ||
    template.endsWith('/children') ||
    template.startsWith('/reports/')
  )
    return 2;
  return 1;
}

/**
 * The permission-gated resource types a request touches (forbidden403 `resourceType`). Writes
 * need more than reads: removing or changing a sharing permission needs Files.ReadWrite.All
 * (`permissionsWrite`), changing tenant settings SharePointTenantSettings.ReadWrite.All
 * (`tenantSettingsWrite`), on top of the read permission.
 */
export function resourceTypeOf(template: string, query: Record<string, unknown>, method = 'GET'): string[] {
  const write = method !== 'GET' && method !== 'HEAD';
  if (template.includes('/permissions')) return write ? ['permissions', 'permissionsWrite'] : ['permissions'];
  if (template.startsWith('/reports/')) return ['mfa'];
  if (template.startsWith('/subscriptions')) return ['subscriptions'];
  if (template.startsWith('/admin/sharepoint/settings'))
    return write ? ['tenantSettings', 'tenantSettingsWrite'] : ['tenantSettings'];
  if (template.startsWith('/security/dataSecurityAndGovernance/sensitivityLabels'))
    return ['sensitivityLabels'];
  // extractSensitivityLabels needs Files.Read.All like every item read; 'labels' denies it alone.
  if (template.endsWith('/extractSensitivityLabels')) return ['items', 'labels'];
  if (template === '/users/{id}/drive' || template === '/drives/{id}') return ['drives'];
  if (template.startsWith('/users/{id}/drive/') || template.startsWith('/drives/')) return ['items'];
  if (template.startsWith('/users/{id}/teamwork/')) return ['teamsActivity'];
  if (template.startsWith('/users')) {
    const select = typeof query.$select === 'string' ? query.$select.toLowerCase() : '';
    return select.includes('signinactivity') ? ['users', 'signInActivity'] : ['users'];
  }
  if (template.startsWith('/groups')) return ['groups'];
  if (template.startsWith('/organization')) return ['organization'];
  return [];
}

export interface Charge {
  throttled: boolean;
  retryAfter?: string;
  headers: Record<string, string>;
}

export class RuMeter {
  private windowStart = Date.now();
  private used = 0;
  /** Real-time ms until which the tenant was told to wait. */
  retryAfterUntil = 0;

  constructor(private rt: Runtime) {}

  private windowMs(): number {
    return 60_000 / Math.max(1e-6, this.rt.options.timeScale);
  }

  noteRetryAfter(seconds: number): void {
    this.retryAfterUntil = Math.max(this.retryAfterUntil, Date.now() + seconds * 1000);
  }

  /** Charges `cost` RU; throttles when the per-minute budget is spent. Throttled requests still count. */
  charge(cost: number): Charge {
    const now = Date.now();
    const w = this.windowMs();
    if (now - this.windowStart >= w) {
      this.windowStart = now - ((now - this.windowStart) % w);
      this.used = 0;
    }
    this.rt.counters.ruSpent += cost;
    const budget = this.rt.options.ruBudgetPerMinute;
    if (budget === undefined) {
      this.used += cost;
      return { throttled: false, headers: {} };
    }
    const resetMs = this.windowStart + w - now;
    if (this.used + cost > budget) {
      this.used += cost;
      const secs = Math.max(0.001, resetMs / 1000);
      const retryAfter = Number.isInteger(secs) ? String(secs) : secs.toFixed(3);
      this.noteRetryAfter(Number(retryAfter));
      return {
        throttled: true,
        retryAfter,
        headers: {
          'RateLimit-Limit': String(budget),
          'RateLimit-Remaining': '0',
          'RateLimit-Reset': String(Math.max(1, Math.ceil(secs))),
        },
      };
    }
    this.used += cost;
    const headers: Record<string, string> = {};
    if (this.used >= budget * 0.8) {
      headers['RateLimit-Limit'] = String(budget);
      headers['RateLimit-Remaining'] = String(Math.max(0, budget - this.used));
      headers['RateLimit-Reset'] = String(Math.max(1, Math.ceil(resetMs / 1000)));
    }
    return { throttled: false, headers };
  }
}
