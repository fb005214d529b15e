import type { DbJson } from './resource-table.ts';

/**
 * Activity from the Office 365 Management Activity API (migration 0500-activity). Audit
 * events are append-only: one row per audit record Id, never updated, removed by retention.
 */
export interface AuditEventsTable {
  integration_id: string;
  /** The record's Id (the API may serve a record twice; it is stored once). */
  id: string;
  /** CreationTime, ISO UTC. */
  time: string;
  /** FileAccessed, FileDownloaded, FileDeleted, SharingSet, AnonymousLinkCreated, … */
  operation: string;
  /** 6 file operation, 14 sharing operation. */
  record_type: number | null;
  /** OneDrive or SharePoint. */
  workload: string | null;
  /** UserId, lower case. */
  actor_upn: string | null;
  /** UserKey. */
  actor_id: string | null;
  /** UserType by name: regular, admin, system, application, service_principal, … */
  actor_type: string | null;
  client_ip: string | null;
  user_agent: string | null;
  /** ObjectId: the file's URL. */
  object_url: string | null;
  site_url: string | null;
  /** The inventory's drive and item, when the URL (or the item id) matched one at ingest. */
  drive_id: string | null;
  item_id: string | null;
  /** File or Folder. */
  item_type: string | null;
  file_name: string | null;
  /** Lower case, without the dot. */
  extension: string | null;
  /** Sharing operations: the user, group or address shared with (TargetUserOrGroupName). */
  target_name: string | null;
  target_type: string | null;
  /** anonymous, organization or users for link operations. */
  link_scope: string | null;
  /** The content blob the record was first read from. */
  content_id: string | null;
  observed_at: string;
  raw: DbJson;
}

export interface AuditContentTable {
  integration_id: string;
  content_id: string;
  content_type: string;
  content_created: string;
  fetched_at: string;
  /** Records in the blob (duplicates included). */
  events: number;
}

export interface AuditFeedsTable {
  integration_id: string;
  content_type: string;
  subscribed_at: string | null;
  /** End of the last window listed completely. */
  listed_until: string | null;
  updated_at: string;
}

/** The view item_usage: per item, over the stored audit events (reads only). */
export interface ItemUsageView {
  integration_id: string;
  drive_id: string;
  item_id: string;
  last_access_at: string;
  accesses: number;
  accessors: number;
}

export interface ActivityTables {
  item_usage: ItemUsageView;
  audit_events: AuditEventsTable;
  audit_content: AuditContentTable;
  audit_feeds: AuditFeedsTable;
}
