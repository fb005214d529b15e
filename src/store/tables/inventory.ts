import type { Generated } from 'kysely';
import type { drive } from '../../resources/drive.ts';
import type { driveItem } from '../../resources/drive-item.ts';
import type { group } from '../../resources/group.ts';
import type { groupMember } from '../../resources/group-member.ts';
import type { permission } from '../../resources/permission.ts';
import type { ErrorSubject, ResourceType } from '../../resources/types.ts';
import type { user } from '../../resources/user.ts';
import type { userDrive } from '../../resources/user-drive.ts';
import type { userMfa } from '../../resources/user-mfa.ts';
import type { DbBool, DbJson, ResourceTable } from './resource-table.ts';

export type { DbBool, DbJson, StandardColumns } from './resource-table.ts';

/**
 * Tables of the inventory: integrations, resources, history, sync state (owned by store/).
 * Resource table types are derived from src/resources/*.ts (columns, kinds and their
 * descriptions live there); see ./resource-table.ts for the dialect notes.
 */

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

// Resource tables: derived from the definitions in src/resources/ (one source for the columns,
// their kinds and their descriptions).
export interface UsersTable extends ResourceTable<typeof user> {}
export interface UserMfaTable extends ResourceTable<typeof userMfa> {}
export interface GroupsTable extends ResourceTable<typeof group> {}
export interface GroupMembersTable extends ResourceTable<typeof groupMember> {}
export interface DrivesTable extends ResourceTable<typeof drive> {}
export interface UserDrivesTable extends ResourceTable<typeof userDrive> {}
export interface DriveItemsTable extends ResourceTable<typeof driveItem> {}
export interface PermissionsTable extends ResourceTable<typeof permission> {}

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
  /** Resource type (ResourceType): user, group, group_member, drive, user_drive, drive_item, permission, user_mfa, tenant_settings, sensitivity_label, item_label. */
  resource_type: ResourceType;
  /** Graph id of the resource (the member id for group_member, the permission id for permission). */
  resource_id: string;
  /** Drive of a drive, drive_item or permission. */
  drive_id: string | null;
  /** Item of a permission or an item label. */
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
  resource_type: ErrorSubject;
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
