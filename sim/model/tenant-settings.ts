/**
 * The tenant's SharePoint and OneDrive settings (GET /admin/sharepoint/settings): a preset,
 * optionally with properties laid over it, changed at run time by the admin mutation
 * `setSharepointSettings`. Property names and values are Graph's (sharepointSettings, v1.0).
 */
import type { SimSharepointSettingsOptions } from '../contracts.ts';
import { MutationError } from './errors.ts';

export type SharingCapability =
  | 'disabled'
  | 'externalUserSharingOnly'
  | 'externalUserAndGuestSharing'
  | 'existingExternalUserSharingOnly';
export type DomainRestrictionMode = 'none' | 'allowList' | 'blockList';

export interface SimIdleSessionSignOut {
  isEnabled: boolean;
  warnAfterInSeconds: number;
  signOutAfterInSeconds: number;
}

/** The sharepointSettings object as Graph serves it. */
export interface SimSharepointSettings {
  allowedDomainGuidsForSyncApp: string[];
  availableManagedPathsForSiteCreation: string[];
  deletedUserPersonalSiteRetentionPeriodInDays: number;
  excludedFileExtensionsForSyncApp: string[];
  idleSessionSignOut: SimIdleSessionSignOut;
  imageTaggingOption: 'disabled' | 'basic' | 'enhanced';
  isCommentingOnSitePagesEnabled: boolean;
  isFileActivityNotificationEnabled: boolean;
  isLegacyAuthProtocolsEnabled: boolean;
  isLoopEnabled: boolean;
  isMacSyncAppEnabled: boolean;
  isRequireAcceptingUserToMatchInvitedUserEnabled: boolean;
  isResharingByExternalUsersEnabled: boolean;
  isSharePointMobileNotificationEnabled: boolean;
  isSharePointNewsfeedEnabled: boolean;
  isSiteCreationEnabled: boolean;
  isSiteCreationUIEnabled: boolean;
  isSitePagesCreationEnabled: boolean;
  isSitesStorageLimitAutomatic: boolean;
  isSyncButtonHiddenOnPersonalSite: boolean;
  isUnmanagedSyncAppForTenantRestricted: boolean;
  personalSiteDefaultStorageLimitInMB: number;
  sharingAllowedDomainList: string[];
  sharingBlockedDomainList: string[];
  sharingCapability: SharingCapability;
  sharingDomainRestrictionMode: DomainRestrictionMode;
  siteCreationDefaultManagedPath: string;
  siteCreationDefaultStorageLimitInMB: number;
  tenantDefaultTimezone: string;
}

export type SettingsPreset = 'mixed' | 'microsoftDefaults' | 'hardened';

/** What a new tenant gets from Microsoft: anyone links, no domain list, guests may reshare. */
function microsoftDefaults(): SimSharepointSettings {
  return {
    allowedDomainGuidsForSyncApp: [],
    availableManagedPathsForSiteCreation: ['/sites/', '/teams/'],
    deletedUserPersonalSiteRetentionPeriodInDays: 30,
    excludedFileExtensionsForSyncApp: [],
    idleSessionSignOut: { isEnabled: false, warnAfterInSeconds: 0, signOutAfterInSeconds: 0 },
    imageTaggingOption: 'basic',
    isCommentingOnSitePagesEnabled: true,
    isFileActivityNotificationEnabled: true,
    isLegacyAuthProtocolsEnabled: true,
    isLoopEnabled: true,
    isMacSyncAppEnabled: true,
    isRequireAcceptingUserToMatchInvitedUserEnabled: false,
    isResharingByExternalUsersEnabled: true,
    isSharePointMobileNotificationEnabled: true,
    isSharePointNewsfeedEnabled: true,
    isSiteCreationEnabled: true,
    isSiteCreationUIEnabled: true,
    isSitePagesCreationEnabled: true,
    isSitesStorageLimitAutomatic: true,
    isSyncButtonHiddenOnPersonalSite: false,
    isUnmanagedSyncAppForTenantRestricted: false,
    personalSiteDefaultStorageLimitInMB: 1_048_576,
    sharingAllowedDomainList: [],
    sharingBlockedDomainList: [],
    sharingCapability: 'externalUserAndGuestSharing',
    sharingDomainRestrictionMode: 'none',
    siteCreationDefaultManagedPath: '/sites/',
    siteCreationDefaultStorageLimitInMB: 25_600,
    tenantDefaultTimezone: '(UTC) Coordinated Universal Time',
  };
}

/**
 * The presets. microsoftDefaults violates every sharing control (external sharing with
 * anyone, no domain allow list, guests reshare, no account match, no idle sign-out); hardened
 * none; mixed (the default) some: sharing with new guests, no domain allow list, no idle
 * sign-out, but guests may not reshare and must accept with the invited account.
 */
export function presetSettings(preset: SettingsPreset): SimSharepointSettings {
  const s = microsoftDefaults();
  if (preset === 'microsoftDefaults') return s;
  if (preset === 'mixed') {
    s.sharingCapability = 'externalUserSharingOnly';
    s.isResharingByExternalUsersEnabled = false;
    s.isRequireAcceptingUserToMatchInvitedUserEnabled = true;
    return s;
  }
  s.sharingCapability = 'existingExternalUserSharingOnly';
  s.sharingDomainRestrictionMode = 'allowList';
  s.sharingAllowedDomainList = ['fabrikam.test', 'partner.example'];
  s.isResharingByExternalUsersEnabled = false;
  s.isRequireAcceptingUserToMatchInvitedUserEnabled = true;
  s.idleSessionSignOut = { isEnabled: true, warnAfterInSeconds: 3300, signOutAfterInSeconds: 3600 };
  s.isLegacyAuthProtocolsEnabled = false;
  s.isUnmanagedSyncAppForTenantRestricted = true;
  s.allowedDomainGuidsForSyncApp = ['6b2d8d4c-3f8a-4c55-9f0e-2d4c1c7e0a11'];
  return s;
}

const ENUMS: Record<string, readonly string[]> = {
  sharingCapability: [
    'disabled',
    'externalUserSharingOnly',
    'externalUserAndGuestSharing',
    'existingExternalUserSharingOnly',
  ],
  sharingDomainRestrictionMode: ['none', 'allowList', 'blockList'],
  imageTaggingOption: ['disabled', 'basic', 'enhanced'],
};

const IDLE_KEYS: Record<string, 'boolean' | 'number'> = {
  isEnabled: 'boolean',
  warnAfterInSeconds: 'number',
  signOutAfterInSeconds: 'number',
};

/** Checks one property against the type the current settings give it (enums by their values). */
function checkValue(name: string, value: unknown, current: unknown): void {
  const bad = (what: string) => new MutationError(`sharepoint settings: ${name} must be ${what}`);
  if (ENUMS[name]) {
    if (typeof value !== 'string' || !ENUMS[name].includes(value))
      throw bad(`one of ${ENUMS[name].join(', ')}`);
  } else if (Array.isArray(current)) {
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad('a list of strings');
  } else if (typeof current === 'number') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) throw bad('an integer ≥ 0');
  } else if (typeof value !== typeof current) {
    throw bad(`a ${typeof current}`);
  }
}

/**
 * `current` with `changes` laid over it (Graph property names; idleSessionSignOut may be
 * partial). Throws MutationError naming the first unknown property or wrong value.
 */
export function applySettings(
  current: SimSharepointSettings,
  changes: Record<string, unknown>,
): SimSharepointSettings {
  if (!changes || typeof changes !== 'object' || Array.isArray(changes))
    throw new MutationError('sharepoint settings: expected an object of sharepointSettings properties');
  const next = structuredClone(current) as unknown as Record<string, unknown>;
  for (const [name, value] of Object.entries(changes)) {
    if (!(name in next)) throw new MutationError(`sharepoint settings: unknown property '${name}'`);
    if (name === 'idleSessionSignOut') {
      if (!value || typeof value !== 'object' || Array.isArray(value))
        throw new MutationError('sharepoint settings: idleSessionSignOut must be an object');
      const idle = next.idleSessionSignOut as Record<string, unknown>;
      for (const [k, v] of Object.entries(value)) {
        if (!IDLE_KEYS[k])
          throw new MutationError(`sharepoint settings: unknown property 'idleSessionSignOut.${k}'`);
        checkValue(`idleSessionSignOut.${k}`, v, idle[k]);
        idle[k] = v;
      }
      continue;
    }
    checkValue(name, value, next[name]);
    next[name] = Array.isArray(value) ? [...value] : value;
  }
  return next as unknown as SimSharepointSettings;
}

/** The settings a generated tenant starts with. */
export function generateSettings(o: SimSharepointSettingsOptions = {}): SimSharepointSettings {
  const preset = o.preset ?? 'mixed';
  if (!['mixed', 'microsoftDefaults', 'hardened'].includes(preset))
    throw new MutationError(`sharepointSettings.preset must be mixed, microsoftDefaults or hardened`);
  return applySettings(presetSettings(preset), o.overrides ?? {});
}
