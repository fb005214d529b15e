import { z } from 'zod';
import { decodeValue } from '../../../../store/codec.ts';
import type { PermissionsTable } from '../../../../store/tables/inventory.ts';

/**
 * A permission as the API answers it. The sharing link's URL is left out: an Anyone link's URL
 * is itself access to the file, and a viewer of drivewarden must not gain that.
 */
export const permissionRowSchema = z.object({
  integrationId: z.string(),
  id: z.string(),
  driveId: z.string(),
  itemId: z.string().describe('The sharing root the permission is set on'),
  roles: z.array(z.string()),
  linkType: z.string().nullable(),
  linkScope: z
    .string()
    .nullable()
    .describe('anonymous, organization, users, existingAccess; null: a direct grant'),
  recipientKind: z.string().nullable(),
  recipientEmail: z.string().nullable(),
  recipientName: z.string().nullable(),
  recipientDomain: z.string().nullable(),
  recipients: z.array(z.string()),
  isExternal: z.boolean(),
  isGuest: z.boolean(),
  expiration: z.string().nullable(),
  preventsDownload: z.boolean(),
  firstSeen: z.string(),
  deletedAt: z.string().nullable(),
});
export type PermissionRow = z.infer<typeof permissionRowSchema>;

const strings = (v: unknown): string[] => {
  const d = decodeValue('json', v);
  return Array.isArray(d) ? d.map(String) : [];
};

export function toPermissionRow(
  p: Pick<
    PermissionsTable,
    | 'integration_id'
    | 'id'
    | 'drive_id'
    | 'item_id'
    | 'roles'
    | 'link_type'
    | 'link_scope'
    | 'recipient_kind'
    | 'recipient_email'
    | 'recipient_name'
    | 'recipient_domain'
    | 'recipients'
    | 'is_external'
    | 'is_guest'
    | 'expiration'
    | 'prevents_download'
    | 'first_seen'
    | 'deleted_at'
  >,
): PermissionRow {
  return {
    integrationId: p.integration_id,
    id: p.id,
    driveId: p.drive_id,
    itemId: p.item_id,
    roles: strings(p.roles),
    linkType: p.link_type,
    linkScope: p.link_scope,
    recipientKind: p.recipient_kind,
    recipientEmail: p.recipient_email,
    recipientName: p.recipient_name,
    recipientDomain: p.recipient_domain,
    recipients: strings(p.recipients),
    isExternal: decodeValue('boolean', p.is_external) === true,
    isGuest: decodeValue('boolean', p.is_guest) === true,
    expiration: p.expiration,
    preventsDownload: decodeValue('boolean', p.prevents_download) === true,
    firstSeen: p.first_seen,
    deletedAt: p.deleted_at,
  };
}
