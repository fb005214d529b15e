import type { Kysely } from 'kysely';
import { z } from 'zod';
import { whoCanReach } from '../../../../access/reach.ts';
import { decodeValue } from '../../../../store/codec.ts';
import type { Database } from '../../../../store/schema.ts';
import { notFound } from '../../errors.ts';
import { changesOf, historyEntry, historyEntrySchema } from './history.ts';
import { itemRowSchema, toItemRows } from './item-rows.ts';
import { permissionRowSchema, toPermissionRow } from './permission-rows.ts';
import { ruleTitles } from './rule-titles.ts';

/** `GET /inventory/items/:integrationId/:id`: the item, who can reach it, its sharing and history, its findings. */

export const accessorSchema = z.object({
  kind: z
    .string()
    .describe('user, group, guest, external, anyone, organization, … (group members: their member type)'),
  id: z.string().nullable(),
  name: z.string().nullable(),
  upn: z.string().nullable().describe('E-mail / UPN'),
  via: z.enum(['owner', 'direct', 'group', 'organization_link', 'anyone_link', 'link']),
  roles: z.array(z.string()),
  audience: z.string(),
  viaGroup: z.object({ id: z.string().nullable(), name: z.string().nullable() }).optional(),
  permissionId: z.string().nullable(),
  linkScope: z.string().nullable(),
  expiration: z.string().nullable(),
});

export const findingSummarySchema = z.object({
  id: z.number(),
  ruleId: z.string(),
  severity: z.string(),
  status: z.string(),
  title: z.string().describe("The rule's title"),
  message: z.string(),
  resourceType: z.string(),
});

export const itemDetailSchema = z.object({
  item: itemRowSchema.extend({
    extension: z.string().nullable(),
    mimeType: z.string().nullable(),
    createdAt: z.string().nullable(),
    createdBy: z.string().nullable(),
    modifiedBy: z.string().nullable(),
    sharedScope: z.string().nullable(),
    accessRootId: z
      .string()
      .nullable()
      .describe('The sharing root whose permissions apply; null: the owner only'),
    firstSeen: z.string(),
    lastSeen: z.string(),
    deletedAt: z.string().nullable(),
  }),
  reach: z.object({
    accessRootId: z.string().nullable(),
    accessors: z.array(accessorSchema).describe('Everyone who can open the item, groups expanded'),
  }),
  permissions: z
    .array(permissionRowSchema)
    .describe("The access root's permissions (they apply to this item)"),
  sharingTimeline: z.array(
    z.object({
      at: z.string(),
      action: z.enum(['added', 'modified', 'removed']),
      summary: z.string(),
      actor: z.string().nullable(),
      permissionId: z.string(),
      source: z.string(),
    }),
  ),
  history: z.array(historyEntrySchema),
  findings: z.array(findingSummarySchema),
});
export type ItemDetail = z.infer<typeof itemDetailSchema>;

export async function itemDetail(
  db: Kysely<Database>,
  ruleFolders: readonly string[],
  integrationId: string,
  id: string,
): Promise<ItemDetail> {
  // Item ids are unique per drive; a tombstone is shown too (its history is what people look for).
  const rows = await db
    .selectFrom('drive_items')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('id', '=', id)
    .orderBy('deleted_at', 'desc')
    .execute();
  const row = rows.find((r) => r.deleted_at === null) ?? rows[0];
  if (!row) throw notFound(`item ${id} in integration ${integrationId}`);
  const [listed] = await toItemRows(db, [{ ...row, dw_k: null }]);
  const live = row.deleted_at === null;
  const reach = live ? await whoCanReach(db, integrationId, row.drive_id, row.id) : null;
  const rootId = row.access_root_id;
  const permissions = rootId
    ? await db
        .selectFrom('permissions')
        .selectAll()
        .where('integration_id', '=', integrationId)
        .where('drive_id', '=', row.drive_id)
        .where('item_id', '=', rootId)
        .where('deleted_at', 'is', null)
        .orderBy('id')
        .execute()
    : [];
  // Sharing timeline: every permission ever set on the item itself or its access root.
  const sharedOn = [...new Set([row.id, rootId].filter((x): x is string => !!x))];
  const everPermissions = await db
    .selectFrom('permissions')
    .select(['id', 'item_id'])
    .where('integration_id', '=', integrationId)
    .where('drive_id', '=', row.drive_id)
    .where('item_id', 'in', sharedOn)
    .execute();
  const permissionChanges = await changesOf(
    db,
    integrationId,
    'permission',
    row.drive_id,
    everPermissions.map((p) => p.id),
  );
  const history = await changesOf(db, integrationId, 'drive_item', row.drive_id, [row.id]);
  const findings = await db
    .selectFrom('findings')
    .select(['id', 'rule_id', 'severity', 'status', 'reason', 'resource_type', 'drive_id'])
    .where('integration_id', '=', integrationId)
    .where('resource_id', 'in', [row.id, ...everPermissions.map((p) => p.id)])
    .orderBy('id')
    .execute();
  const titles = await ruleTitles(db, ruleFolders);
  return {
    item: {
      ...listed,
      extension: row.extension,
      mimeType: row.mime_type,
      createdAt: row.created_at,
      createdBy: row.created_by_email ?? row.created_by_name,
      modifiedBy: row.modified_by_email ?? row.modified_by_name,
      sharedScope: row.shared_scope,
      accessRootId: rootId,
      firstSeen: row.first_seen,
      lastSeen: row.last_seen,
      deletedAt: row.deleted_at,
    },
    reach: {
      accessRootId: rootId,
      accessors: (reach?.accessors ?? []).map((a) => ({
        kind: a.kind,
        id: a.id,
        name: a.name,
        upn: a.email,
        via: a.via,
        roles: a.roles,
        audience: a.audience,
        ...(a.via === 'group' ? { viaGroup: { id: a.groupId, name: a.groupName } } : {}),
        permissionId: a.permissionId,
        linkScope: a.linkScope,
        expiration: a.expiration,
      })),
    },
    permissions: permissions.map(toPermissionRow),
    sharingTimeline: permissionChanges.map((c) => {
      const entry = historyEntry(c);
      return {
        at: entry.at,
        action: entry.action,
        summary: sharingSummary(entry.action, entry.after ?? entry.before ?? {}, entry.fields),
        actor: entry.actor,
        permissionId: c.resource_id,
        source: entry.source,
      };
    }),
    history: history.map(historyEntry),
    findings: findings
      .filter((f) => f.resource_type !== 'drive_item' || f.drive_id === null || f.drive_id === row.drive_id)
      .map((f) => ({
        id: Number(f.id),
        ruleId: f.rule_id,
        severity: f.severity,
        status: f.status,
        title: titles.get(f.rule_id) ?? f.reason,
        message: f.reason,
        resourceType: f.resource_type,
      })),
  };
}

/** "anonymous view link added", "shared with ann@x.com (write) removed", "roles changed". */
export function sharingSummary(action: string, values: Record<string, unknown>, fields: string[]): string {
  const roles = decodeValue('json', values.roles);
  const roleText = Array.isArray(roles) && roles.length ? ` (${roles.join(', ')})` : '';
  const what = values.link_scope
    ? `${values.link_scope} ${values.link_type ?? ''} link`.replace(/\s+/g, ' ')
    : values.recipient_email || values.recipient_name
      ? `shared with ${values.recipient_email ?? values.recipient_name}`
      : 'permission';
  if (action === 'modified') return `${what}: ${fields.join(', ')} changed`;
  return `${what}${roleText} ${action}`;
}
