import { resources } from './index.ts';
import type { GraphPermissionUse } from './types.ts';

/**
 * What an app registration must be granted, derived from the resource definitions (each
 * names the Graph permission it needs) plus what drivewarden uses beyond its resource types.
 * The probe (probe.ts) checks these; the README's permission table is rendered from them.
 */

export interface Capability extends GraphPermissionUse {
  /** A resource type, a gated property of one (signInActivity), or an extra below. */
  capability: string;
}

/** Permissions drivewarden uses that no resource type stands for. */
export const EXTRA_CAPABILITIES: readonly Capability[] = [
  {
    capability: 'organization',
    permission: 'Organization.Read.All',
    neededFor:
      "optional: the tenant's verified domains (is_external); without it they are taken from members' UPNs",
  },
  {
    capability: 'subscriptions',
    permission: 'Files.ReadWrite.All',
    neededFor: 'real-time change notifications (webhooks); without it drivewarden polls delta',
  },
  {
    capability: 'remediation',
    permission: 'Files.ReadWrite.All',
    neededFor:
      'optional: removing sharing links and grants (drivewarden remediate); probed with a removal of a permission that cannot exist',
  },
  {
    capability: 'tenant_settings_write',
    permission: 'SharePointTenantSettings.ReadWrite.All',
    neededFor:
      'optional: fixing tenant sharing settings (drivewarden remediate settings); a 403 is explained when a fix runs',
  },
  {
    capability: 'audit',
    permission: 'ActivityFeed.Read (Office 365 Management API)',
    neededFor: 'audit events: downloads, accesses, sharing activity (behaviour detectors)',
  },
];

/**
 * Every capability in registry order: per resource type its permissions, then its gated
 * properties, then the extras.
 */
export function capabilities(): Capability[] {
  const out: Capability[] = [];
  for (const def of resources) {
    for (const p of def.graph.permissions) out.push({ capability: def.type, ...p });
    for (const [prop, p] of Object.entries(def.graph.gated ?? {})) out.push({ capability: prop, ...p });
  }
  return [...out, ...EXTRA_CAPABILITIES];
}

/** Permission → what it is needed for (every use, in order): the README's table. */
export function permissionUses(): Array<{ permission: string; neededFor: string[] }> {
  const byPermission = new Map<string, string[]>();
  for (const c of capabilities()) {
    const uses = byPermission.get(c.permission) ?? [];
    if (!uses.includes(c.neededFor)) uses.push(c.neededFor);
    byPermission.set(c.permission, uses);
  }
  return [...byPermission].map(([permission, neededFor]) => ({ permission, neededFor }));
}
