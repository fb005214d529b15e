import { z } from 'zod';
import { lowerOrNull, type ResourceDef, strOrNull } from './types.ts';

/** An entry of GET /groups/{id}/transitiveMembers (a directoryObject: user, group, device, …). */
export const groupMemberSchema = z
  .object({
    id: z.string().min(1),
    '@odata.type': z.string().nullish(),
    displayName: z.string().nullish(),
    userPrincipalName: z.string().nullish(),
    mail: z.string().nullish(),
  })
  .passthrough();

export type GraphGroupMember = z.infer<typeof groupMemberSchema>;

export const groupMember = {
  type: 'group_member',
  table: 'group_members',
  description: 'Transitive members of each group (one row per group and member).',
  kind: 'state',
  graph: {
    endpoint: '/groups/{id}/transitiveMembers',
    select: ['id', 'displayName', 'userPrincipalName', 'mail'],
    annotations: ['@odata.type'],
    permissions: [{ permission: 'GroupMember.Read.All', neededFor: 'transitive members of each group' }],
  },
  collection: 'per-parent',
  schema: groupMemberSchema,
  key: ['group_id', 'id'] as const,
  keyDescriptions: { group_id: 'Graph id of the group.' },
  columns: {
    member_type: {
      kind: 'text',
      description: 'Kind of member: user, group, device, servicePrincipal, orgContact.',
    },
    display_name: { kind: 'text', description: 'Display name of the member.' },
    user_principal_name: { kind: 'text', description: 'User principal name when the member is a user.' },
    mail: { kind: 'text', description: 'E-mail address of the member, lower case.' },
  },
  toRow(m, ctx) {
    const groupId = ctx.scope?.group_id;
    if (!groupId) throw new Error('group member mapped without a group_id scope');
    const odataType = strOrNull(m['@odata.type']);
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      group_id: groupId,
      id: m.id,
      member_type: odataType ? odataType.replace(/^#?microsoft\.graph\./, '') : null,
      display_name: strOrNull(m.displayName),
      user_principal_name: strOrNull(m.userPrincipalName),
      mail: lowerOrNull(m.mail),
      raw: m,
    };
  },
} satisfies ResourceDef<GraphGroupMember>;
