import { z } from 'zod';
import { boolOrNull, isoOrNull, type ResourceDef, strOrNull } from './types.ts';

/** An entry of GET /reports/authenticationMethods/userRegistrationDetails. */
export const userMfaSchema = z
  .object({
    id: z.string().min(1),
    userPrincipalName: z.string().nullish(),
    userDisplayName: z.string().nullish(),
    isAdmin: z.boolean().nullish(),
    isMfaRegistered: z.boolean().nullish(),
    isMfaCapable: z.boolean().nullish(),
    isSsprRegistered: z.boolean().nullish(),
    isSsprEnabled: z.boolean().nullish(),
    isPasswordlessCapable: z.boolean().nullish(),
    methodsRegistered: z.array(z.string()).nullish(),
    userType: z.string().nullish(),
    lastUpdatedDateTime: z.string().nullish(),
  })
  .passthrough();

export type GraphUserMfa = z.infer<typeof userMfaSchema>;

export const userMfa = {
  type: 'user_mfa',
  table: 'user_mfa',
  description: 'Authentication method registration per user (MFA report; disabled users are not listed).',
  kind: 'state',
  graph: {
    endpoint: '/reports/authenticationMethods/userRegistrationDetails',
    // The report takes no $select worth naming: it returns its dozen properties.
    select: null,
    permissions: [
      { permission: 'AuditLog.Read.All', neededFor: 'MFA registration of each user (user_mfa_registered)' },
    ],
  },
  collection: 'listing',
  schema: userMfaSchema,
  key: ['id'] as const,
  columns: {
    user_principal_name: { kind: 'text', description: 'User principal name.' },
    display_name: { kind: 'text', description: 'Display name.' },
    is_admin: { kind: 'boolean', description: 'Whether the user holds an admin role.' },
    is_mfa_registered: { kind: 'boolean', description: 'Registered a strong authentication method.' },
    is_mfa_capable: {
      kind: 'boolean',
      description: 'Registered a method allowed by policy and enabled for MFA.',
    },
    is_sspr_registered: { kind: 'boolean', description: 'Registered for self-service password reset.' },
    is_passwordless_capable: { kind: 'boolean', description: 'Registered a passwordless method.' },
    methods_registered: {
      kind: 'json',
      description: 'Registered methods (JSON array), e.g. ["microsoftAuthenticatorPush"].',
    },
    user_type: { kind: 'text', description: 'member or guest (lower case in this report).' },
    last_updated_at: {
      kind: 'timestamp',
      description: 'When the report entry was last updated.',
      volatile: true,
    },
  },
  toRow(m, ctx) {
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      id: m.id,
      user_principal_name: strOrNull(m.userPrincipalName),
      display_name: strOrNull(m.userDisplayName),
      is_admin: boolOrNull(m.isAdmin),
      is_mfa_registered: boolOrNull(m.isMfaRegistered),
      is_mfa_capable: boolOrNull(m.isMfaCapable),
      is_sspr_registered: boolOrNull(m.isSsprRegistered),
      is_passwordless_capable: boolOrNull(m.isPasswordlessCapable),
      methods_registered: m.methodsRegistered ?? [],
      user_type: strOrNull(m.userType),
      last_updated_at: isoOrNull(m.lastUpdatedDateTime),
      raw: m,
    };
  },
} satisfies ResourceDef<GraphUserMfa>;
