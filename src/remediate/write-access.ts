import { GraphError } from '../graph/errors.ts';
import type { GraphClient } from '../graph/types.ts';

/**
 * Whether the app may remove sharing permissions (Files.ReadWrite.All), asked without
 * changing anything: a DELETE of a permission id that cannot exist answers 404 (or 400)
 * when the app may write, 403 when it may not. Costs one permission call (5 RU).
 */

export const WRITE_PROBE_PERMISSION_ID = 'drivewarden-write-probe';

export const MISSING_FILES_READWRITE =
  'the app registration lacks the application permission Files.ReadWrite.All, which Graph requires to ' +
  'remove sharing permissions. Add it in Entra ID (App registrations → API permissions → Microsoft Graph → ' +
  'Application permissions → Files.ReadWrite.All), grant admin consent, then run this again. ' +
  'Nothing was changed.';

export class WriteAccessError extends Error {
  constructor(
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** Throws WriteAccessError when Graph answers 403 to a harmless removal on this item. */
export async function checkPermissionWriteAccess(
  client: GraphClient,
  driveId: string,
  itemId: string,
): Promise<void> {
  try {
    await client.request({
      method: 'DELETE',
      url: `/drives/${encodeURIComponent(driveId)}/items/${encodeURIComponent(itemId)}/permissions/${WRITE_PROBE_PERMISSION_ID}`,
      resource: 'permissions',
    });
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    if (err.isAccessDenied) throw new WriteAccessError(MISSING_FILES_READWRITE, err.requestId);
    if (err.status === 404 || err.status === 400) return;
    throw err;
  }
}
