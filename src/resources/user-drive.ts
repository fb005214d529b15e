import { z } from 'zod';
import { type ResourceDef, strOrNull } from './types.ts';

/**
 * Whether each user has a OneDrive: the outcome of GET /users/{id}/drive. Not a Graph
 * resource of its own; the payload is what drivewarden observed.
 */
export const userDriveSchema = z
  .object({
    id: z.string().min(1),
    driveId: z.string().nullish(),
    provisioned: z.boolean(),
    code: z.string().nullish(),
  })
  .passthrough();

export type UserDriveStatus = z.infer<typeof userDriveSchema>;

export const userDrive = {
  type: 'user_drive',
  table: 'user_drives',
  description: 'One row per user: whether the user has a provisioned OneDrive (GET /users/{id}/drive).',
  kind: 'state',
  graph: {
    // The payload is drivewarden's record of the answer (200 or 404), not a Graph object.
    endpoint: '/users/{id}/drive',
    select: null,
    permissions: [{ permission: 'Files.Read.All', neededFor: 'whether each user has a OneDrive' }],
  },
  collection: 'per-user',
  schema: userDriveSchema,
  key: ['id'] as const,
  columns: {
    drive_id: { kind: 'text', description: "Graph id of the user's drive, null when not provisioned." },
    provisioned: { kind: 'boolean', description: 'False when Graph answered 404 (no OneDrive provisioned).' },
    status_code: {
      kind: 'text',
      description: 'The Graph error code when not provisioned, e.g. ResourceNotFound.',
    },
  },
  toRow(s, ctx) {
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      id: s.id,
      drive_id: strOrNull(s.driveId),
      provisioned: s.provisioned,
      status_code: strOrNull(s.code),
      raw: s,
    };
  },
} satisfies ResourceDef<UserDriveStatus>;
