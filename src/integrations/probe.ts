import { GraphError } from '../graph/errors.ts';
import type { GraphClient } from '../graph/types.ts';

/**
 * Probes what an app registration may read, one cheap Graph request per capability, so
 * the user sees at once which application permission is missing and what for. A missing
 * permission never stops the rest: collection keeps going for what is granted.
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

interface Capability {
  capability: string;
  permission: string;
  neededFor: string;
  /** Returns false when the probe could not run (nothing to probe against). */
  probe(client: GraphClient, found: Found): Promise<boolean>;
}

interface Found {
  tenantId: string;
  /** A few user ids from the users probe: the drives probe walks them. */
  userIds: string[];
  driveId?: string;
  rootId?: string;
}

const CAPABILITIES: Capability[] = [
  {
    capability: 'users',
    permission: 'User.Read.All',
    neededFor: 'users, guests, account state, managers; user change notifications',
    async probe(client, found) {
      const res = await client.request<{ value: Array<{ id: string }> }>({
        url: '/users?$select=id&$top=10',
        resource: 'users',
      });
      found.userIds = res.body.value.map((u) => u.id);
      return true;
    },
  },
  {
    capability: 'groups',
    permission: 'GroupMember.Read.All',
    neededFor: 'groups and their members (group storage policies, group sharing)',
    async probe(client) {
      await client.request({ url: '/groups?$select=id&$top=1', resource: 'groups' });
      return true;
    },
  },
  {
    capability: 'signInActivity',
    permission: 'AuditLog.Read.All (+ Entra ID P1/P2)',
    neededFor: 'last sign-in of each user (inactive owners, stale accounts)',
    async probe(client) {
      await client.request({ url: '/users?$select=id,signInActivity&$top=1', resource: 'signInActivity' });
      return true;
    },
  },
  {
    capability: 'mfa',
    permission: 'AuditLog.Read.All',
    neededFor: 'MFA registration of each user (user_mfa_registered)',
    async probe(client) {
      await client.request({
        url: '/reports/authenticationMethods/userRegistrationDetails',
        resource: 'mfa',
      });
      return true;
    },
  },
  {
    capability: 'drives',
    permission: 'Files.Read.All',
    neededFor: 'OneDrive of each user, quota and owner',
    async probe(client, found) {
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
  },
  {
    capability: 'items',
    permission: 'Files.Read.All',
    neededFor: 'files and folders via delta',
    async probe(client, found) {
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
  },
  {
    capability: 'permissions',
    permission: 'Files.Read.All',
    neededFor: 'sharing permissions of each shared item',
    async probe(client, found) {
      if (!found.driveId || !found.rootId) return false;
      await client.request({
        url: `/drives/${encodeURIComponent(found.driveId)}/items/${encodeURIComponent(found.rootId)}/permissions`,
        resource: 'permissions',
      });
      return true;
    },
  },
  {
    capability: 'subscriptions',
    permission: 'Files.ReadWrite.All',
    neededFor: 'real-time change notifications (webhooks); without it drivewarden polls delta',
    async probe(client) {
      // Listing needs no special permission; creating a drive subscription does. The
      // subscription manager reports a 403 on creation per drive if it is missing.
      await client.request({ url: '/subscriptions', resource: 'subscriptions' });
      return true;
    },
  },
  {
    capability: 'audit',
    permission: 'ActivityFeed.Read (Office 365 Management API)',
    neededFor: 'audit events: downloads, accesses, sharing activity (behaviour detectors)',
    async probe(client, found) {
      await client.request({
        url: `/${encodeURIComponent(found.tenantId)}/activity/feed/subscriptions/list`,
        api: 'management',
        resource: 'audit',
      });
      return true;
    },
  },
];

/** Runs every probe; never throws for a Graph error (it becomes the capability's status). */
export async function probeIntegration(client: GraphClient, tenantId: string): Promise<ProbeResult[]> {
  const found: Found = { tenantId, userIds: [] };
  const results: ProbeResult[] = [];
  for (const cap of CAPABILITIES) {
    const base = { capability: cap.capability, permission: cap.permission, neededFor: cap.neededFor };
    try {
      const ran = await cap.probe(client, found);
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
