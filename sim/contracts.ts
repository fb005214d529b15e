/**
 * The contract between the Microsoft Graph simulator and everything that uses it
 * (tests, benchmarks, `drivewarden demo`). The simulator is a separate program: the
 * product only ever talks to it over HTTPS like it would to Graph, and tests read the
 * ground truth through the admin API (`/_sim/...`, bearer `adminSecret`).
 */

import type { EventOptions } from './events/options.ts';

/** What `startSimulator` needs. Everything has a default; the tenant is a pure function of `seed` + sizes. */
/** How the simulated Entra ID signs users in to the app registration (see sim/server/sign-in.ts). */
export interface SimSignInOptions {
  /** App roles assigned to users (`roles` claim of their ID tokens), by user principal name. */
  appRoles?: Record<string, string[]>;
  /** Emit the `groups` claim (transitive security group ids; over 200: the overage claim). Default true. */
  groupClaims?: boolean;
  /** Automatic mode (tests): /authorize signs in as this user principal name without showing the picker. */
  autoUser?: string | null;
}

/**
 * Changes of the next ID token only (tests of a client's validation, POST /_sim/sign-in):
 * each field replaces the claim; `forgeSignature` signs it with a key that is not in the JWKS.
 */
export interface SimIdTokenTamper {
  aud?: string;
  iss?: string;
  tid?: string;
  nonce?: string;
  /** Seconds from now to `exp` (negative: already expired). */
  expiresInSeconds?: number;
  forgeSignature?: boolean;
}

export interface SimOptions {
  /** Deterministic tenant generator seed. */
  seed?: number; // default 1
  /** Number of users (members + guests). */
  users?: number; // default 50
  /** Total drive items across all drives (approximate, ± a few %). */
  items?: number; // default 2_000
  /** Share of users without a provisioned OneDrive (GET /users/{id}/drive → 404). */
  unprovisionedRatio?: number; // default 0.05
  /** Share of items that are roots of a unique permission hierarchy (explicitly shared). */
  sharedRatio?: number; // default 0.05
  /** Share of items with an anonymous ("Anyone") link. */
  anonymousRatio?: number; // default 0.01
  /**
   * Share of candidates given a case for the built-in security rules (protected and soon-expiring
   * Anyone links, Everyone grants, key files in shared folders, disabled/inactive/MFA-less drive
   * owners, pending guests); each case appears at least once when above 0. 0 turns them off.
   */
  violationRatio?: number; // default 0.1
  /** Listen port (0 = random). Host is always 127.0.0.1. */
  port?: number;
  /** Also deliver notifications to http:// URLs on loopback (tests). Graph requires https. */
  allowHttpNotifications?: boolean;
  /** Per-tenant RU budget per minute; undefined = unlimited. */
  ruBudgetPerMinute?: number;
  /** Simulated minute length divisor: timeScale 60 makes a budget "minute" last 1 s. */
  timeScale?: number; // default 1
  /** Added latency per request in ms (uniform 0..latencyMs). */
  latencyMs?: number; // default 0
  /** Directory where the generated CA + certificate are written. */
  stateDir?: string;
  /** Faults served from the start (same rules as the admin mutation `setFaults`). */
  faults?: SimFaultRule[];
  /** Share of delta items deliberately repeated on a later page (0..1). */
  deltaRepeatRate?: number; // default 0.01
  /** The generator's "now" (ISO): every generated timestamp lies before it. Default: today 00:00 UTC. */
  referenceTime?: string;
  /** Admin consent answer served by `/{tenant}/v2.0/adminconsent`. */
  adminConsent?: 'approve' | 'decline'; // default approve
  /**
   * The app registration's redirect URIs: `/adminconsent` answers AADSTS50011 (no redirect) for
   * any other. Default: any https URI, or http on localhost / 127.0.0.1 (what Entra ID accepts).
   */
  redirectUris?: string[];
  /** Sign-in of the tenant's users (OpenID Connect: /{tenant}/oauth2/v2.0/authorize, ID tokens). */
  signIn?: SimSignInOptions;
  /** Tunables of subscriptions, notification delivery and the audit feed (defaults: `defaultEventOptions`). */
  events?: Partial<EventOptions>;
  /** The tenant's SharePoint settings (GET /admin/sharepoint/settings). */
  sharepointSettings?: SimSharepointSettingsOptions;
  /** Sensitivity labels of files and the label catalogue. */
  labels?: SimLabelOptions;
  /**
   * Wrap the single-object answers (GET /admin/sharepoint/settings, extractSensitivityLabels)
   * in `{"value": {…}}` as the documentation's examples show; default false: the object itself.
   */
  wrapSingleValues?: boolean;
}

export interface SimSharepointSettingsOptions {
  /**
   * mixed (default): some sharing controls violated (sharing with new guests, no domain allow
   * list, no idle sign-out); microsoftDefaults: a new tenant's settings, every sharing control
   * violated; hardened: none.
   */
  preset?: 'mixed' | 'microsoftDefaults' | 'hardened';
  /** sharepointSettings properties (Graph names and values) laid over the preset. */
  overrides?: Record<string, unknown>;
}

export interface SimLabelOptions {
  /** Share of label-capable files (docx, xlsx, pptx, pdf, …) that carry a sensitivity label (default 0.3). */
  share?: number;
  /** Share of label-capable files whose labels cannot be read: 423 fileDoubleKeyEncrypted (default 0). */
  lockedShare?: number;
}

/** What a running simulator gives back; also printed as one JSON line by `drivewarden sim`. */
export interface SimConnectionInfo {
  graphBaseUrl: string; // e.g. https://127.0.0.1:PORT/v1.0
  authorityUrl: string; // e.g. https://127.0.0.1:PORT  (token: {authorityUrl}/{tenantId}/oauth2/v2.0/token)
  managementBaseUrl: string; // e.g. https://127.0.0.1:PORT/api/v1.0  (+ /{tenantId}/activity/feed/...)
  tenantId: string;
  clientId: string;
  clientSecret: string;
  caCertPath: string; // PEM of the CA that signed the server certificate
  adminUrl: string; // e.g. https://127.0.0.1:PORT/_sim
  adminSecret: string;
  verifiedDomains: string[]; // the tenant's own domains, e.g. ["contoso.test"]
  /** PEM with the private key and certificate registered on the app (for client_assertion). */
  clientCertificatePath?: string;
  /** SHA-1 thumbprint (hex, upper case) of that certificate. */
  clientCertificateThumbprint?: string;
}

export interface SimHandle extends SimConnectionInfo {
  close(): Promise<void>;
}

/** Fault kinds the simulator can serve (by rate or at a scheduled request number). */
export type SimFaultKind =
  | 'throttle429' // 429 + Retry-After (decimal seconds sometimes)
  | 'unavailable503'
  | 'gatewayTimeout504'
  | 'hang' // never answers (client timeout must fire)
  | 'reset' // destroys the socket mid-response
  | 'lostAnswer' // the request is carried out (a POST creates), then the socket is destroyed instead of the answer
  | 'truncated' // 200 with a cut JSON body
  | 'malformedItem' // 200, but one entry of the page's `value` has a field of the wrong type (size: "large")
  | 'malformedFolder' // the same for a folder (one with children in the page, when there is one)
  | 'gone410' // on delta with a token: resyncRequired
  | 'expiredToken401'
  | 'forbidden403'; // permission missing for one resource type (see `resourceType`)

export interface SimFaultRule {
  kind: SimFaultKind;
  /** 0..1 probability per matching request. */
  rate?: number;
  /** Serve the fault exactly at the Nth matching request (1-based), once. */
  atRequest?: number;
  /** Only requests whose path matches this regex (source string), e.g. "/root/delta". */
  pathPattern?: string;
  /**
   * For forbidden403: 'users' | 'groups' | 'organization' | 'drives' | 'items' | 'permissions' |
   * 'signInActivity' | 'mfa' | 'audit' | 'subscriptions' | 'tenantSettings' (SharePointTenantSettings.Read.All) |
   * 'sensitivityLabels' (the label catalogue) | 'labels' (extractSensitivityLabels only) |
   * 'permissionsWrite' (DELETE/PATCH of a permission: Files.ReadWrite.All) |
   * 'tenantSettingsWrite' (PATCH /admin/sharepoint/settings: SharePointTenantSettings.ReadWrite.All).
   */
  resourceType?: string;
  /** For gone410: serve at most once per drive. */
  oncePerDrive?: boolean;
}

/** A person or object as an identity set names it (createdBy, lastModifiedBy, owner). */
export interface TruthIdentity {
  id: string | null;
  /** E-mail, or the user principal name when there is no mail; lower case. */
  email: string | null;
  displayName: string | null;
}

/**
 * Who a permission reaches, in the tenant model's own terms (sim/model SimRecipient.kind), not
 * read back from the JSON the simulator serves. `owner` is the drive owner's entry.
 */
export interface TruthRecipient {
  /**
   * everyone: SharePoint's "Everyone" claim (guests included); everyone_internal: "Everyone
   * except external users".
   */
  kind: 'internal' | 'guest' | 'external' | 'consumer' | 'group' | 'owner' | 'everyone' | 'everyone_internal';
  /**
   * Directory id of the user or group; null for an address outside the directory; the
   * SharePoint principal id for the Everyone claims.
   */
  id: string | null;
  /** Lower case; null for the Everyone claims. */
  email: string | null;
  displayName: string;
  /** The SharePoint login name the tenant knows the recipient by (#ext#, urn:spo:guest, claims). */
  loginName: string;
  /** The Everyone claims: the identity Graph names them by (grantedToV2.siteUser or .siteGroup). */
  identity?: 'siteUser' | 'siteGroup';
}

/** Who an item's access root grants to (`grant` truth records): one kind per recipient. */
export type TruthGrantKind =
  | 'user'
  | 'group'
  | 'guest'
  | 'external'
  | 'anyone'
  | 'organization'
  | 'existing_access'
  | 'link'
  | 'site_user'
  | 'site_group'
  | 'application'
  | 'device';

/** Exposure of an item: what its access root's effective permissions open it to. */
export type TruthExposure = 'public' | 'external' | 'internal' | 'private';

/**
 * Ground truth: `GET /_sim/truth` streams NDJSON, one record per line, in this shape.
 * The collector's inventory must equal it exactly after a full sync. Every record is computed
 * from the tenant model (sim/truth.ts), never from the JSON the endpoints serve, so a bug in
 * how an endpoint renders something shows up as a difference instead of on both sides.
 * Order: users, MFA entries, groups, members, user drives, then drive by drive (the drive, its
 * items, its permissions, its grants), so a reader can compare one drive at a time.
 */
export type TruthRecord =
  | {
      kind: 'user';
      id: string;
      userPrincipalName: string;
      displayName: string;
      mail: string | null;
      accountEnabled: boolean;
      userType: 'Member' | 'Guest';
      externalUserState: string | null;
      managerId: string | null;
      lastSignInDateTime: string | null;
      isMfaRegistered: boolean | null; // null for disabled users (not in the MFA report)
      /** Domain of the user principal name, lower case. */
      domain: string | null;
      /** A guest account (B2B invitation), from the model's userType. */
      isGuest: boolean;
      otherMails: string[];
      createdDateTime: string;
      creationType: string | null;
      externalUserStateChangeDateTime: string | null;
      lastPasswordChangeDateTime: string | null;
      jobTitle: string | null;
      department: string | null;
      companyName: string | null;
      officeLocation: string | null;
      employeeId: string | null;
      usageLocation: string | null;
      city: string | null;
      country: string | null;
      mobilePhone: string | null;
      businessPhones: string[];
      assignedLicenses: Array<{ skuId: string; disabledPlans: string[] }>;
      lastNonInteractiveSignInDateTime: string | null;
      lastSuccessfulSignInDateTime: string | null;
    }
  | {
      /** An entry of the MFA registration report (enabled users only). */
      kind: 'mfa';
      userId: string;
      userPrincipalName: string;
      displayName: string;
      isAdmin: boolean;
      isMfaRegistered: boolean;
      isMfaCapable: boolean;
      isSsprRegistered: boolean;
      isPasswordlessCapable: boolean;
      methodsRegistered: string[];
      userType: 'member' | 'guest';
      lastUpdatedDateTime: string;
    }
  | {
      kind: 'group';
      id: string;
      displayName: string;
      mail: string | null;
      description: string | null;
      mailEnabled: boolean;
      securityEnabled: boolean;
      groupTypes: string[];
      visibility: string | null;
      createdDateTime: string;
      onPremisesSyncEnabled: boolean | null;
    }
  | {
      kind: 'member'; // transitive membership
      groupId: string;
      memberId: string;
      memberType: 'user' | 'group';
      displayName: string;
      userPrincipalName: string | null;
      mail: string | null;
    }
  | { kind: 'noDrive'; userId: string } // user without a provisioned OneDrive
  | {
      /** Every user: whether GET /users/{id}/drive finds a OneDrive. */
      kind: 'userDrive';
      userId: string;
      driveId: string | null;
      provisioned: boolean;
      /** The Graph error code when not provisioned. */
      statusCode: string | null;
    }
  | {
      kind: 'drive';
      id: string;
      ownerId: string;
      driveType: 'business';
      quotaTotal: number;
      quotaUsed: number;
      quotaRemaining: number;
      quotaDeleted: number;
      quotaState: 'normal' | 'nearing' | 'critical' | 'exceeded';
      owner: TruthIdentity;
      name: string;
      webUrl: string;
      createdDateTime: string;
      lastModifiedDateTime: string;
      siteId: string;
      siteUrl: string;
    }
  | {
      kind: 'item';
      driveId: string;
      id: string;
      parentId: string | null; // null for the drive root
      name: string; // "root" for the drive root
      path: string; // "/" for the root, "/Documents/Plan.docx" below it
      isFolder: boolean;
      size: number;
      lastModifiedDateTime: string;
      /** scope of the `shared` facet as served with Prefer: hierarchicalsharing, or null. */
      sharedScope: 'anonymous' | 'organization' | 'users' | null;
      isRoot: boolean;
      mimeType: string | null;
      /** Live children of a folder; null for files. */
      childCount: number | null;
      createdDateTime: string;
      createdBy: TruthIdentity;
      lastModifiedBy: TruthIdentity;
      webUrl: string;
      /** When the sharing root was last shared (its newest explicit permission); null elsewhere. */
      sharedDateTime: string | null;
      /** Nearest ancestor-or-self with explicit permissions (a sharing root), or null. */
      accessRootId: string | null;
      exposure: TruthExposure;
    }
  | {
      /** Every permission GET /drives/{d}/items/{i}/permissions returns, for every item that has a
       *  `shared` facet under hierarchicalsharing (the sharing roots). Includes inherited ones and
       *  the owner's. */
      kind: 'permission';
      driveId: string;
      itemId: string;
      id: string;
      roles: string[];
      linkType: 'view' | 'edit' | 'embed' | null;
      linkScope: 'anonymous' | 'organization' | 'existingAccess' | 'users' | null;
      expirationDateTime: string | null; // null when none ("0001-01-01T00:00:00Z" on the wire)
      /** email, or loginName for siteUser/siteGroup, or null for pure links. Lower-case. */
      recipients: string[];
      /** The drive owner's entry every listing starts with. */
      isOwner: boolean;
      /** Who it reaches, first recipient first (the owner entry: the owner). */
      recipientDetails: TruthRecipient[];
      /** Some recipient is outside the tenant (guest, external address, personal mailbox). */
      isExternal: boolean;
      /** Some recipient signs in as a guest: a B2B guest account (#EXT#) or an address invited as a one-time-passcode guest (urn:spo:guest). */
      isGuest: boolean;
      /** Some recipient is a personal (consumer) mailbox such as gmail.com. */
      hasPersonalMailbox: boolean;
      /** The address a direct grant to someone outside the tenant was sent to. */
      invitationEmail: string | null;
      linkWebUrl: string | null;
      preventsDownload: boolean;
      shareId: string;
    }
  | {
      /** One per live permission of a sharing root and recipient (an anonymous or organization
       *  link without recipients counts as one recipient: `anyone` / `organization`). */
      kind: 'grant';
      driveId: string;
      itemId: string;
      permissionId: string;
      recipientKind: TruthGrantKind;
      recipientId: string | null;
      recipientEmail: string | null;
      recipientName: string | null;
      loginName: string | null;
      audience: 'public' | 'external' | 'guest' | 'internal' | 'none';
      isOwner: boolean;
      roles: string[];
      linkType: string | null;
      linkScope: string | null;
      expirationDateTime: string | null;
      invitationEmail: string | null;
    }
  | {
      /** A Teams activity feed notification a user received (after every drive, in arrival order). */
      kind: 'activityNotification';
      userId: string;
      userPrincipalName: string;
      activityType: string;
      topic: { source: string; value: string; webUrl: string | null };
      previewText: string | null;
      templateParameters: Array<{ name: string; value: string }>;
      at: string;
    };

/** One Graph request as it arrived (`GET /_sim/requests`, while recording is on). */
export interface SimLoggedRequest {
  /** Arrival order, from 1 since recording started. */
  seq: number;
  at: string;
  method: string;
  /** Path and query as routed (after the delta URL rewrite), e.g. /v1.0/drives/b!x/items/01A/permissions. */
  url: string;
  /** A $batch sub-request. */
  inBatch: boolean;
}

/** Counters from `GET /_sim/counters`. */
/**
 * One drive delta request as the simulator served it (`GET /_sim/delta-log`): which drive, which
 * caller (a digest of its bearer token: each process has its own token) and when it arrived and
 * was answered. Tests check from it that no drive's delta runs ever overlapped.
 */
export interface DeltaRequestRecord {
  driveId: string;
  client: string;
  startMs: number;
  endMs: number;
  status: number;
  /** The request carried a token (a follow-up page or a deltaLink); false = a fresh enumeration's first page. */
  withToken: boolean;
  /** The answer ended the run (a deltaLink, or an error); false = a nextLink follows. */
  last: boolean;
}

export interface SimCounters {
  requests: number;
  requestsByEndpoint: Record<string, number>; // key: "GET /drives/{id}/root/delta" style templates
  ruSpent: number;
  faultsServed: Record<string, number>;
  throttledResponses: number;
  /** Requests that arrived while a Retry-After given to the tenant had not expired. */
  requestsDuringRetryAfter: number;
  notificationsDelivered: number;
  notificationsFailed: number;
}

/** Mutations: `POST /_sim/mutations` with one of these bodies; answers `{ok:true, ...ids}`. */
export type SimMutation =
  | {
      op: 'createItem';
      driveId: string;
      parentId: string;
      name: string;
      folder?: boolean;
      size?: number;
      actorId?: string;
    }
  | { op: 'renameItem'; driveId: string; itemId: string; name: string; actorId?: string }
  | { op: 'moveItem'; driveId: string; itemId: string; newParentId: string; actorId?: string }
  | { op: 'modifyItem'; driveId: string; itemId: string; size?: number; actorId?: string }
  | { op: 'deleteItem'; driveId: string; itemId: string; actorId?: string } // subtree
  | {
      op: 'share';
      driveId: string;
      itemId: string;
      kind: 'anonymous' | 'organization' | 'users' | 'guest' | 'external' | 'internal';
      linkType?: 'view' | 'edit';
      expirationDateTime?: string | null;
      email?: string;
      actorId?: string;
    }
  | { op: 'unshare'; driveId: string; itemId: string; permissionId?: string; actorId?: string } // all explicit when no id
  | { op: 'setQuotaUsed'; driveId: string; used: number }
  | { op: 'disableUser'; userId: string }
  // The Teams app of the drivewarden Entra app: installed for every user unless removed here.
  | { op: 'setTeamsApp'; userId: string; installed: boolean }
  | { op: 'addGuest'; email: string; displayName?: string }
  | { op: 'massDelete'; driveId: string; count: number; actorId?: string }
  | { op: 'massDownload'; driveId: string; count: number; actorId?: string; clientIp?: string } // audit events only
  // Audit activity (sim/model/activity.ts): access events only, `at` in the past allowed.
  | { op: 'backgroundActivity'; days: number; seed?: number; utcOffsetHours?: number; intensity?: number }
  | {
      op: 'attack';
      scenario:
        | 'massDownload'
        | 'massDelete'
        | 'massExternalShare'
        | 'newCountryIp'
        | 'anonymousLinkOnSensitive';
      actorId?: string;
      driveId?: string;
      count?: number;
      email?: string;
      clientIp?: string;
      seed?: number;
      utcOffsetHours?: number;
    }
  | { op: 'invalidateDeltaTokens'; driveId: string } // next delta with an old token → 410
  | { op: 'advanceClock'; seconds: number }
  | { op: 'setNotificationDelivery'; enabled: boolean }
  | { op: 'setFaults'; faults: SimFaultRule[] }
  // Additions (optional to use): directory changes that make /users/delta and /groups/delta report removals.
  | { op: 'deleteUser'; userId: string } // their OneDrive, if any, goes with them
  | { op: 'removeDrive'; driveId: string } // the OneDrive is gone, its owner stays (drive GETs answer 404)
  | { op: 'addGroupMember'; groupId: string; memberId: string }
  | { op: 'removeGroupMember'; groupId: string; memberId: string }
  // Tenant configuration and labels.
  | { op: 'setSharepointSettings'; settings: Record<string, unknown> } // Graph property names, laid over the current ones
  | {
      op: 'setItemLabels'; // a content change: the file gets a new version and shows up in delta
      driveId: string;
      itemId: string;
      /** Catalogue label ids; [] removes every label. */
      labelIds: string[];
      assignmentMethod?: 'standard' | 'privileged' | 'auto';
      actorId?: string;
    };

/** Emitted inside the simulator for every change (feeds delta, notifications and audit). */
export interface SimChangeEvent {
  seq: number;
  at: string; // ISO time on the simulated clock
  kind: 'item' | 'permission' | 'drive' | 'user' | 'group' | 'access';
  op: 'created' | 'updated' | 'deleted' | 'shared' | 'unshared' | 'downloaded' | 'accessed';
  driveId?: string;
  itemId?: string;
  userId?: string;
  actorId?: string;
  actorUpn?: string;
  clientIp?: string;
  permissionId?: string;
  linkScope?: string;
  targetEmail?: string;
  /** Rename: the item's name before it (the audit feed logs FileRenamed/FolderRenamed). */
  previousName?: string;
  /** Move: the id of the folder the item was in before it (FileMoved/FolderMoved). */
  previousParentId?: string;
  /** Rename or move: the item's path before it ("/Documents/old.docx"). */
  previousPath?: string;
}

/**
 * What the simulator core (tenant model, Graph endpoints, admin API) hands to the event
 * half (subscriptions, notification delivery, lifecycle events, the Office 365
 * Management Activity API). The core builds one `SimRuntime` and calls
 * `registerEventRoutes(app, runtime)` from `sim/events/index.ts` once at start-up.
 */
export interface SimRuntime {
  readonly tenantId: string;
  readonly options: SimOptions;
  /** The simulated clock: real time plus whatever the admin API advanced it by. */
  readonly clock: SimClock;
  /** Every change to the tenant, emitted synchronously after the model applied it. */
  onChange(listener: (event: SimChangeEvent) => void): () => void;
  /** Mutable counters shared by both halves (served by GET /_sim/counters). */
  readonly counters: SimCounters;
  /** Set by the admin mutation `setNotificationDelivery`; delivery pauses while false (notifications are then lost, as on Graph after retries run out). */
  notificationsEnabled: boolean;
  /** Checks an `Authorization: Bearer …` header against tokens the simulator issued for that audience. */
  verifyBearer(authorization: string | undefined, audience: 'graph' | 'management'): boolean;
  /** Answers true when the configured faults make `forbidden403` apply to this resource type. */
  isForbidden(resourceType: string): boolean;
  /** Optional: checks an `Authorization: Bearer <adminSecret>` header (used by the event half's `/_sim/events/*` routes). */
  verifyAdmin?(authorization: string | undefined): boolean;
  lookupUser(
    userId: string,
  ): { id: string; userPrincipalName: string; userType: 'Member' | 'Guest' } | undefined;
  lookupDrive(driveId: string): { id: string; ownerId: string; webUrl: string } | undefined;
  lookupItem(
    driveId: string,
    itemId: string,
  ):
    | { id: string; name: string; path: string; webUrl: string; isFolder: boolean; deleted: boolean }
    | undefined;
  listDriveIds(): string[];
}

export interface SimClock {
  /** Milliseconds since the epoch on the simulated clock. */
  now(): number;
  /** Moves the clock forward and calls every onAdvance listener. */
  advance(seconds: number): void;
  onAdvance(listener: (nowMs: number) => void): () => void;
}
