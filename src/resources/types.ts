import type { z } from 'zod';

/**
 * How a typed column is stored on each dialect:
 * - text: text / text
 * - integer: integer / integer
 * - bigint: integer / bigint (read back as a JS number)
 * - boolean: integer 0/1 / boolean (read back as a JS boolean)
 * - timestamp: ISO-8601 UTC text with milliseconds / timestamptz (read back as the same ISO text)
 * - json: text / jsonb (read back parsed)
 */
export type ColumnKind = 'text' | 'integer' | 'bigint' | 'boolean' | 'timestamp' | 'json';

export interface ColumnDef {
  kind: ColumnKind;
  /** One line, for the generated tables reference. */
  description: string;
  /** Updated on every read but never a reason for a history record (sign-in times, eTags). */
  volatile?: boolean;
  /** Computed by drivewarden from other rows, not read from Graph (implies volatile: no history). */
  derived?: boolean;
}

/** What a mapping needs besides the Graph object. */
export interface RowContext {
  integrationId: string;
  tenantId: string;
  /** The tenant's verified domains, lower case (for is_external). */
  verifiedDomains: readonly string[];
  /** Extra keys a scoped resource needs (drive_id, item_id, group_id). */
  scope?: Record<string, string>;
}

/** A row as the resource mapping produces it: the key columns and the typed columns, plus raw. */
export type ResourceRow = Record<string, unknown> & { id: string; raw: unknown };

/** A Graph application permission and what drivewarden reads with it (README table, probe output). */
export interface GraphPermissionUse {
  /** The application permission, e.g. 'User.Read.All'. */
  permission: string;
  /** What it is needed for, one line. */
  neededFor: string;
}

/**
 * Where the objects come from in Graph and which of their properties drivewarden asks for.
 * `select` is the single source of the collector's `$select`; a test checks that every
 * property the mapping (toRow, actor) reads is requested here.
 */
export interface GraphSource {
  /** The endpoint, with {parent} placeholders: '/groups/{id}/transitiveMembers'. */
  endpoint: string;
  /**
   * Properties named in `$select`; null when the endpoint is read without `$select` (it
   * returns the full object: drive item delta, permissions, the MFA report).
   */
  select: readonly string[] | null;
  /**
   * Relations read with `$expand=<name>($select=id)` on listings; on a delta feed (no
   * $expand there) they are named in `$select` instead (Graph then sends `<name>@delta`).
   */
  expand?: readonly string[];
  /**
   * Relations named in a delta feed's `$select` only to learn that they changed (groups:
   * `members` → `members@delta`, a signal to re-read transitive members); never mapped.
   */
  deltaSignals?: readonly string[];
  /** Properties requested only when a further permission is granted (retried without on 403). */
  gated?: Readonly<Record<string, GraphPermissionUse>>;
  /** Instance annotations the mapping reads; Graph sends them without being asked ('@odata.type'). */
  annotations?: readonly string[];
  /** The application permissions the collection needs (the first one is the one probed). */
  permissions: readonly GraphPermissionUse[];
}

/**
 * How the collector reads a resource type:
 * - listing: one paged GET of the whole collection, swept at the end (user_mfa);
 * - directory-delta: /users/delta or /groups/delta from a deltaLink, a full listing when due;
 * - per-parent: one listing per parent object (group members per group, via $batch);
 * - per-user: one GET per user (each user's drive, and whether it is provisioned);
 * - drive-delta: one delta feed per drive (/drives/{id}/root/delta);
 * - per-sharing-root: read for each item of a drive delta page that is a sharing root;
 * - singleton: one GET of a tenant-wide object (the SharePoint settings), on the directory schedule;
 * - per-exposed-file: one call per file shared outside the organization (public or external
 *   exposure) whose content changed since it was last read, after each drive's delta round.
 */
export type CollectionStrategy =
  | 'listing'
  | 'directory-delta'
  | 'per-parent'
  | 'per-user'
  | 'drive-delta'
  | 'per-sharing-root'
  | 'singleton'
  | 'per-exposed-file';

/**
 * state: the row is the current state of a Graph object (diffed, history on change, tombstoned
 * when gone); event: an append-only record of something that happened (audit events, none yet).
 */
export type ResourceKind = 'state' | 'event';

/**
 * Every resource type: the name in history (changes.resource_type), sync_errors and the change
 * stream. One member per file of src/resources/ (index.ts checks that each has a definition).
 */
export type ResourceType =
  | 'user'
  | 'user_mfa'
  | 'group'
  | 'group_member'
  | 'drive'
  | 'user_drive'
  | 'drive_item'
  | 'permission'
  | 'tenant_settings'
  | 'sensitivity_label'
  | 'item_label';

/**
 * What a collection error (sync_errors.resource_type) or a sync result's per-type status is
 * about: a resource type, or a part of collection that is none. resource_id null means the
 * whole type failed (a 403 on its feed); otherwise the one object named (whose id depends on
 * where it failed: a user id for a user's drive, a group id for its member list).
 * - signInActivity: the users' sign-in activity (AuditLog.Read.All with Entra ID P1/P2);
 * - drive_sync: one drive's item feed, resource_id the drive id (a drive_item error with
 *   resource_id null is the whole feed type denied, with an item id one unreadable item).
 * - audit: the audit feed (Office 365 Management Activity API, ActivityFeed.Read); resource_id
 *   null for the whole feed, a content id for one unreadable blob.
 */
export type ErrorSubject = ResourceType | 'signInActivity' | 'drive_sync' | 'audit';

export interface ResourceDef<G = unknown> {
  /** Name used in history (changes.resource_type), errors and the change stream: 'drive_item'. */
  type: ResourceType;
  /** State of Graph objects, or events. */
  kind: ResourceKind;
  /** Where the objects come from in Graph, the properties requested and the permissions needed. */
  graph: GraphSource;
  /** How the collector reads it. */
  collection: CollectionStrategy;
  /** The table the rows land in. */
  table: string;
  /** One line, for the generated tables reference. */
  description: string;
  /** The Graph payload, tolerant (.passthrough(), optional fields optional). */
  schema: z.ZodType<G>;
  /** Key columns besides integration_id, the last one being `id`: ['drive_id', 'id']. */
  key: readonly string[];
  /** Typed columns besides the standard ones and the key (these make history). */
  columns: Record<string, ColumnDef>;
  /** Descriptions of the key columns other than id. */
  keyDescriptions?: Record<string, string>;
  toRow(obj: G, ctx: RowContext): ResourceRow;
  /** Who made the change, when Graph says (lastModifiedBy). */
  actor?(obj: G): string | null;
}

/** Standard columns on every resource table. */
export const STANDARD_COLUMNS: Record<string, ColumnDef> = {
  integration_id: {
    kind: 'text',
    description: 'The drivewarden integration (tenant connection) the row belongs to.',
  },
  tenant_id: { kind: 'text', description: 'Microsoft Entra tenant id.' },
  id: { kind: 'text', description: 'Microsoft Graph id of the resource.' },
  first_seen: { kind: 'timestamp', description: 'When drivewarden first saw the resource.' },
  last_seen: { kind: 'timestamp', description: 'When drivewarden last read the resource from Graph.' },
  deleted_at: {
    kind: 'timestamp',
    description: 'When the resource was found deleted (tombstone); null while it exists.',
  },
  raw: { kind: 'json', description: 'The full Graph JSON payload as last read.' },
};

// ---- small helpers shared by the mappings ----

const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{3})?Z$/;

/** Graph timestamps → ISO-8601 with milliseconds (what the store keeps); null for missing/"0001-01-01". */
export function isoOrNull(value: unknown): string | null {
  if (typeof value !== 'string' || value === '') return null;
  if (value.startsWith('0001-01-01')) return null;
  // Graph's usual "2024-05-01T10:20:30Z" / "…30.123Z": when every field is plainly in range
  // (day ≤ 28, so no month-length question), the ISO form is the text itself plus ".000".
  const m = ISO_UTC.exec(value);
  if (
    m !== null &&
    m[1] !== '0000' &&
    m[2] >= '01' &&
    m[2] <= '12' &&
    m[3] >= '01' &&
    m[3] <= '28' &&
    m[4] <= '23' &&
    m[5] <= '59' &&
    m[6] <= '59'
  ) {
    return m[7] === undefined ? `${value.slice(0, 19)}.000Z` : value;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) return null;
  return new Date(t).toISOString();
}

export function strOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

export function lowerOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value.toLowerCase() : null;
}

export function numOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

export function boolOrNull(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

/** The domain of an e-mail address or UPN, lower case. */
export function domainOf(email: string | null | undefined): string | null {
  if (!email) return null;
  const at = email.lastIndexOf('@');
  if (at < 0 || at === email.length - 1) return null;
  return email.slice(at + 1).toLowerCase();
}

/** Guest markers in UPNs / SharePoint login names. */
export function isGuestLogin(value: string | null | undefined): boolean {
  if (!value) return false;
  const v = value.toLowerCase();
  return v.includes('#ext#') || v.includes('urn:spo:guest');
}
