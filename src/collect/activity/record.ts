import { z } from 'zod';

/**
 * One Audit.SharePoint record as the Management Activity API serves it, tolerant: only `Id`,
 * `CreationTime` and `Operation` are required, everything else may be missing or null.
 */
const text = z.string().nullish();
export const auditRecordSchema = z
  .object({
    Id: z.string().min(1),
    CreationTime: z.string().min(1),
    Operation: z.string().min(1),
    RecordType: z.number().nullish(),
    Workload: text,
    UserId: text,
    UserKey: text,
    UserType: z.number().nullish(),
    ClientIP: text,
    UserAgent: text,
    ObjectId: text,
    SiteUrl: text,
    ItemType: text,
    ListItemUniqueId: text,
    SourceFileName: text,
    SourceFileExtension: text,
    TargetUserOrGroupName: text,
    TargetUserOrGroupType: text,
    EventData: text,
  })
  .passthrough();

export type AuditRecord = z.infer<typeof auditRecordSchema>;

/** The typed columns of audit_events a record maps to (drive and item are resolved later). */
export interface AuditEventRow {
  id: string;
  time: string;
  operation: string;
  record_type: number | null;
  workload: string | null;
  actor_upn: string | null;
  actor_id: string | null;
  actor_type: string | null;
  client_ip: string | null;
  user_agent: string | null;
  object_url: string | null;
  site_url: string | null;
  drive_id: string | null;
  item_id: string | null;
  item_type: string | null;
  file_name: string | null;
  extension: string | null;
  target_name: string | null;
  target_type: string | null;
  link_scope: string | null;
  /** ListItemUniqueId: a hint for resolving the item when its URL is not in the inventory. */
  list_item_id: string | null;
  raw: AuditRecord;
}

/** The API's UserType enumeration (Office 365 Management Activity API schema). */
const USER_TYPES = [
  'regular',
  'reserved',
  'admin',
  'dc_admin',
  'system',
  'application',
  'service_principal',
  'custom_policy',
  'system_policy',
] as const;

/** Link operations that name their scope. */
const LINK_SCOPE_BY_OPERATION: Record<string, string> = {
  AnonymousLinkCreated: 'anonymous',
  AnonymousLinkUpdated: 'anonymous',
  AnonymousLinkUsed: 'anonymous',
  AnonymousLinkRemoved: 'anonymous',
  CompanyLinkCreated: 'organization',
  CompanyLinkUsed: 'organization',
  CompanyLinkRemoved: 'organization',
  SecureLinkCreated: 'users',
  SecureLinkUsed: 'users',
  AddedToSecureLink: 'users',
};

/** CreationTime is UTC without a zone designator ("2024-05-01T10:20:30"): read it as UTC. */
export function auditTime(raw: string): string {
  const zoned = /[zZ]|[+-]\d\d:?\d\d$/.test(raw) ? raw : `${raw}Z`;
  const ms = Date.parse(zoned);
  if (Number.isNaN(ms)) throw new Error(`CreationTime "${raw}" is not a time`);
  return new Date(ms).toISOString();
}

function clean(value: string | null | undefined): string | null {
  const v = value?.trim();
  return v ? v : null;
}

function linkScope(record: AuditRecord): string | null {
  const fromData = record.EventData ? /<LinkScope>([^<]+)<\/LinkScope>/i.exec(record.EventData)?.[1] : null;
  return clean(fromData)?.toLowerCase() ?? LINK_SCOPE_BY_OPERATION[record.Operation] ?? null;
}

function extensionOf(record: AuditRecord): string | null {
  const ext = clean(record.SourceFileExtension);
  if (ext) return ext.replace(/^\./, '').toLowerCase();
  const name = clean(record.SourceFileName);
  const dot = name ? name.lastIndexOf('.') : -1;
  return name && dot > 0 ? name.slice(dot + 1).toLowerCase() : null;
}

/** Maps a parsed record to its row; throws naming the field when CreationTime is unreadable. */
export function toAuditEventRow(record: AuditRecord): AuditEventRow {
  const userType = record.UserType;
  return {
    id: record.Id,
    time: auditTime(record.CreationTime),
    operation: record.Operation,
    record_type: record.RecordType ?? null,
    workload: clean(record.Workload),
    actor_upn: clean(record.UserId)?.toLowerCase() ?? null,
    actor_id: clean(record.UserKey),
    actor_type:
      userType === null || userType === undefined ? null : (USER_TYPES[userType] ?? String(userType)),
    client_ip: clean(record.ClientIP),
    user_agent: clean(record.UserAgent),
    object_url: clean(record.ObjectId),
    site_url: clean(record.SiteUrl),
    drive_id: null,
    item_id: null,
    item_type: clean(record.ItemType),
    file_name: clean(record.SourceFileName),
    extension: extensionOf(record),
    target_name: clean(record.TargetUserOrGroupName),
    target_type: clean(record.TargetUserOrGroupType),
    link_scope: linkScope(record),
    list_item_id: clean(record.ListItemUniqueId),
    raw: record,
  };
}
