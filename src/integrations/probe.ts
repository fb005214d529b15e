import { GraphError } from '../graph/errors.ts';
import type { GraphClient } from '../graph/types.ts';
import { capabilities } from '../resources/capabilities.ts';

/**
 * Probes what an app registration may read, one cheap Graph request per capability, so
 * the user sees at once which application permission is missing and what for. A missing
 * permission never stops the rest: collection keeps going for what is granted. What is
 * probed, with which permission and what for, comes from the resource definitions
 * (capabilities.ts).
 */

export type ProbeStatus = 'granted' | 'missing' | 'error' | 'skipped';

export interface ProbeResult {
  capability: string;
  permission: string;
  neededFor: string;
  status: ProbeStatus;
  /** Graph error code and request id when not granted. */
  detail?: string;
}

type ProbeFn = (client: GraphClient, found: Found) => Promise<boolean>;

interface Found {
  tenantId: string;
  /** A few user ids from the users probe: the drives probe walks them. */
  userIds: string[];
  driveId?: string;
  rootId?: string;
}

/**
 * How each capability is probed, one cheap request. A resource type without a probe here
 * shares its permission with one that has (group_member with group, user_drive with drive,
 * item_label with drive_item);
 * probe.test.ts checks that every permission a resource type needs is probed. The optional
 * organization read has no probe (sync falls back without it). Probes run in capability
 * order (capabilities.ts): users before drives before items before permissions.
 */
export const PROBES: Readonly<Record<string, ProbeFn>> = {
  async user(client, found) {
    const res = await client.request<{ value: Array<{ id: string }> }>({
      url: '/users?$select=id&$top=10',
      resource: 'users',
    });
    found.userIds = res.body.value.map((u) => u.id);
    return true;
  },
  async signInActivity(client) {
    await client.request({ url: '/users?$select=id,signInActivity&$top=1', resource: 'signInActivity' });
    return true;
  },
  async user_mfa(client) {
    await client.request({
      url: '/reports/authenticationMethods/userRegistrationDetails',
      resource: 'mfa',
    });
    return true;
  },
  async group(client) {
    await client.request({ url: '/groups?$select=id&$top=1', resource: 'groups' });
    return true;
  },
  async drive(client, found) {
    // Walk a few users: one without a provisioned OneDrive answers 404, which is normal.
    for (const userId of found.userIds) {
      try {
        const drive = await client.request<{ id: string }>({
          url: `/users/${encodeURIComponent(userId)}/drive`,
          resource: 'drives',
        });
        found.driveId = drive.body.id;
        return true;
      } catch (err) {
        if (err instanceof GraphError && err.isNotFound) continue;
        throw err;
      }
    }
    return false;
  },
  async drive_item(client, found) {
    if (!found.driveId) return false;
    const root = await client.request<{ id: string }>({
      url: `/drives/${encodeURIComponent(found.driveId)}/root`,
      resource: 'items',
    });
    found.rootId = root.body.id;
    await client.request({
      url: `/drives/${encodeURIComponent(found.driveId)}/root/delta?token=latest`,
      resource: 'items',
    });
    return true;
  },
  async permission(client, found) {
    if (!found.driveId || !found.rootId) return false;
    await client.request({
      url: `/drives/${encodeURIComponent(found.driveId)}/items/${encodeURIComponent(found.rootId)}/permissions`,
      resource: 'permissions',
    });
    return true;
  },
  async sensitivity_label(client) {
    // Optional: without it file labels are kept by id, without names.
    await client.request({
      url: '/security/dataSecurityAndGovernance/sensitivityLabels',
      resource: 'sensitivityLabels',
    });
    return true;
  },
  async tenant_settings(client) {
    await client.request({
      url: '/admin/sharepoint/settings?$select=sharingCapability',
      resource: 'tenantSettings',
    });
    return true;
  },
  async remediation(client, found) {
    // Harmless: this id cannot exist, so a permitted app gets 404 (or 400), one without
    // Files.ReadWrite.All 403. Same request as src/remediate/write-access.ts.
    if (!found.driveId || !found.rootId) return false;
    try {
      await client.request({
        method: 'DELETE',
        url: `/drives/${encodeURIComponent(found.driveId)}/items/${encodeURIComponent(found.rootId)}/permissions/drivewarden-write-probe`,
        resource: 'permissions',
      });
    } catch (err) {
      if (err instanceof GraphError && (err.status === 404 || err.status === 400)) return true;
      throw err;
    }
    return true;
  },
  async subscriptions(client) {
    // Listing needs no special permission; creating a drive subscription does. The
    // subscription manager reports a 403 on creation per drive if it is missing.
    await client.request({ url: '/subscriptions', resource: 'subscriptions' });
    return true;
  },
  async audit(client, found) {
    await client.request({
      url: `/${encodeURIComponent(found.tenantId)}/activity/feed/subscriptions/list`,
      api: 'management',
      resource: 'audit',
    });
    return true;
  },
};

/** Runs every probe; never throws for a Graph error (it becomes the capability's status). */
export async function probeIntegration(client: GraphClient, tenantId: string): Promise<ProbeResult[]> {
  const found: Found = { tenantId, userIds: [] };
  const results: ProbeResult[] = [];
  for (const cap of capabilities()) {
    const probe = PROBES[cap.capability];
    if (!probe) continue;
    const base = { capability: cap.capability, permission: cap.permission, neededFor: cap.neededFor };
    try {
      const ran = await probe(client, found);
      results.push(
        ran
          ? { ...base, status: 'granted' }
          : { ...base, status: 'skipped', detail: 'nothing to probe with (no user or drive readable)' },
      );
    } catch (err) {
      if (!(err instanceof GraphError)) throw err;
      // Credentials that fail make every probe fail: surface that once, not nine times.
      if (err.status === 401 && results.length === 0) throw err;
      const detail = `${err.code}${err.requestId ? ` (request-id ${err.requestId})` : ''}: ${err.message}`;
      results.push({ ...base, status: err.isAccessDenied ? 'missing' : 'error', detail });
    }
  }
  return results;
}
