import { drive } from '../../resources/drive.ts';
import type { ResourceRow } from '../../resources/types.ts';
import { userDrive } from '../../resources/user-drive.ts';
import { userMfa } from '../../resources/user-mfa.ts';
import { type CollectError, describeError, rowContext, type SyncContext, zodMessage } from '../context.ts';
import { batchError } from '../graph-util.ts';

/** Targeted reads for users a delta round saw appear (or re-enabled): their MFA registration and OneDrive. */

export interface MfaReads {
  rows: ResourceRow[];
  errors: CollectError[];
  denied: CollectError | null;
}

/** The registration report filtered per user (only $filter/$orderby are supported), 20 per $batch. */
export async function readMfa(
  ctx: SyncContext,
  users: Array<{ id: string; upn: string }>,
): Promise<MfaReads> {
  const out: MfaReads = { rows: [], errors: [], denied: null };
  for (let i = 0; i < users.length; i += 20) {
    const part = users.slice(i, i + 20);
    const urls = part.map(
      (u) =>
        `/reports/authenticationMethods/userRegistrationDetails?$filter=${encodeURIComponent(
          `userPrincipalName eq '${u.upn.replace(/'/g, "''")}'`,
        )}`,
    );
    const responses = await ctx.client.batch<{ value?: unknown[] }>(
      part.map((_, k) => ({ id: String(k), url: urls[k], resource: 'mfa' })),
    );
    for (let k = 0; k < part.length; k++) {
      const res = responses[k];
      if (res.status >= 200 && res.status < 300 && Array.isArray(res.body?.value)) {
        for (const v of res.body.value) {
          const parsed = userMfa.schema.safeParse(v);
          if (parsed.success && parsed.data.id === part[k].id)
            out.rows.push(userMfa.toRow(parsed.data, rowContext(ctx)));
        }
        continue;
      }
      const err = batchError(res as never, 'mfa', urls[k]);
      if (err.isAccessDenied) {
        out.denied = describeError(err, 'user_mfa');
        return out;
      }
      out.errors.push(describeError(err, 'user_mfa', { resourceId: part[k].id }));
    }
  }
  return out;
}

export interface DriveReads {
  drives: ResourceRow[];
  statuses: ResourceRow[];
  errors: CollectError[];
  denied: CollectError | null;
}

/** GET /users/{id}/drive for users that appeared (as discoverDrives does for everyone), 20 per $batch. */
export async function readDrives(ctx: SyncContext, userIds: string[]): Promise<DriveReads> {
  const out: DriveReads = { drives: [], statuses: [], errors: [], denied: null };
  for (let i = 0; i < userIds.length; i += 20) {
    const part = userIds.slice(i, i + 20);
    const responses = await ctx.client.batch(
      part.map((id, k) => ({
        id: String(k),
        url: `/users/${encodeURIComponent(id)}/drive`,
        resource: 'drives',
      })),
    );
    for (let k = 0; k < part.length; k++) {
      const userId = part[k];
      const res = responses[k];
      if (res.status >= 200 && res.status < 300) {
        const parsed = drive.schema.safeParse(res.body);
        if (!parsed.success) {
          out.errors.push({
            resourceType: 'drive',
            resourceId: userId,
            code: 'invalidPayload',
            message: `unexpected drive payload for user ${userId}: ${zodMessage(parsed.error)}`,
            requestId: res.headers?.['request-id'] ?? null,
          });
          continue;
        }
        out.drives.push(drive.toRow(parsed.data, rowContext(ctx)));
        out.statuses.push(
          userDrive.toRow(
            { id: userId, driveId: parsed.data.id, provisioned: true, code: null },
            rowContext(ctx),
          ),
        );
      } else if (res.status === 404) {
        const body = res.body as { error?: { code?: string } } | undefined;
        out.statuses.push(
          userDrive.toRow(
            { id: userId, driveId: null, provisioned: false, code: body?.error?.code ?? 'itemNotFound' },
            rowContext(ctx),
          ),
        );
      } else {
        const err = batchError(res, 'drives', `/users/${userId}/drive`);
        if (err.isAccessDenied) {
          out.denied = describeError(err, 'drive');
          return out;
        }
        out.errors.push(describeError(err, 'drive', { resourceId: userId }));
      }
    }
  }
  return out;
}
