import { z } from 'zod';
import { boolOrNull, isoOrNull, lowerOrNull, type ResourceDef, strOrNull } from './types.ts';

export const groupSchema = z
  .object({
    id: z.string().min(1),
    displayName: z.string().nullish(),
    description: z.string().nullish(),
    mail: z.string().nullish(),
    mailEnabled: z.boolean().nullish(),
    securityEnabled: z.boolean().nullish(),
    groupTypes: z.array(z.string()).nullish(),
    visibility: z.string().nullish(),
    createdDateTime: z.string().nullish(),
    onPremisesSyncEnabled: z.boolean().nullish(),
  })
  .passthrough();

export type GraphGroup = z.infer<typeof groupSchema>;

export const group = {
  type: 'group',
  table: 'groups',
  description: 'Entra ID groups (security, Microsoft 365, distribution).',
  kind: 'state',
  graph: {
    endpoint: '/groups',
    select: [
      'id',
      'displayName',
      'description',
      'mail',
      'mailEnabled',
      'securityEnabled',
      'groupTypes',
      'visibility',
      'createdDateTime',
      'onPremisesSyncEnabled',
    ],
    deltaSignals: ['members'],
    permissions: [
      {
        permission: 'GroupMember.Read.All',
        neededFor: 'groups and their members (group storage policies, group sharing)',
      },
    ],
  },
  collection: 'directory-delta',
  schema: groupSchema,
  key: ['id'] as const,
  columns: {
    display_name: { kind: 'text', description: 'Display name.' },
    description: { kind: 'text', description: 'Description.' },
    mail: { kind: 'text', description: 'Group e-mail address, lower case.' },
    mail_enabled: { kind: 'boolean', description: 'Whether the group is mail-enabled.' },
    security_enabled: { kind: 'boolean', description: 'Whether the group is a security group.' },
    group_types: { kind: 'json', description: 'groupTypes (JSON array), e.g. ["Unified"].' },
    is_unified: { kind: 'boolean', description: 'True for Microsoft 365 (Unified) groups.' },
    visibility: { kind: 'text', description: 'Public, Private or HiddenMembership (Microsoft 365 groups).' },
    created_at: { kind: 'timestamp', description: 'When the group was created.' },
    on_premises_sync_enabled: {
      kind: 'boolean',
      description: 'Whether the group is synced from on-premises AD.',
    },
  },
  toRow(g, ctx) {
    const types = g.groupTypes ?? [];
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      id: g.id,
      display_name: strOrNull(g.displayName),
      description: strOrNull(g.description),
      mail: lowerOrNull(g.mail),
      mail_enabled: boolOrNull(g.mailEnabled),
      security_enabled: boolOrNull(g.securityEnabled),
      group_types: types,
      is_unified: types.includes('Unified'),
      visibility: strOrNull(g.visibility),
      created_at: isoOrNull(g.createdDateTime),
      on_premises_sync_enabled: boolOrNull(g.onPremisesSyncEnabled),
      raw: g,
    };
  },
} satisfies ResourceDef<GraphGroup>;
