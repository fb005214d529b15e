import { randomUUID } from 'node:crypto';
import type { SimChangeEvent, SimRuntime } from '../contracts.ts';
import { type EventOptions, seededRandom } from './options.ts';

/** One record of the Office 365 Management Activity API (SharePoint/OneDrive schema, the fields we fill). */
export interface AuditRecord {
  Id: string;
  RecordType: 6 | 14;
  /** UTC without a zone designator and without fractions, as the real API serves it: `2024-05-01T10:20:30`. */
  CreationTime: string;
  Operation: string;
  OrganizationId: string;
  UserType: 0;
  UserKey: string;
  Workload: 'OneDrive';
  ClientIP: string;
  UserId: string;
  ObjectId: string;
  UserAgent: string;
  EventSource: 'SharePoint';
  ItemType: 'File' | 'Folder';
  ListItemUniqueId?: string;
  SiteUrl: string;
  SourceRelativeUrl: string;
  SourceFileName: string;
  SourceFileExtension?: string;
  DestinationRelativeUrl?: string;
  DestinationFileName?: string;
  DestinationFileExtension?: string;
  TargetUserOrGroupName?: string;
  TargetUserOrGroupType?: string;
  UniqueSharingId?: string;
  EventData?: string;
}

export interface ContentBlob {
  contentType: 'Audit.SharePoint';
  contentId: string;
  /** Sim ms: when the blob became available (listing windows filter on this). */
  contentCreated: number;
  contentExpiration: number;
  events: AuditRecord[];
}

/** Optional hints beyond the contract's `previousName`/`previousParentId`/`previousPath` (set by rename/move). */
interface ChangeHints {
  userAgent?: string;
}

interface KnownItem {
  name: string;
  path: string;
  isFolder: boolean;
  webUrl: string;
}

export const CONTENT_TYPES = [
  'Audit.AzureActiveDirectory',
  'Audit.Exchange',
  'Audit.SharePoint',
  'Audit.General',
  'DLP.All',
] as const;

const RETENTION_MS = 7 * 24 * 3_600_000;
const DEFAULT_UA =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0';
const DEFAULT_IP = '198.51.100.24';

function auditTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

function compactStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:TZ.]/g, '');
}

function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '' : path.slice(0, i);
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function extension(name: string): string | undefined {
  const i = name.lastIndexOf('.');
  return i > 0 ? name.slice(i + 1) : undefined;
}

/** Builds audit records from tenant changes and groups them into content blobs that become available late. */
export class AuditLog {
  /** Blobs by `<window index>:<n>`: a window holds several blobs once one is full. */
  private readonly blobs = new Map<string, ContentBlob>();
  /** The blob of each window that still takes records. */
  private readonly open = new Map<number, ContentBlob>();
  private readonly byId = new Map<string, ContentBlob>();
  private readonly known = new Map<string, KnownItem>();
  private readonly random: () => number;
  private blobSeq = 0;
  recordsCreated = 0;

  constructor(
    private readonly runtime: SimRuntime,
    private readonly options: EventOptions,
  ) {
    this.random = seededRandom((runtime.options.seed ?? 1) * 7919 + 17);
  }

  /** Sorted by (contentCreated, contentId); only blobs already available and not expired. */
  available(startMs: number, endMs: number): ContentBlob[] {
    const now = this.runtime.clock.now();
    return [...this.blobs.values()]
      .filter((b) => b.contentCreated <= now && b.contentCreated >= startMs && b.contentCreated < endMs)
      .sort((a, b) => a.contentCreated - b.contentCreated || a.contentId.localeCompare(b.contentId));
  }

  get(contentId: string): ContentBlob | undefined {
    const blob = this.byId.get(contentId);
    if (!blob || blob.contentCreated > this.runtime.clock.now()) return undefined;
    return blob;
  }

  /** Forgets blobs past their 7-day expiry. */
  prune(): void {
    const now = this.runtime.clock.now();
    for (const [key, blob] of this.blobs) {
      if (blob.contentExpiration <= now) {
        this.blobs.delete(key);
        this.byId.delete(blob.contentId);
        for (const [index, open] of this.open) if (open === blob) this.open.delete(index);
      }
    }
  }

  stats(): { blobs: number; records: number; pendingBlobs: number } {
    const now = this.runtime.clock.now();
    let pending = 0;
    for (const b of this.blobs.values()) if (b.contentCreated > now) pending++;
    return { blobs: this.blobs.size, records: this.recordsCreated, pendingBlobs: pending };
  }

  handleChange(event: SimChangeEvent): void {
    const record = this.toRecord(event);
    if (!record) return;
    this.recordsCreated++;
    const eventMs = Math.max(Date.parse(event.at) || 0, this.runtime.clock.now());
    let availableAt = eventMs + this.options.auditDelaySeconds * 1000;
    if (this.options.auditLateRate > 0 && this.random() < this.options.auditLateRate) {
      availableAt += Math.floor(this.random() * this.options.auditMaxLateSeconds * 1000);
    }
    this.place(record, availableAt);
    if (this.options.auditDuplicateRate > 0 && this.random() < this.options.auditDuplicateRate) {
      this.place({ ...record }, availableAt + this.options.auditBlobSeconds * 1000);
    }
  }

  private place(record: AuditRecord, availableAt: number): void {
    const blobMs = Math.max(1, this.options.auditBlobSeconds * 1000);
    const index = Math.floor(availableAt / blobMs);
    let blob = this.open.get(index);
    if (!blob || blob.events.length >= this.options.auditMaxBlobRecords) {
      const created = (index + 1) * blobMs;
      const seq = String(++this.blobSeq).padStart(6, '0');
      const key = `${compactStamp(created)}${seq}`;
      blob = {
        contentType: 'Audit.SharePoint',
        contentId: `${key}$${key}$audit_sharepoint$Audit_SharePoint$sim01`,
        contentCreated: created,
        contentExpiration: created + RETENTION_MS,
        events: [],
      };
      this.blobs.set(`${index}:${seq}`, blob);
      this.open.set(index, blob);
      this.byId.set(blob.contentId, blob);
    }
    blob.events.push(record);
  }

  private actor(event: SimChangeEvent, ownerId: string | undefined): { upn: string; key: string } {
    if (event.actorUpn) return { upn: event.actorUpn, key: event.actorId ?? event.actorUpn };
    const id = event.actorId ?? ownerId;
    const user = id ? this.runtime.lookupUser(id) : undefined;
    if (user) return { upn: user.userPrincipalName, key: user.id };
    return { upn: 'app@sharepoint', key: 'app@sharepoint' };
  }

  private toRecord(event: SimChangeEvent): AuditRecord | undefined {
    if (!event.driveId || !event.itemId) return undefined;
    if (event.kind !== 'item' && event.kind !== 'permission' && event.kind !== 'access') return undefined;
    const drive = this.runtime.lookupDrive(event.driveId);
    const cacheKey = `${event.driveId}/${event.itemId}`;
    const before = this.known.get(cacheKey);
    const looked = this.runtime.lookupItem(event.driveId, event.itemId);
    const item: KnownItem | undefined = looked
      ? { name: looked.name, path: looked.path, isFolder: looked.isFolder, webUrl: looked.webUrl }
      : before;
    if (!item) return undefined;
    const hints = event as SimChangeEvent & ChangeHints;

    let operation: string | undefined;
    let recordType: 6 | 14 = 6;
    let previous: { name: string; path: string } | undefined;
    const folder = item.isFolder;
    switch (`${event.kind}:${event.op}`) {
      case 'item:created':
        operation = folder ? 'FolderCreated' : 'FileUploaded';
        break;
      case 'item:deleted':
        operation = folder ? 'FolderDeleted' : 'FileDeleted';
        break;
      case 'item:updated': {
        const prevPath =
          hints.previousPath ??
          (hints.previousName !== undefined
            ? `${parentPath(before?.path ?? item.path)}/${hints.previousName}`
            : undefined) ??
          before?.path;
        const prevName = hints.previousName ?? (prevPath !== undefined ? baseName(prevPath) : undefined);
        if (prevPath !== undefined && prevName !== undefined && prevName !== item.name) {
          operation = folder ? 'FolderRenamed' : 'FileRenamed';
          previous = { name: prevName, path: prevPath };
        } else if (
          (prevPath !== undefined && parentPath(prevPath) !== parentPath(item.path)) ||
          (hints.previousParentId !== undefined && prevPath === undefined)
        ) {
          operation = folder ? 'FolderMoved' : 'FileMoved';
          previous = { name: item.name, path: prevPath ?? item.path };
        } else if (!folder) {
          operation = 'FileModified';
        }
        if (folder && previous) this.rebase(event.driveId, previous.path, item.path);
        break;
      }
      case 'permission:shared':
        recordType = 14;
        operation = this.shareOperation(event, drive?.ownerId);
        break;
      case 'permission:unshared':
        recordType = 14;
        operation = 'SharingRevoked';
        break;
      case 'access:downloaded':
        operation = 'FileDownloaded';
        break;
      case 'access:accessed':
        operation = 'FileAccessed';
        break;
    }
    if (event.op === 'deleted') this.known.delete(cacheKey);
    else this.known.set(cacheKey, item);
    if (!operation) return undefined;

    const { siteUrl, library } = this.site(drive?.webUrl, item.webUrl);
    const relative = (path: string) => `${library}${parentPath(path)}`;
    const source = previous ?? { name: item.name, path: item.path };
    const actor = this.actor(event, drive?.ownerId);
    const record: AuditRecord = {
      Id: randomUUID(),
      RecordType: recordType,
      CreationTime: auditTime(Date.parse(event.at) || this.runtime.clock.now()),
      Operation: operation,
      OrganizationId: this.runtime.tenantId,
      UserType: 0,
      UserKey: actor.key,
      Workload: 'OneDrive',
      ClientIP: event.clientIp ?? DEFAULT_IP,
      UserId: actor.upn,
      ObjectId: previous ? `${siteUrl}${relative(previous.path)}/${previous.name}` : item.webUrl,
      UserAgent: hints.userAgent ?? DEFAULT_UA,
      EventSource: 'SharePoint',
      ItemType: folder ? 'Folder' : 'File',
      ListItemUniqueId: event.itemId,
      SiteUrl: siteUrl,
      SourceRelativeUrl: relative(source.path),
      SourceFileName: source.name,
    };
    const ext = folder ? undefined : extension(source.name);
    if (ext) record.SourceFileExtension = ext;
    if (previous) {
      record.DestinationRelativeUrl = relative(item.path);
      record.DestinationFileName = item.name;
      const destExt = folder ? undefined : extension(item.name);
      if (destExt) record.DestinationFileExtension = destExt;
    }
    if (recordType === 14) this.addSharingFields(record, event, drive?.ownerId);
    return record;
  }

  /** After a folder rename/move, children the cache knows keep correct "before" paths. */
  private rebase(driveId: string, fromPath: string, toPath: string): void {
    const prefix = `${driveId}/`;
    for (const [key, value] of this.known) {
      if (key.startsWith(prefix) && value.path.startsWith(`${fromPath}/`)) {
        value.path = toPath + value.path.slice(fromPath.length);
      }
    }
  }

  private tenantDomain(ownerId: string | undefined): string | undefined {
    const upn = ownerId ? this.runtime.lookupUser(ownerId)?.userPrincipalName : undefined;
    return upn?.split('@')[1]?.toLowerCase();
  }

  private isExternal(email: string, ownerId: string | undefined): boolean {
    const lower = email.toLowerCase();
    if (lower.includes('#ext#') || lower.includes('urn:spo:guest')) return true;
    const domain = this.tenantDomain(ownerId);
    return domain !== undefined && lower.split('@')[1] !== domain;
  }

  /**
   * Link scopes map to their link operations; anything else (a direct grant or invitation, which the
   * core reports with linkScope 'users' and the recipient's email) is an invitation when the recipient
   * is outside the tenant, else SharingSet.
   */
  private shareOperation(event: SimChangeEvent, ownerId: string | undefined): string {
    if (event.linkScope === 'anonymous') return 'AnonymousLinkCreated';
    if (event.linkScope === 'organization') return 'CompanyLinkCreated';
    if (event.targetEmail && this.isExternal(event.targetEmail, ownerId)) return 'SharingInvitationCreated';
    return 'SharingSet';
  }

  private addSharingFields(record: AuditRecord, event: SimChangeEvent, ownerId: string | undefined): void {
    record.UniqueSharingId = event.permissionId ?? randomUUID();
    if (event.targetEmail) {
      record.TargetUserOrGroupName = event.targetEmail;
      record.TargetUserOrGroupType = this.isExternal(event.targetEmail, ownerId) ? 'Guest' : 'Member';
    } else if (event.linkScope) {
      const kind =
        event.linkScope === 'anonymous'
          ? 'AnonymousView'
          : event.linkScope === 'organization'
            ? 'OrganizationView'
            : 'Flexible';
      record.TargetUserOrGroupName = `SharingLinks.${event.itemId}.${kind}.${record.UniqueSharingId}`;
      record.TargetUserOrGroupType = 'SharePointGroup';
    }
    if (event.linkScope) record.EventData = `<LinkScope>${event.linkScope}</LinkScope>`;
  }

  /** `https://host/personal/alice_contoso_test/` and the library name (`Documents`) from the drive's webUrl. */
  private site(driveWebUrl: string | undefined, itemWebUrl: string): { siteUrl: string; library: string } {
    const source = driveWebUrl ?? itemWebUrl;
    try {
      const url = new URL(source);
      const segments = url.pathname.split('/').filter(Boolean);
      const personal = segments.indexOf('personal');
      if (personal >= 0 && segments.length >= personal + 2) {
        const library = driveWebUrl
          ? decodeURIComponent(segments[segments.length - 1] ?? 'Documents')
          : 'Documents';
        return {
          siteUrl: `${url.origin}/${segments.slice(0, personal + 2).join('/')}/`,
          library: personal + 2 < segments.length ? library : 'Documents',
        };
      }
      const library = segments.length > 0 ? decodeURIComponent(segments[segments.length - 1]) : 'Documents';
      return {
        siteUrl: `${url.origin}/${segments.slice(0, -1).join('/')}${segments.length > 1 ? '/' : ''}`,
        library,
      };
    } catch {
      return { siteUrl: source, library: 'Documents' };
    }
  }
}
