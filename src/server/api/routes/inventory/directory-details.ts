import { type Kysely, type SqlBool, sql } from 'kysely';
import { z } from 'zod';
import { whatCanReach } from '../../../../access/reach.ts';
import { decodeValue } from '../../../../store/codec.ts';
import type { Database } from '../../../../store/schema.ts';
import { notFound } from '../../errors.ts';
import { driveRowSchema, groupRowSchema, toDriveRow, toUserRow, userRowSchema } from './directory-lists.ts';
import { changesOf, historyEntry, historyEntrySchema } from './history.ts';
import { permissionRowSchema, toPermissionRow } from './permission-rows.ts';

/** Details of a user, group, drive or permission: the row, what hangs off it, its history. */

/** Items listed in a principal's reach (whatCanReach's limit). */
const REACH_ITEMS = 200;

const reachSchema = z.object({
  roots: z
    .array(
      z.object({
        driveId: z.string(),
        rootId: z.string().nullable().describe('The sharing root; null: a drive the principal owns'),
        via: z.string(),
        groupId: z.string().nullable(),
        roles: z.array(z.string()),
        linkScope: z.string().nullable(),
      }),
    )
    .describe('Sharing roots (and owned drives) the principal reaches directly or through its groups'),
  linkRoots: z
    .object({ organization: z.number(), anyone: z.number() })
    .describe('Sharing roots reachable through organization (members) and Anyone links'),
  items: z.array(
    z.object({
      driveId: z.string(),
      id: z.string(),
      path: z.string().nullable(),
      exposure: z.string().nullable(),
      via: z.string(),
    }),
  ),
  truncated: z.boolean(),
});

async function reachOf(db: Kysely<Database>, integrationId: string, principal: string) {
  const r = await whatCanReach(db, integrationId, principal, { limit: REACH_ITEMS });
  return {
    roots: r.roots.map((x) => ({
      driveId: x.driveId,
      rootId: x.rootId,
      via: x.via,
      groupId: x.groupId,
      roles: x.roles,
      linkScope: x.linkScope,
    })),
    linkRoots: r.linkRoots,
    items: r.items,
    truncated: r.truncated,
  };
}

// ---- user

export const userDetailSchema = z.object({
  user: userRowSchema.extend({
    companyName: z.string().nullable(),
    officeLocation: z.string().nullable(),
    licenseCount: z.number().nullable(),
    mfaRegistered: z.boolean().nullable().describe('null: the MFA report is not collected for this user'),
  }),
  drives: z.array(driveRowSchema),
  groups: z.array(z.object({ id: z.string(), displayName: z.string().nullable() })),
  reach: reachSchema,
  history: z.array(historyEntrySchema),
});

export async function userDetail(db: Kysely<Database>, integrationId: string, id: string) {
  const u = await db
    .selectFrom('users')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!u) throw notFound(`user ${id} in integration ${integrationId}`);
  const mfa = await db
    .selectFrom('user_mfa')
    .select('is_mfa_registered')
    .where('integration_id', '=', integrationId)
    .where('id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  const drives = await db
    .selectFrom('drives')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('owner_id', '=', id)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  const groups = await db
    .selectFrom('group_members as m')
    .leftJoin('groups as g', (j) =>
      j.onRef('g.integration_id', '=', 'm.integration_id').onRef('g.id', '=', 'm.group_id'),
    )
    .select(['m.group_id', 'g.display_name'])
    .where('m.integration_id', '=', integrationId)
    .where('m.id', '=', id)
    .where('m.deleted_at', 'is', null)
    .orderBy('g.display_name')
    .orderBy('m.group_id')
    .execute();
  return {
    user: {
      ...toUserRow(u),
      companyName: u.company_name,
      officeLocation: u.office_location,
      licenseCount: u.license_count === null ? null : Number(u.license_count),
      mfaRegistered: mfa ? decodeValue('boolean', mfa.is_mfa_registered) === true : null,
    },
    drives: drives.map(toDriveRow),
    groups: groups.map((g) => ({ id: g.group_id, displayName: g.display_name ?? null })),
    reach: u.deleted_at === null ? await reachOf(db, integrationId, id) : emptyReach(),
    history: (await changesOf(db, integrationId, 'user', null, [id])).map(historyEntry),
  };
}

const emptyReach = () => ({
  roots: [],
  linkRoots: { organization: 0, anyone: 0 },
  items: [],
  truncated: false,
});

// ---- group

export const groupDetailSchema = z.object({
  group: groupRowSchema,
  members: z.array(
    z.object({
      id: z.string(),
      memberType: z.string().nullable(),
      displayName: z.string().nullable(),
      upn: z.string().nullable(),
    }),
  ),
  membersTruncated: z.boolean(),
  reach: reachSchema,
  history: z.array(historyEntrySchema),
});

const MEMBERS_LIMIT = 1000;

export async function groupDetail(db: Kysely<Database>, integrationId: string, id: string) {
  const g = await db
    .selectFrom('groups')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!g) throw notFound(`group ${id} in integration ${integrationId}`);
  const members = await db
    .selectFrom('group_members')
    .select(['id', 'member_type', 'display_name', 'user_principal_name', 'mail'])
    .where('integration_id', '=', integrationId)
    .where('group_id', '=', id)
    .where('deleted_at', 'is', null)
    .orderBy('display_name')
    .orderBy('id')
    .limit(MEMBERS_LIMIT + 1)
    .execute();
  const truncated = members.length > MEMBERS_LIMIT;
  if (truncated) members.length = MEMBERS_LIMIT;
  const [{ n }] = await db
    .selectFrom('group_members')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('integration_id', '=', integrationId)
    .where('group_id', '=', id)
    .where('deleted_at', 'is', null)
    .execute();
  return {
    group: {
      integrationId: g.integration_id,
      id: g.id,
      displayName: g.display_name,
      mail: g.mail,
      description: g.description,
      isUnified: decodeValue('boolean', g.is_unified) === true,
      securityEnabled: decodeValue('boolean', g.security_enabled) === true,
      visibility: g.visibility,
      createdAt: g.created_at,
      memberCount: Number(n),
    },
    members: members.map((m) => ({
      id: m.id,
      memberType: m.member_type,
      displayName: m.display_name,
      upn: m.user_principal_name ?? m.mail,
    })),
    membersTruncated: truncated,
    reach: g.deleted_at === null ? await reachOf(db, integrationId, id) : emptyReach(),
    history: (await changesOf(db, integrationId, 'group', null, [id])).map(historyEntry),
  };
}

// ---- drive

const exposureCount = z.object({ files: z.number(), bytes: z.number() });

export const driveDetailSchema = z.object({
  drive: driveRowSchema.extend({ quotaRemaining: z.number().nullable(), createdAt: z.string().nullable() }),
  exposure: z
    .object({
      public: exposureCount,
      external: exposureCount,
      internal: exposureCount,
      private: exposureCount,
    })
    .describe("The drive's live files by exposure"),
  history: z.array(historyEntrySchema),
});

export async function driveDetail(db: Kysely<Database>, integrationId: string, id: string) {
  const d = await db
    .selectFrom('drives')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('id', '=', id)
    .executeTakeFirst();
  if (!d) throw notFound(`drive ${id} in integration ${integrationId}`);
  const rows = await db
    .selectFrom('drive_items')
    .select((eb) => [
      'exposure',
      eb.fn.countAll<number | string>().as('n'),
      eb.fn.sum<number | string>('size').as('bytes'),
    ])
    .where('integration_id', '=', integrationId)
    .where('drive_id', '=', id)
    .where('deleted_at', 'is', null)
    .where(sql<SqlBool>`is_folder = false`)
    .groupBy('exposure')
    .execute();
  const exposure = {
    public: { files: 0, bytes: 0 },
    external: { files: 0, bytes: 0 },
    internal: { files: 0, bytes: 0 },
    private: { files: 0, bytes: 0 },
  };
  for (const r of rows)
    if (r.exposure && r.exposure in exposure)
      exposure[r.exposure as keyof typeof exposure] = { files: Number(r.n), bytes: Number(r.bytes ?? 0) };
  return {
    drive: {
      ...toDriveRow(d),
      quotaRemaining: d.quota_remaining === null ? null : Number(d.quota_remaining),
      createdAt: d.created_at,
    },
    exposure,
    history: (await changesOf(db, integrationId, 'drive', id, [id])).map(historyEntry),
  };
}

// ---- permission

export const permissionDetailSchema = z.object({
  permission: permissionRowSchema,
  listedOn: z
    .array(
      z.object({
        driveId: z.string(),
        itemId: z.string(),
        path: z.string().nullable(),
        deletedAt: z.string().nullable(),
      }),
    )
    .describe(
      'Every sharing root listing this permission id (OneDrive lists inherited permissions on each root below)',
    ),
  history: z.array(historyEntrySchema),
});

export async function permissionDetail(db: Kysely<Database>, integrationId: string, id: string) {
  const rows = await db
    .selectFrom('permissions')
    .selectAll()
    .where('integration_id', '=', integrationId)
    .where('id', '=', id)
    .orderBy('deleted_at', 'desc')
    .orderBy('drive_id')
    .orderBy('item_id')
    .execute();
  const main = rows.find((r) => r.deleted_at === null) ?? rows[0];
  if (!main) throw notFound(`permission ${id} in integration ${integrationId}`);
  const items = await db
    .selectFrom('drive_items')
    .select(['drive_id', 'id', 'path'])
    .where('integration_id', '=', integrationId)
    .where('drive_id', 'in', [...new Set(rows.map((r) => r.drive_id))])
    .where('id', 'in', [...new Set(rows.map((r) => r.item_id))])
    .execute();
  const paths = new Map(items.map((i) => [`${i.drive_id}\u0000${i.id}`, i.path]));
  return {
    permission: toPermissionRow(main),
    listedOn: rows.map((r) => ({
      driveId: r.drive_id,
      itemId: r.item_id,
      path: paths.get(`${r.drive_id}\u0000${r.item_id}`) ?? null,
      deletedAt: r.deleted_at,
    })),
    history: (await changesOf(db, integrationId, 'permission', main.drive_id, [id])).map(historyEntry),
  };
}
