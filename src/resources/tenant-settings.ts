import { z } from 'zod';
import { boolOrNull, numOrNull, type ResourceDef, strOrNull } from './types.ts';

/**
 * The tenant-level SharePoint and OneDrive settings: GET /admin/sharepoint/settings
 * (sharepointSettings, v1.0). One object per tenant, without an id of its own: the row's id
 * is the tenant id. The documentation's example wraps the object in `{"value": {…}}`; the
 * collector accepts that and the bare object (docs/graph-behaviour.md).
 */
export const tenantSettingsSchema = z
  .object({
    id: z.string().nullish(),
    sharingCapability: z.string().nullish(),
    sharingDomainRestrictionMode: z.string().nullish(),
    sharingAllowedDomainList: z.array(z.string()).nullish(),
    sharingBlockedDomainList: z.array(z.string()).nullish(),
    isResharingByExternalUsersEnabled: z.boolean().nullish(),
    isRequireAcceptingUserToMatchInvitedUserEnabled: z.boolean().nullish(),
    personalSiteDefaultStorageLimitInMB: z.number().nullish(),
    deletedUserPersonalSiteRetentionPeriodInDays: z.number().nullish(),
    idleSessionSignOut: z
      .object({
        isEnabled: z.boolean().nullish(),
        warnAfterInSeconds: z.number().nullish(),
        signOutAfterInSeconds: z.number().nullish(),
      })
      .passthrough()
      .nullish(),
    isLegacyAuthProtocolsEnabled: z.boolean().nullish(),
    isUnmanagedSyncAppForTenantRestricted: z.boolean().nullish(),
    allowedDomainGuidsForSyncApp: z.array(z.string()).nullish(),
    excludedFileExtensionsForSyncApp: z.array(z.string()).nullish(),
    isMacSyncAppEnabled: z.boolean().nullish(),
    isSyncButtonHiddenOnPersonalSite: z.boolean().nullish(),
    isSiteCreationEnabled: z.boolean().nullish(),
    isLoopEnabled: z.boolean().nullish(),
    isFileActivityNotificationEnabled: z.boolean().nullish(),
    isCommentingOnSitePagesEnabled: z.boolean().nullish(),
    imageTaggingOption: z.string().nullish(),
    siteCreationDefaultStorageLimitInMB: z.number().nullish(),
    tenantDefaultTimezone: z.string().nullish(),
  })
  .passthrough();

export type GraphTenantSettings = z.infer<typeof tenantSettingsSchema>;

/** Every documented v1.0 property, so `raw` keeps the whole object (the mapped ones first). */
const SELECT = [
  'sharingCapability',
  'sharingDomainRestrictionMode',
  'sharingAllowedDomainList',
  'sharingBlockedDomainList',
  'isResharingByExternalUsersEnabled',
  'isRequireAcceptingUserToMatchInvitedUserEnabled',
  'personalSiteDefaultStorageLimitInMB',
  'deletedUserPersonalSiteRetentionPeriodInDays',
  'idleSessionSignOut',
  'isLegacyAuthProtocolsEnabled',
  'isUnmanagedSyncAppForTenantRestricted',
  'allowedDomainGuidsForSyncApp',
  'excludedFileExtensionsForSyncApp',
  'isMacSyncAppEnabled',
  'isSyncButtonHiddenOnPersonalSite',
  'isSiteCreationEnabled',
  'isLoopEnabled',
  'isFileActivityNotificationEnabled',
  'isCommentingOnSitePagesEnabled',
  'imageTaggingOption',
  'siteCreationDefaultStorageLimitInMB',
  'tenantDefaultTimezone',
  'availableManagedPathsForSiteCreation',
  'isSharePointMobileNotificationEnabled',
  'isSharePointNewsfeedEnabled',
  'isSiteCreationUIEnabled',
  'isSitePagesCreationEnabled',
  'isSitesStorageLimitAutomatic',
  'siteCreationDefaultManagedPath',
] as const;

const strings = (v: readonly string[] | null | undefined): string[] | null => (v ? [...v] : null);

export const tenantSettings = {
  type: 'tenant_settings',
  table: 'tenant_settings',
  description:
    "The tenant's SharePoint and OneDrive settings (one row per integration; id = the tenant id): external sharing, domain restrictions, guest rules, storage defaults, idle sign-out.",
  kind: 'state',
  graph: {
    endpoint: '/admin/sharepoint/settings',
    select: SELECT,
    permissions: [
      {
        permission: 'SharePointTenantSettings.Read.All',
        neededFor: 'tenant sharing settings (external sharing, domain lists, guest rules, idle sign-out)',
      },
    ],
  },
  collection: 'singleton',
  schema: tenantSettingsSchema,
  key: ['id'] as const,
  columns: {
    sharing_capability: {
      kind: 'text',
      description:
        'Who users may share with: disabled (people in the organization only), existingExternalUserSharingOnly (existing guests), externalUserSharingOnly (new and existing guests, sign-in required), externalUserAndGuestSharing (anyone, links without sign-in).',
    },
    sharing_domain_restriction_mode: {
      kind: 'text',
      description:
        'none, allowList (share only with the allowed domains) or blockList (share with all but the blocked domains).',
    },
    sharing_allowed_domains: {
      kind: 'json',
      description: 'Domains external sharing is limited to when the mode is allowList (JSON array).',
    },
    sharing_blocked_domains: {
      kind: 'json',
      description: 'Domains external sharing is refused to when the mode is blockList (JSON array).',
    },
    is_resharing_by_external_users_enabled: {
      kind: 'boolean',
      description: "Whether guests may reshare files, folders and sites they don't own.",
    },
    is_require_accepting_user_to_match_invited_user_enabled: {
      kind: 'boolean',
      description: 'Whether guests must sign in with the account the sharing invitation was sent to.',
    },
    personal_site_default_storage_limit_mb: {
      kind: 'bigint',
      description: 'Default OneDrive storage limit of licensed users, in MB.',
    },
    deleted_user_personal_site_retention_days: {
      kind: 'integer',
      description: "Days a deleted user's OneDrive is kept.",
    },
    idle_sign_out_enabled: {
      kind: 'boolean',
      description: 'Whether idle sessions are signed out (idleSessionSignOut.isEnabled).',
    },
    idle_sign_out_warn_after_seconds: {
      kind: 'bigint',
      description: 'Seconds of inactivity before the user is warned of the sign-out.',
    },
    idle_sign_out_after_seconds: {
      kind: 'bigint',
      description: 'Seconds of inactivity after which the user is signed out.',
    },
    is_legacy_auth_protocols_enabled: {
      kind: 'boolean',
      description: 'Whether legacy authentication protocols are enabled for SharePoint.',
    },
    is_unmanaged_sync_app_for_tenant_restricted: {
      kind: 'boolean',
      description: 'Whether the OneDrive sync app works only on PCs joined to the allowed domains.',
    },
    allowed_domain_guids_for_sync_app: {
      kind: 'json',
      description: 'Domain GUIDs the OneDrive sync app is allowed on (JSON array).',
    },
    excluded_file_extensions_for_sync_app: {
      kind: 'json',
      description: 'File extensions the OneDrive sync app does not upload (JSON array).',
    },
    is_mac_sync_app_enabled: {
      kind: 'boolean',
      description: 'Whether the OneDrive sync app for Mac may sync files.',
    },
    is_sync_button_hidden_on_personal_site: {
      kind: 'boolean',
      description: 'Whether the Sync button is hidden in OneDrive.',
    },
    is_site_creation_enabled: { kind: 'boolean', description: 'Whether users may create sites.' },
    is_loop_enabled: { kind: 'boolean', description: 'Whether Loop (Fluid Framework) is allowed.' },
    is_file_activity_notification_enabled: {
      kind: 'boolean',
      description: 'Whether push notifications for OneDrive events are on.',
    },
    is_commenting_on_site_pages_enabled: {
      kind: 'boolean',
      description: 'Whether comments are allowed on modern site pages.',
    },
    image_tagging_option: { kind: 'text', description: 'Image tagging: disabled, basic or enhanced.' },
    site_creation_default_storage_limit_mb: {
      kind: 'integer',
      description: 'Default storage quota of a new site, in MB.',
    },
    tenant_default_timezone: { kind: 'text', description: 'Default time zone of new sites.' },
  },
  toRow(s, ctx) {
    const idle = s.idleSessionSignOut;
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      id: ctx.tenantId,
      sharing_capability: strOrNull(s.sharingCapability),
      sharing_domain_restriction_mode: strOrNull(s.sharingDomainRestrictionMode),
      sharing_allowed_domains: strings(s.sharingAllowedDomainList),
      sharing_blocked_domains: strings(s.sharingBlockedDomainList),
      is_resharing_by_external_users_enabled: boolOrNull(s.isResharingByExternalUsersEnabled),
      is_require_accepting_user_to_match_invited_user_enabled: boolOrNull(
        s.isRequireAcceptingUserToMatchInvitedUserEnabled,
      ),
      personal_site_default_storage_limit_mb: numOrNull(s.personalSiteDefaultStorageLimitInMB),
      deleted_user_personal_site_retention_days: numOrNull(s.deletedUserPersonalSiteRetentionPeriodInDays),
      idle_sign_out_enabled: boolOrNull(idle?.isEnabled),
      idle_sign_out_warn_after_seconds: numOrNull(idle?.warnAfterInSeconds),
      idle_sign_out_after_seconds: numOrNull(idle?.signOutAfterInSeconds),
      is_legacy_auth_protocols_enabled: boolOrNull(s.isLegacyAuthProtocolsEnabled),
      is_unmanaged_sync_app_for_tenant_restricted: boolOrNull(s.isUnmanagedSyncAppForTenantRestricted),
      allowed_domain_guids_for_sync_app: strings(s.allowedDomainGuidsForSyncApp),
      excluded_file_extensions_for_sync_app: strings(s.excludedFileExtensionsForSyncApp),
      is_mac_sync_app_enabled: boolOrNull(s.isMacSyncAppEnabled),
      is_sync_button_hidden_on_personal_site: boolOrNull(s.isSyncButtonHiddenOnPersonalSite),
      is_site_creation_enabled: boolOrNull(s.isSiteCreationEnabled),
      is_loop_enabled: boolOrNull(s.isLoopEnabled),
      is_file_activity_notification_enabled: boolOrNull(s.isFileActivityNotificationEnabled),
      is_commenting_on_site_pages_enabled: boolOrNull(s.isCommentingOnSitePagesEnabled),
      image_tagging_option: strOrNull(s.imageTaggingOption),
      site_creation_default_storage_limit_mb: numOrNull(s.siteCreationDefaultStorageLimitInMB),
      tenant_default_timezone: strOrNull(s.tenantDefaultTimezone),
      raw: s,
    };
  },
} satisfies ResourceDef<GraphTenantSettings>;
