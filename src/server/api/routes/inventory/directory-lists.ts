import { type Expression, type Kysely, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { decodeValue } from '../../../../store/codec.ts';
import type { Database } from '../../../../store/schema.ts';
import { afterCursor, listQuerySchema, orderByKeys, sortKeys, toPage } from '../../pagination.ts';
import { csv } from '../../schemas.ts';
import { containsPattern } from './item-filters.ts';
import { permissionRowSchema, toPermissionRow } from './permission-rows.ts';

/**
 * The lists of users, groups, drives and permissions: keyset pages over each table's own
 * sort (these tables hold thousands of rows, permissions tens of thousands; the permission
 * sorts are indexed by migration 0720).
 */

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
const integrationId = z.string().min(1).max(200).optional().describe('Only this integration');
const search = z.string().min(1).max(200).optional();
const like = (expr: Expression<unknown>, q: string) =>
  sql<SqlBool>`lower(${expr}) like ${containsPattern(q)} escape '\\'`;

// ---- users

export const userListQuerySchema = listQuerySchema.extend({
  sort: z.string().max(64).optional().describe('name | upn | created, - for descending (default name)'),
  q: search.describe('Substring of the display name, UPN or e-mail (case-insensitive)'),
  guest: bool.optional().describe('true: guests only; false: members only'),
  enabled: bool.optional().describe('Account enabled'),
  integrationId,
});

export const userRowSchema = z.object({
  integrationId: z.string(),
  id: z.string(),
  upn: z.string().nullable(),
  displayName: z.string().nullable(),
  mail: z.string().nullable(),
  userType: z.string().nullable(),
  isGuest: z.boolean(),
  accountEnabled: z.boolean().nullable(),
  department: z.string().nullable(),
  jobTitle: z.string().nullable(),
  createdAt: z.string().nullable(),
  lastSignInAt: z.string().nullable(),
  externalUserState: z.string().nullable(),
});

export async function listUsers(db: Kysely<Database>, q: z.infer<typeof userListQuerySchema>) {
  const { keys } = sortKeys(
    q.sort,
    {
      name: sql`coalesce(display_name, '')`,
      upn: sql`coalesce(user_principal_name, '')`,
      created: sql`coalesce(created_at, first_seen)`,
    },
    'name',
    [sql.ref('integration_id'), sql.ref('id')],
  );
  let query = db
    .selectFrom('users')
    .selectAll()
    .select(keys.map((k, i) => sql`${k.expr}`.as(`dw_k${i}`)))
    .where('deleted_at', 'is', null);
  if (q.integrationId) query = query.where('integration_id', '=', q.integrationId);
  if (q.q) {
    const text = q.q;
    query = query.where((eb) =>
      eb.or([
        like(sql.ref('display_name'), text),
        like(sql.ref('user_principal_name'), text),
        like(sql.ref('mail'), text),
      ]),
    );
  }
  if (q.guest !== undefined) query = query.where(sql<SqlBool>`is_guest = ${sql.lit(q.guest)}`);
  if (q.enabled !== undefined) query = query.where(sql<SqlBool>`account_enabled = ${sql.lit(q.enabled)}`);
  if (q.cursor) query = query.where(afterCursor(keys, q.cursor));
  const rows = await query
    .orderBy(orderByKeys(keys))
    .limit(q.limit + 1)
    .execute();
  const page = toPage(rows, q.limit, (r) => keys.map((_, i) => (r as Record<string, unknown>)[`dw_k${i}`]));
  return { items: page.items.map(toUserRow), nextCursor: page.nextCursor };
}

export function toUserRow(r: UserLike): z.infer<typeof userRowSchema> {
  return {
    integrationId: r.integration_id,
    id: r.id,
    upn: r.user_principal_name,
    displayName: r.display_name,
    mail: r.mail,
    userType: r.user_type,
    isGuest: decodeValue('boolean', r.is_guest) === true,
    accountEnabled: r.account_enabled === null ? null : decodeValue('boolean', r.account_enabled) === true,
    department: r.department,
    jobTitle: r.job_title,
    createdAt: r.created_at,
    lastSignInAt: r.sign_in_last,
    externalUserState: r.external_user_state,
  };
}

type UserLike = Pick<
  Database['users'],
  | 'integration_id'
  | 'id'
  | 'user_principal_name'
  | 'display_name'
  | 'mail'
  | 'user_type'
  | 'is_guest'
  | 'account_enabled'
  | 'department'
  | 'job_title'
  | 'created_at'
  | 'sign_in_last'
  | 'external_user_state'
>;

// ---- groups

export const groupListQuerySchema = listQuerySchema.extend({
  sort: z.string().max(64).optional().describe('name | created, - for descending (default name)'),
  q: search.describe('Substring of the display name or e-mail (case-insensitive)'),
  integrationId,
});

export const groupRowSchema = z.object({
  integrationId: z.string(),
  id: z.string(),
  displayName: z.string().nullable(),
  mail: z.string().nullable(),
  description: z.string().nullable(),
  isUnified: z.boolean(),
  securityEnabled: z.boolean(),
  visibility: z.string().nullable(),
  createdAt: z.string().nullable(),
  memberCount: z.number().describe('Transitive members'),
});

export async function listGroups(db: Kysely<Database>, q: z.infer<typeof groupListQuerySchema>) {
  const { keys } = sortKeys(
    q.sort,
    { name: sql`coalesce(display_name, '')`, created: sql`coalesce(created_at, first_seen)` },
    'name',
    [sql.ref('integration_id'), sql.ref('id')],
  );
  let query = db
    .selectFrom('groups')
    .selectAll()
    .select(keys.map((k, i) => sql`${k.expr}`.as(`dw_k${i}`)))
    .where('deleted_at', 'is', null);
  if (q.integrationId) query = query.where('integration_id', '=', q.integrationId);
  if (q.q) {
    const text = q.q;
    query = query.where((eb) => eb.or([like(sql.ref('display_name'), text), like(sql.ref('mail'), text)]));
  }
  if (q.cursor) query = query.where(afterCursor(keys, q.cursor));
  const rows = await query
    .orderBy(orderByKeys(keys))
    .limit(q.limit + 1)
    .execute();
  const page = toPage(rows, q.limit, (r) => keys.map((_, i) => (r as Record<string, unknown>)[`dw_k${i}`]));
  const counts = new Map<string, number>();
  for (const integration of new Set(page.items.map((g) => g.integration_id))) {
    const ids = page.items.filter((g) => g.integration_id === integration).map((g) => g.id);
    const rows = await db
      .selectFrom('group_members')
      .select(['group_id', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('integration_id', '=', integration)
      .where('group_id', 'in', ids)
      .where('deleted_at', 'is', null)
      .groupBy('group_id')
      .execute();
    for (const r of rows) counts.set(`${integration}\u0000${r.group_id}`, Number(r.n));
  }
  return {
    items: page.items.map((g) => ({
      integrationId: g.integration_id,
      id: g.id,
      displayName: g.display_name,
      mail: g.mail,
      description: g.description,
      isUnified: decodeValue('boolean', g.is_unified) === true,
      securityEnabled: decodeValue('boolean', g.security_enabled) === true,
      visibility: g.visibility,
      createdAt: g.created_at,
      memberCount: counts.get(`${g.integration_id}\u0000${g.id}`) ?? 0,
    })),
    nextCursor: page.nextCursor,
  };
}

// ---- drives

export const driveListQuerySchema = listQuerySchema.extend({
  sort: z
    .string()
    .max(64)
    .optional()
    .describe('name | owner | used | total, - for descending (default owner)'),
  q: search.describe("Substring of the drive's name, owner name or owner e-mail (case-insensitive)"),
  quotaState: csv(['normal', 'nearing', 'critical', 'exceeded'])
    .optional()
    .describe('Comma-separated quota states'),
  integrationId,
});

export const driveRowSchema = z.object({
  integrationId: z.string(),
  id: z.string(),
  name: z.string().nullable(),
  driveType: z.string().nullable(),
  ownerId: z.string().nullable(),
  ownerKind: z.string().nullable(),
  ownerEmail: z.string().nullable(),
  ownerName: z.string().nullable(),
  quotaUsed: z.number().nullable(),
  quotaTotal: z.number().nullable(),
  quotaDeleted: z.number().nullable(),
  quotaState: z.string().nullable(),
  webUrl: z.string().nullable(),
  modifiedAt: z.string().nullable(),
});

type DriveLike = Pick<
  Database['drives'],
  | 'integration_id'
  | 'id'
  | 'name'
  | 'drive_type'
  | 'owner_id'
  | 'owner_kind'
  | 'owner_email'
  | 'owner_name'
  | 'quota_used'
  | 'quota_total'
  | 'quota_deleted'
  | 'quota_state'
  | 'web_url'
  | 'modified_at'
>;

const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));

export function toDriveRow(d: DriveLike): z.infer<typeof driveRowSchema> {
  return {
    integrationId: d.integration_id,
    id: d.id,
    name: d.name,
    driveType: d.drive_type,
    ownerId: d.owner_id,
    ownerKind: d.owner_kind,
    ownerEmail: d.owner_email,
    ownerName: d.owner_name,
    quotaUsed: num(d.quota_used),
    quotaTotal: num(d.quota_total),
    quotaDeleted: num(d.quota_deleted),
    quotaState: d.quota_state,
    webUrl: d.web_url,
    modifiedAt: d.modified_at,
  };
}

export async function listDrives(db: Kysely<Database>, q: z.infer<typeof driveListQuerySchema>) {
  const { keys } = sortKeys(
    q.sort,
    {
      name: sql`coalesce(name, '')`,
      owner: sql`coalesce(owner_email, '')`,
      used: sql`coalesce(quota_used, -1)`,
      total: sql`coalesce(quota_total, -1)`,
    },
    'owner',
    [sql.ref('integration_id'), sql.ref('id')],
  );
  let query = db
    .selectFrom('drives')
    .selectAll()
    .select(keys.map((k, i) => sql`${k.expr}`.as(`dw_k${i}`)))
    .where('deleted_at', 'is', null);
  if (q.integrationId) query = query.where('integration_id', '=', q.integrationId);
  if (q.q) {
    const text = q.q;
    query = query.where((eb) =>
      eb.or([
        like(sql.ref('name'), text),
        like(sql.ref('owner_name'), text),
        like(sql.ref('owner_email'), text),
      ]),
    );
  }
  if (q.quotaState?.length) query = query.where('quota_state', 'in', q.quotaState);
  if (q.cursor) query = query.where(afterCursor(keys, q.cursor));
  const rows = await query
    .orderBy(orderByKeys(keys))
    .limit(q.limit + 1)
    .execute();
  const page = toPage(rows, q.limit, (r) => keys.map((_, i) => (r as Record<string, unknown>)[`dw_k${i}`]));
  return { items: page.items.map(toDriveRow), nextCursor: page.nextCursor };
}

// ---- permissions

export const permissionListQuerySchema = listQuerySchema.extend({
  sort: z
    .string()
    .max(64)
    .optional()
    .describe('item (drive, item, id) | firstSeen, - for descending (default item)'),
  linkScope: csv(['anonymous', 'organization', 'users', 'existingAccess'])
    .optional()
    .describe('Comma-separated link scopes'),
  external: bool.optional().describe('Some recipient is outside the tenant'),
  guest: bool.optional().describe('Some recipient is a guest account'),
  recipient: z.string().min(1).max(320).optional().describe('E-mail of the (first) recipient'),
  integrationId,
  driveId: z.string().min(1).max(400).optional(),
  itemId: z.string().min(1).max(400).optional().describe('The sharing root'),
});

export const permissionListRowSchema = permissionRowSchema.extend({
  itemName: z.string().nullable(),
  itemPath: z.string().nullable(),
});

export async function listPermissions(db: Kysely<Database>, q: z.infer<typeof permissionListQuerySchema>) {
  // item: the primary key's order (integration, drive, item, id); firstSeen: index permissions_api_first_seen.
  const byItem = (q.sort ?? 'item').replace(/^-/, '') === 'item';
  const { keys } = sortKeys(
    q.sort,
    { item: sql.ref('integration_id'), firstSeen: sql.ref('first_seen') },
    'item',
    byItem
      ? [sql.ref('drive_id'), sql.ref('item_id'), sql.ref('id')]
      : [sql.ref('integration_id'), sql.ref('drive_id'), sql.ref('item_id'), sql.ref('id')],
  );
  let query = db
    .selectFrom('permissions')
    .selectAll()
    .select(keys.map((k, i) => sql`${k.expr}`.as(`dw_k${i}`)))
    .where('deleted_at', 'is', null);
  if (q.integrationId) query = query.where('integration_id', '=', q.integrationId);
  if (q.driveId) query = query.where('drive_id', '=', q.driveId);
  if (q.itemId) query = query.where('item_id', '=', q.itemId);
  if (q.linkScope?.length) query = query.where('link_scope', 'in', q.linkScope);
  if (q.external !== undefined) query = query.where(sql<SqlBool>`is_external = ${sql.lit(q.external)}`);
  if (q.guest !== undefined) query = query.where(sql<SqlBool>`is_guest = ${sql.lit(q.guest)}`);
  if (q.recipient) query = query.where('recipient_email', '=', q.recipient.toLowerCase());
  if (q.cursor) query = query.where(afterCursor(keys, q.cursor));
  const rows = await query
    .orderBy(orderByKeys(keys))
    .limit(q.limit + 1)
    .execute();
  const page = toPage(rows, q.limit, (r) => keys.map((_, i) => (r as Record<string, unknown>)[`dw_k${i}`]));
  const names = new Map<string, { name: string | null; path: string | null }>();
  for (const integration of new Set(page.items.map((p) => p.integration_id))) {
    const mine = page.items.filter((p) => p.integration_id === integration);
    const items = await db
      .selectFrom('drive_items')
      .select(['drive_id', 'id', 'name', 'path'])
      .where('integration_id', '=', integration)
      .where('drive_id', 'in', [...new Set(mine.map((p) => p.drive_id))])
      .where('id', 'in', [...new Set(mine.map((p) => p.item_id))])
      .execute();
    for (const i of items) names.set(`${integration}\u0000${i.drive_id}\u0000${i.id}`, i);
  }
  return {
    items: page.items.map((p) => {
      const item = names.get(`${p.integration_id}\u0000${p.drive_id}\u0000${p.item_id}`);
      return { ...toPermissionRow(p), itemName: item?.name ?? null, itemPath: item?.path ?? null };
    }),
    nextCursor: page.nextCursor,
  };
}
