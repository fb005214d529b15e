import { z } from 'zod';
import {
  boolOrNull,
  domainOf,
  isGuestLogin,
  isoOrNull,
  lowerOrNull,
  type ResourceDef,
  strOrNull,
} from './types.ts';

export const userSchema = z
  .object({
    id: z.string().min(1),
    userPrincipalName: z.string().nullish(),
    displayName: z.string().nullish(),
    mail: z.string().nullish(),
    otherMails: z.array(z.string()).nullish(),
    accountEnabled: z.boolean().nullish(),
    userType: z.string().nullish(),
    createdDateTime: z.string().nullish(),
    creationType: z.string().nullish(),
    externalUserState: z.string().nullish(),
    externalUserStateChangeDateTime: z.string().nullish(),
    lastPasswordChangeDateTime: z.string().nullish(),
    jobTitle: z.string().nullish(),
    department: z.string().nullish(),
    companyName: z.string().nullish(),
    officeLocation: z.string().nullish(),
    employeeId: z.string().nullish(),
    usageLocation: z.string().nullish(),
    city: z.string().nullish(),
    country: z.string().nullish(),
    mobilePhone: z.string().nullish(),
    businessPhones: z.array(z.string()).nullish(),
    assignedLicenses: z
      .array(
        z.object({ skuId: z.string().nullish(), disabledPlans: z.array(z.string()).nullish() }).passthrough(),
      )
      .nullish(),
    assignedPlans: z.array(z.object({}).passthrough()).nullish(),
    manager: z.object({ id: z.string() }).passthrough().nullish(),
    signInActivity: z
      .object({
        lastSignInDateTime: z.string().nullish(),
        lastNonInteractiveSignInDateTime: z.string().nullish(),
        lastSuccessfulSignInDateTime: z.string().nullish(),
      })
      .passthrough()
      .nullish(),
  })
  .passthrough();

export type GraphUser = z.infer<typeof userSchema>;

/** Security-relevant fields named in $select (GET /users returns only 11 by default). */
const USER_SELECT = [
  'id',
  'userPrincipalName',
  'displayName',
  'mail',
  'otherMails',
  'accountEnabled',
  'userType',
  'createdDateTime',
  'creationType',
  'externalUserState',
  'externalUserStateChangeDateTime',
  'lastPasswordChangeDateTime',
  'jobTitle',
  'department',
  'companyName',
  'officeLocation',
  'employeeId',
  'usageLocation',
  'city',
  'country',
  'mobilePhone',
  'businessPhones',
  'assignedLicenses',
  'assignedPlans',
] as const;

export const user = {
  type: 'user',
  table: 'users',
  description:
    'Entra ID users of the tenant (members and guests) with account, organisation, licence and sign-in data.',
  kind: 'state',
  graph: {
    endpoint: '/users',
    select: USER_SELECT,
    expand: ['manager'],
    gated: {
      signInActivity: {
        permission: 'AuditLog.Read.All',
        neededFor: 'last sign-in of each user, with Entra ID P1/P2 (inactive owners, stale accounts)',
      },
    },
    permissions: [
      {
        permission: 'User.Read.All',
        neededFor: 'users, guests, account state, managers; user change notifications',
      },
    ],
  },
  collection: 'directory-delta',
  schema: userSchema,
  key: ['id'] as const,
  columns: {
    user_principal_name: {
      kind: 'text',
      description: 'User principal name (sign-in name); guests contain #EXT#.',
    },
    display_name: { kind: 'text', description: 'Display name.' },
    mail: { kind: 'text', description: 'Primary SMTP address, lower case.' },
    domain: { kind: 'text', description: 'Domain of the user principal name, lower case.' },
    other_mails: { kind: 'json', description: 'Additional e-mail addresses (JSON array).' },
    account_enabled: { kind: 'boolean', description: 'Whether the account can sign in.' },
    user_type: { kind: 'text', description: 'Member or Guest.' },
    is_guest: { kind: 'boolean', description: 'True for guests (userType Guest or #EXT# in the UPN).' },
    created_at: { kind: 'timestamp', description: 'When the account was created (createdDateTime).' },
    creation_type: { kind: 'text', description: 'How the account was created, e.g. Invitation for guests.' },
    external_user_state: {
      kind: 'text',
      description: 'Guest invitation state: PendingAcceptance, Accepted or null.',
    },
    external_user_state_changed_at: {
      kind: 'timestamp',
      description: 'When externalUserState last changed.',
    },
    last_password_change_at: { kind: 'timestamp', description: 'Last password change.' },
    job_title: { kind: 'text', description: 'Job title.' },
    department: { kind: 'text', description: 'Department.' },
    company_name: { kind: 'text', description: 'Company name.' },
    office_location: { kind: 'text', description: 'Office location.' },
    employee_id: { kind: 'text', description: 'Employee id.' },
    usage_location: { kind: 'text', description: 'Two-letter usage location (licensing).' },
    city: { kind: 'text', description: 'City.' },
    country: { kind: 'text', description: 'Country or region.' },
    mobile_phone: { kind: 'text', description: 'Mobile phone number.' },
    business_phones: { kind: 'json', description: 'Business phone numbers (JSON array).' },
    assigned_licenses: { kind: 'json', description: 'Assigned licences [{skuId, disabledPlans}] (JSON).' },
    license_count: { kind: 'integer', description: 'Number of assigned licences.' },
    manager_id: { kind: 'text', description: "Graph id of the user's manager, or null." },
    sign_in_last: {
      kind: 'timestamp',
      description: 'Last interactive sign-in (signInActivity, needs AuditLog.Read.All and P1/P2).',
      volatile: true,
    },
    sign_in_last_non_interactive: {
      kind: 'timestamp',
      description: 'Last non-interactive sign-in.',
      volatile: true,
    },
    sign_in_last_successful: { kind: 'timestamp', description: 'Last successful sign-in.', volatile: true },
  },
  toRow(u, ctx) {
    const upn = strOrNull(u.userPrincipalName);
    const userType = strOrNull(u.userType);
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      id: u.id,
      user_principal_name: upn,
      display_name: strOrNull(u.displayName),
      mail: lowerOrNull(u.mail),
      domain: domainOf(upn),
      other_mails: u.otherMails ?? [],
      account_enabled: boolOrNull(u.accountEnabled),
      user_type: userType,
      is_guest: userType === 'Guest' || isGuestLogin(upn),
      created_at: isoOrNull(u.createdDateTime),
      creation_type: strOrNull(u.creationType),
      external_user_state: strOrNull(u.externalUserState),
      external_user_state_changed_at: isoOrNull(u.externalUserStateChangeDateTime),
      last_password_change_at: isoOrNull(u.lastPasswordChangeDateTime),
      job_title: strOrNull(u.jobTitle),
      department: strOrNull(u.department),
      company_name: strOrNull(u.companyName),
      office_location: strOrNull(u.officeLocation),
      employee_id: strOrNull(u.employeeId),
      usage_location: strOrNull(u.usageLocation),
      city: strOrNull(u.city),
      country: strOrNull(u.country),
      mobile_phone: strOrNull(u.mobilePhone),
      business_phones: u.businessPhones ?? [],
      assigned_licenses: u.assignedLicenses ?? [],
      license_count: u.assignedLicenses?.length ?? 0,
      manager_id: u.manager?.id ?? null,
      sign_in_last: isoOrNull(u.signInActivity?.lastSignInDateTime),
      sign_in_last_non_interactive: isoOrNull(u.signInActivity?.lastNonInteractiveSignInDateTime),
      sign_in_last_successful: isoOrNull(u.signInActivity?.lastSuccessfulSignInDateTime),
      raw: u,
    };
  },
} satisfies ResourceDef<GraphUser>;
