import type { Generated } from 'kysely';

/**
 * Tables of the inventory: integrations, resources, history, sync state (owned by store/).
 * Resource tables mirror src/resources/*.ts (the column descriptions live there too).
 *
 * Dialect notes: booleans are 0/1 on SQLite and true/false on PostgreSQL (`DbBool`);
 * timestamps are ISO-8601 UTC strings on both (timestamptz parsed back to ISO on PostgreSQL);
 * JSON is text on SQLite and parsed jsonb on PostgreSQL (`DbJson`). Use `decodeRow` from
 * src/store/codec.ts to get plain JS values.
 */
export type DbBool = boolean | number;
export type DbJson = unknown;

/** Standard columns on every resource table. */
export interface StandardColumns {
  /** The drivewarden integration (tenant connection) the row belongs to. */
  integration_id: string;
  /** Microsoft Entra tenant id. */
  tenant_id: string;
  /** Microsoft Graph id of the resource. */
  id: string;
  /** When drivewarden first saw the resource. */
  first_seen: string;
  /** When drivewarden last read the resource from Graph. */
  last_seen: string;
  /** When the resource was found deleted (tombstone); null while it exists. */
  deleted_at: string | null;
  /** The full Graph JSON payload as last read. */
  raw: DbJson;
}

/** A connected tenant. Secrets are sealed with SecretBox (AES-256-GCM). */
export interface IntegrationsTable {
  /** drivewarden id of the integration (uuid). */
  id: string;
  /** Unique name people use in the CLI and UI. */
  name: string;
  /** Microsoft Entra tenant id. */
  tenant_id: string;
  /** Application (client) id of the app registration. */
  client_id: string;
  /** Sealed client secret, or null when a certificate is used. */
  secret_enc: string | null;
  /** Sealed PEM (private key + certificate), or null when a secret is used. */
  certificate_enc: string | null;
  /** Graph base URL override (national clouds, simulator). */
  graph_base_url: string | null;
  /** Authority URL override. */
  authority_url: string | null;
  /** Office 365 Management API base URL override. */
  management_base_url: string | null;
  /** Extra CA certificates (PEM) to trust for this integration. */
  ca_pem: string | null;
  /** The tenant's verified domains (JSON array), used for is_external. */
  verified_domains: DbJson;
  /** False while collection and webhooks are paused. */
  enabled: DbBool;
  /** When the integration was added. */
  created_at: string;
  /** When the integration was last changed. */
  updated_at: string;
  /** Last permission probe: {permission: "granted" | "missing" | "error"} (JSON). */
  probe: DbJson;
  /** When the probe ran. */
  probed_at: string | null;
}

/** Entra ID users of the tenant (members and guests) with account, organisation, licence and sign-in data. */
export interface UsersTable extends StandardColumns {
  /** User principal name (sign-in name); guests contain #EXT#. */
  user_principal_name: string | null;
  /** Display name. */
  display_name: string | null;
  /** Primary SMTP address, lower case. */
  mail: string | null;
  /** Domain of the user principal name, lower case. */
  domain: string | null;
  /** Additional e-mail addresses (JSON array). */
  other_mails: DbJson | null;
  /** Whether the account can sign in. */
  account_enabled: DbBool | null;
  /** Member or Guest. */
  user_type: string | null;
  /** True for guests (userType Guest or #EXT# in the UPN). */
  is_guest: DbBool | null;
  /** When the account was created (createdDateTime). */
  created_at: string | null;
  /** How the account was created, e.g. Invitation for guests. */
  creation_type: string | null;
  /** Guest invitation state: PendingAcceptance, Accepted or null. */
  external_user_state: string | null;
  /** When externalUserState last changed. */
  external_user_state_changed_at: string | null;
  /** Last password change. */
  last_password_change_at: string | null;
  /** Job title. */
  job_title: string | null;
  /** Department. */
  department: string | null;
  /** Company name. */
  company_name: string | null;
  /** Office location. */
  office_location: string | null;
  /** Employee id. */
  employee_id: string | null;
  /** Two-letter usage location (licensing). */
  usage_location: string | null;
  /** City. */
  city: string | null;
  /** Country or region. */
  country: string | null;
  /** Mobile phone number. */
  mobile_phone: string | null;
  /** Business phone numbers (JSON array). */
  business_phones: DbJson | null;
  /** Assigned licences [{skuId, disabledPlans}] (JSON). */
  assigned_licenses: DbJson | null;
  /** Number of assigned licences. */
  license_count: number | null;
  /** Graph id of the user's manager, or null. */
  manager_id: string | null;
  /** Last interactive sign-in (signInActivity, needs AuditLog.Read.All and P1/P2). */
  sign_in_last: string | null;
  /** Last non-interactive sign-in. */
  sign_in_last_non_interactive: string | null;
  /** Last successful sign-in. */
  sign_in_last_successful: string | null;
}

/** Authentication method registration per user (MFA report; disabled users are not listed). */
export interface UserMfaTable extends StandardColumns {
  /** User principal name. */
  user_principal_name: string | null;
  /** Display name. */
  display_name: string | null;
  /** Whether the user holds an admin role. */
  is_admin: DbBool | null;
  /** Registered a strong authentication method. */
  is_mfa_registered: DbBool | null;
  /** Registered a method allowed by policy and enabled for MFA. */
  is_mfa_capable: DbBool | null;
  /** Registered for self-service password reset. */
  is_sspr_registered: DbBool | null;
  /** Registered a passwordless method. */
  is_passwordless_capable: DbBool | null;
  /** Registered methods (JSON array), e.g. ["microsoftAuthenticatorPush"]. */
  methods_registered: DbJson | null;
  /** member or guest (lower case in this report). */
  user_type: string | null;
  /** When the report entry was last updated. */
  last_updated_at: string | null;
}

/** Entra ID groups (security, Microsoft 365, distribution). */
export interface GroupsTable extends StandardColumns {
  /** Display name. */
  display_name: string | null;
  /** Description. */
  description: string | null;
  /** Group e-mail address, lower case. */
  mail: string | null;
  /** Whether the group is mail-enabled. */
  mail_enabled: DbBool | null;
  /** Whether the group is a security group. */
  security_enabled: DbBool | null;
  /** groupTypes (JSON array), e.g. ["Unified"]. */
  group_types: DbJson | null;
  /** True for Microsoft 365 (Unified) groups. */
  is_unified: DbBool | null;
  /** Public, Private or HiddenMembership (Microsoft 365 groups). */
  visibility: string | null;
  /** When the group was created. */
  created_at: string | null;
  /** Whether the group is synced from on-premises AD. */
  on_premises_sync_enabled: DbBool | null;
}

/** Transitive members of each group (one row per group and member). */
export interface GroupMembersTable extends StandardColumns {
  /** Graph id of the group. */
  group_id: string;
  /** Kind of member: user, group, device, servicePrincipal, orgContact. */
  member_type: string | null;
  /** Display name of the member. */
  display_name: string | null;
  /** User principal name when the member is a user. */
  user_principal_name: string | null;
  /** E-mail address of the member, lower case. */
  mail: string | null;
}

/** OneDrive drives, one per provisioned user, with owner and quota. */
export interface DrivesTable extends StandardColumns {
  /** Graph id of the owner (user or group). */
  owner_id: string | null;
  /** Kind of owner: user or group. */
  owner_kind: string | null;
  /** Owner's e-mail / UPN, lower case. */
  owner_email: string | null;
  /** Owner's display name. */
  owner_name: string | null;
  /** Drive name, e.g. OneDrive. */
  name: string | null;
  /** personal, business or documentLibrary. */
  drive_type: string | null;
  /** URL of the drive in the browser. */
  web_url: string | null;
  /** When the drive was created. */
  created_at: string | null;
  /** When the drive was last modified. */
  modified_at: string | null;
  /** Total storage in bytes. */
  quota_total: number | null;
  /** Used storage in bytes. */
  quota_used: number | null;
  /** Remaining storage in bytes. */
  quota_remaining: number | null;
  /** Bytes in the recycle bin. */
  quota_deleted: number | null;
  /** normal, nearing (<10% left), critical (<1% left) or exceeded. */
  quota_state: string | null;
  /** SharePoint site id behind the drive. */
  site_id: string | null;
  /** SharePoint site URL behind the drive. */
  site_url: string | null;
}

/** One row per user: whether the user has a provisioned OneDrive (GET /users/{id}/drive). */
export interface UserDrivesTable extends StandardColumns {
  /** Graph id of the user's drive, null when not provisioned. */
  drive_id: string | null;
  /** False when Graph answered 404 (no OneDrive provisioned). */
  provisioned: DbBool | null;
  /** The Graph error code when not provisioned, e.g. ResourceNotFound. */
  status_code: string | null;
}

/** Files and folders of every drive, with path, owner-facing metadata and sharing scope. */
export interface DriveItemsTable extends StandardColumns {
  /** Graph id of the drive holding the item. */
  drive_id: string;
  /** Graph id of the parent folder; null for the drive root. */
  parent_id: string | null;
  /** File or folder name ("root" for the drive root). */
  name: string | null;
  /** Path from the drive root ("/" for the root, "/Documents/Plan.docx"); null while the parent is unknown. */
  path: string | null;
  /** File extension, lower case, without the dot; null for folders. */
  extension: string | null;
  /** Size in bytes (folders: total of their contents). */
  size: number | null;
  /** MIME type of a file. */
  mime_type: string | null;
  /** True for folders (and the root). */
  is_folder: DbBool | null;
  /** True for the drive root. */
  is_root: DbBool | null;
  /** Number of direct children of a folder. */
  child_count: number | null;
  /** Package type (e.g. oneNote) when the item is a package. */
  package_type: string | null;
  /** When the item was created. */
  created_at: string | null;
  /** Graph id of the creator. */
  created_by_id: string | null;
  /** Creator's e-mail / UPN, lower case. */
  created_by_email: string | null;
  /** Creator's display name. */
  created_by_name: string | null;
  /** When the item was last modified. */
  modified_at: string | null;
  /** Graph id of the last modifier. */
  modified_by_id: string | null;
  /** Last modifier's e-mail / UPN, lower case. */
  modified_by_email: string | null;
  /** Last modifier's display name. */
  modified_by_name: string | null;
  /** URL of the item in the browser. */
  web_url: string | null;
  /** Scope of the shared facet (anonymous, organization, users) on roots of a sharing hierarchy; null otherwise. */
  shared_scope: string | null;
  /** When the item was shared (shared.sharedDateTime). */
  shared_at: string | null;
  /** Content tag (changes when the content changes). */
  c_tag: string | null;
  /** Entity tag (changes on any change). */
  e_tag: string | null;
  /** State of the deleted facet when the item was deleted. */
  deleted_state: string | null;
  /** Nearest ancestor-or-self sharing root (derived); null when none or not yet known. */
  access_root_id: string | null;
  /** public, external, internal or private (derived from the access root's grants); null while unknown. */
  exposure: string | null;
}

/** Sharing permissions of the items that are roots of a sharing hierarchy (links, direct grants, invitations, owner). */
export interface PermissionsTable extends StandardColumns {
  /** Graph id of the drive holding the item. */
  drive_id: string;
  /** Graph id of the shared item. */
  item_id: string;
  /** Roles granted (JSON array): read, write, owner, … */
  roles: DbJson | null;
  /** Sharing link type: view, edit or embed; null for direct grants. */
  link_type: string | null;
  /** Sharing link scope: anonymous ("Anyone"), organization, existingAccess or users; null for direct grants. */
  link_scope: string | null;
  /** URL of the sharing link. */
  link_web_url: string | null;
  /** When the permission expires; null when it never does. */
  expiration: string | null;
  /** Link blocks downloads (view-only in the browser). */
  prevents_download: DbBool | null;
  /** Link is password-protected (OneDrive personal only). */
  has_password: DbBool | null;
  /** Kind of the first recipient: user, group, siteUser, siteGroup, application, link (no recipient), invitation or owner. */
  recipient_kind: string | null;
  /** Graph id of the first recipient. */
  recipient_id: string | null;
  /** E-mail (or SharePoint login name) of the first recipient, lower case. */
  recipient_email: string | null;
  /** Domain of recipient_email, lower case. */
  recipient_domain: string | null;
  /** Display name of the first recipient. */
  recipient_name: string | null;
  /** Every recipient address (e-mail or login name, lower case) as a JSON array. */
  recipients: DbJson | null;
  /** Number of recipients. */
  recipient_count: number | null;
  /** Some recipient is outside the tenant: domain not among the integration's verified domains, #ext# or urn:spo:guest. */
  is_external: DbBool | null;
  /** Some recipient is a guest account (#ext# / urn:spo:guest login). */
  is_guest: DbBool | null;
  /** Inherited from an ancestor (inheritedFrom; not returned by OneDrive for Business). */
  inherited: DbBool | null;
  /** E-mail the sharing invitation was sent to. */
  invitation_email: string | null;
  /** Share id usable with /shares. */
  share_id: string | null;
}

export interface ResourceTables {
  users: UsersTable;
  user_mfa: UserMfaTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  drives: DrivesTable;
  user_drives: UserDrivesTable;
  drive_items: DriveItemsTable;
  permissions: PermissionsTable;
}

/** History: one row per observed change of a resource. */
export interface ChangesTable {
  /** Sequence number. */
  id: Generated<number>;
  /** The integration the resource belongs to. */
  integration_id: string;
  /** Microsoft Entra tenant id. */
  tenant_id: string;
  /** Resource type: user, group, group_member, drive, user_drive, drive_item, permission, user_mfa. */
  resource_type: string;
  /** Graph id of the resource (the member id for group_member, the permission id for permission). */
  resource_id: string;
  /** Drive of a drive, drive_item or permission. */
  drive_id: string | null;
  /** Item of a permission. */
  item_id: string | null;
  /** Group of a group_member. */
  group_id: string | null;
  /** added, modified or removed. */
  change_type: 'added' | 'modified' | 'removed';
  /** Typed columns that changed (JSON array; all columns for added/removed). */
  fields: DbJson;
  /** Values of those columns before (JSON object), null for added. */
  before: DbJson;
  /** Values of those columns after (JSON object), null for removed. */
  after: DbJson;
  /** Who made the change when Graph says (lastModifiedBy), else null. */
  actor: string | null;
  /** How the change was observed: full, delta, webhook, resync or poll. */
  source: string;
  /** When drivewarden observed the change. */
  observed_at: string;
}

/** Per integration and scope (users, groups, mfa, drives, drive:<id>): where collection stands. */
export interface SyncStateTable {
  integration_id: string;
  /** users, groups, mfa, drives, drive:<driveId>. */
  scope: string;
  /** idle, enumerating (full listing), resyncing (after 410) or delta (paging a delta round). */
  phase: string;
  /** The deltaLink to continue from next time. */
  delta_link: string | null;
  /** Resume point in the middle of an enumeration or delta round. */
  next_link: string | null;
  /** When the current/last enumeration started (rows not seen since are swept at its end). */
  enumeration_started_at: string | null;
  /** When the last full enumeration completed. */
  last_full_sync_at: string | null;
  /** When the last delta round completed. */
  last_delta_at: string | null;
  /** When the scope was last collected without error. */
  last_success_at: string | null;
  /** Graph error code of the last failure, null after a success. */
  last_error_code: string | null;
  last_error_message: string | null;
  /** Graph request id of the last failure. */
  last_error_request_id: string | null;
  last_error_at: string | null;
  updated_at: string;
}

/** Collection errors per integration and resource (a 403 on a resource type, a bad item, a failed drive). */
export interface SyncErrorsTable {
  id: Generated<number>;
  integration_id: string;
  /** users, signInActivity, mfa, groups, group_members, drives, items, permissions, … */
  resource_type: string;
  /** The resource concerned (item id, drive id, …) or null for the whole type. */
  resource_id: string | null;
  /** The scope (drive:<id>, …) the error happened in. */
  scope: string | null;
  /** HTTP status when the error came from Graph. */
  status: number | null;
  /** Graph error code (accessDenied, itemNotFound, …) or invalidPayload for schema failures. */
  code: string;
  message: string;
  /** Graph request id (request-id header). */
  request_id: string | null;
  first_at: string;
  last_at: string;
  /** How many times it was seen while unresolved. */
  count: number;
  /** When a later collection succeeded; null while the error stands. */
  resolved_at: string | null;
}

/** One row per permission and recipient of each sharing root (src/resources/grant.ts). */
export interface GrantsTable {
  integration_id: string;
  tenant_id: string;
  drive_id: string;
  item_id: string;
  permission_id: string;
  recipient_key: string;
  recipient_kind: string;
  recipient_id: string | null;
  recipient_email: string | null;
  recipient_domain: string | null;
  recipient_name: string | null;
  login_name: string | null;
  audience: string;
  is_owner: DbBool;
  roles: DbJson;
  link_type: string | null;
  link_scope: string | null;
  expiration: string | null;
  invitation_email: string | null;
}

/** Read-only view: every live item with the grants of its access root. */
export interface ItemGrantsView {
  integration_id: string;
  drive_id: string;
  item_id: string;
  path: string | null;
  exposure: string | null;
  access_root_id: string;
  permission_id: string;
  recipient_kind: string;
  recipient_id: string | null;
  recipient_email: string | null;
  recipient_domain: string | null;
  recipient_name: string | null;
  audience: string;
  is_owner: DbBool;
  roles: DbJson;
  link_type: string | null;
  link_scope: string | null;
  expiration: string | null;
}

export interface InventoryTables extends ResourceTables {
  grants: GrantsTable;
  item_grants: ItemGrantsView;
  integrations: IntegrationsTable;
  changes: ChangesTable;
  sync_state: SyncStateTable;
  sync_errors: SyncErrorsTable;
}
