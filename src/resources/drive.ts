import { z } from 'zod';
import { identitySetSchema, principalOf } from './identity.ts';
import { isoOrNull, numOrNull, type ResourceDef, strOrNull } from './types.ts';

export const driveSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().nullish(),
    driveType: z.string().nullish(),
    webUrl: z.string().nullish(),
    createdDateTime: z.string().nullish(),
    lastModifiedDateTime: z.string().nullish(),
    owner: identitySetSchema.nullish(),
    quota: z
      .object({
        total: z.number().nullish(),
        used: z.number().nullish(),
        remaining: z.number().nullish(),
        deleted: z.number().nullish(),
        state: z.string().nullish(),
      })
      .passthrough()
      .nullish(),
    sharepointIds: z
      .object({ siteId: z.string().nullish(), siteUrl: z.string().nullish() })
      .passthrough()
      .nullish(),
  })
  .passthrough();

export type GraphDrive = z.infer<typeof driveSchema>;

export const drive = {
  type: 'drive',
  table: 'drives',
  description: 'OneDrive drives, one per provisioned user, with owner and quota.',
  kind: 'state',
  graph: {
    endpoint: '/users/{id}/drive',
    select: null,
    permissions: [{ permission: 'Files.Read.All', neededFor: 'OneDrive of each user, quota and owner' }],
  },
  collection: 'per-user',
  schema: driveSchema,
  key: ['id'] as const,
  columns: {
    owner_id: { kind: 'text', description: 'Graph id of the owner (user or group).' },
    owner_kind: { kind: 'text', description: 'Kind of owner: user or group.' },
    owner_email: { kind: 'text', description: "Owner's e-mail / UPN, lower case." },
    owner_name: { kind: 'text', description: "Owner's display name." },
    name: { kind: 'text', description: 'Drive name, e.g. OneDrive.' },
    drive_type: { kind: 'text', description: 'personal, business or documentLibrary.' },
    web_url: { kind: 'text', description: 'URL of the drive in the browser.' },
    created_at: { kind: 'timestamp', description: 'When the drive was created.' },
    modified_at: { kind: 'timestamp', description: 'When the drive was last modified.' },
    quota_total: { kind: 'bigint', description: 'Total storage in bytes.' },
    quota_used: { kind: 'bigint', description: 'Used storage in bytes.' },
    quota_remaining: { kind: 'bigint', description: 'Remaining storage in bytes.' },
    quota_deleted: { kind: 'bigint', description: 'Bytes in the recycle bin.' },
    quota_state: {
      kind: 'text',
      description: 'normal, nearing (<10% left), critical (<1% left) or exceeded.',
    },
    site_id: { kind: 'text', description: 'SharePoint site id behind the drive.' },
    site_url: { kind: 'text', description: 'SharePoint site URL behind the drive.' },
  },
  toRow(d, ctx) {
    const owner = principalOf(d.owner);
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      id: d.id,
      owner_id: owner?.id ?? null,
      owner_kind: owner?.kind ?? null,
      owner_email: owner?.email ?? null,
      owner_name: owner?.name ?? null,
      name: strOrNull(d.name),
      drive_type: strOrNull(d.driveType),
      web_url: strOrNull(d.webUrl),
      created_at: isoOrNull(d.createdDateTime),
      modified_at: isoOrNull(d.lastModifiedDateTime),
      quota_total: numOrNull(d.quota?.total),
      quota_used: numOrNull(d.quota?.used),
      quota_remaining: numOrNull(d.quota?.remaining),
      quota_deleted: numOrNull(d.quota?.deleted),
      quota_state: strOrNull(d.quota?.state),
      site_id: strOrNull(d.sharepointIds?.siteId),
      site_url: strOrNull(d.sharepointIds?.siteUrl),
      raw: d,
    };
  },
} satisfies ResourceDef<GraphDrive>;
