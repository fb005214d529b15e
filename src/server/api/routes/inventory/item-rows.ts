import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decodeValue } from '../../../../store/codec.ts';
import type { Database } from '../../../../store/schema.ts';

/** An item as the lists answer it, and the per-page lookups that complete it. */

export const exposureSchema = z
  .enum(['public', 'external', 'internal', 'private'])
  .nullable()
  .describe(
    "Widest audience of the item's access root: public > external > internal > private (null: not derived yet)",
  );

export const itemRowSchema = z.object({
  integrationId: z.string(),
  id: z.string(),
  driveId: z.string(),
  name: z.string().nullable(),
  path: z.string().nullable().describe('Path from the drive root; null while the parent is not known'),
  isFolder: z.boolean(),
  size: z.number().nullable().describe('Bytes (folders: their contents)'),
  modifiedAt: z.string().nullable(),
  owner: z.string().nullable().describe("The drive owner's e-mail/UPN"),
  ownerName: z.string().nullable(),
  exposure: exposureSchema,
  linkScopes: z
    .array(z.string())
    .describe('Scopes of the sharing links on its access root (anonymous, organization, users, …)'),
  permissionCount: z.number().describe('Permissions on its access root, the owner entry excepted'),
  lastAccessedAt: z
    .string()
    .nullable()
    .describe('Last access recorded by the audit feed; null: none recorded'),
  webUrl: z.string().nullable(),
});
export type ItemRow = z.infer<typeof itemRowSchema>;

/** A row of the page window (drive_items columns and the sort key dw_k). */
export interface ItemWindowRow {
  integration_id: string;
  drive_id: string;
  id: string;
  name: string | null;
  path: string | null;
  is_folder: unknown;
  size: number | string | null;
  modified_at: string | null;
  exposure: string | null;
  extension: string | null;
  access_root_id: string | null;
  web_url: string | null;
  dw_k: unknown;
}

const key = (...parts: string[]) => parts.join('\u0000');

/** Owner, link scopes, permission count and last access of a page of items (three indexed lookups). */
export async function toItemRows(db: Kysely<Database>, rows: ItemWindowRow[]): Promise<ItemRow[]> {
  if (rows.length === 0) return [];
  const integrations = [...new Set(rows.map((r) => r.integration_id))];
  const owners = new Map<string, { email: string | null; name: string | null }>();
  const roots = new Map<string, { scopes: Set<string>; permissions: Set<string> }>();
  const lastAccess = new Map<string, string>();
  for (const integrationId of integrations) {
    const mine = rows.filter((r) => r.integration_id === integrationId);
    const driveIds = [...new Set(mine.map((r) => r.drive_id))];
    const drives = await db
      .selectFrom('drives')
      .select(['id', 'owner_email', 'owner_name'])
      .where('integration_id', '=', integrationId)
      .where('id', 'in', driveIds)
      .execute();
    for (const d of drives)
      owners.set(key(integrationId, d.id), { email: d.owner_email, name: d.owner_name });
    const rootIds = [...new Set(mine.map((r) => r.access_root_id).filter((x): x is string => x !== null))];
    if (rootIds.length > 0) {
      const grants = await db
        .selectFrom('grants')
        .select(['drive_id', 'item_id', 'permission_id', 'link_scope', 'is_owner'])
        .where('integration_id', '=', integrationId)
        .where('drive_id', 'in', driveIds)
        .where('item_id', 'in', rootIds)
        .execute();
      for (const g of grants) {
        const k = key(integrationId, g.drive_id, g.item_id);
        const root = roots.get(k) ?? { scopes: new Set(), permissions: new Set() };
        roots.set(k, root);
        if (decodeValue('boolean', g.is_owner) === true) continue;
        root.permissions.add(g.permission_id);
        if (g.link_scope) root.scopes.add(g.link_scope);
      }
    }
    const usage = await db
      .selectFrom('item_usage')
      .select(['drive_id', 'item_id', 'last_access_at'])
      .where('integration_id', '=', integrationId)
      .where(
        'item_id',
        'in',
        mine.map((r) => r.id),
      )
      .execute();
    for (const u of usage)
      lastAccess.set(key(integrationId, String(u.drive_id), String(u.item_id)), String(u.last_access_at));
  }
  return rows.map((r) => {
    const owner = owners.get(key(r.integration_id, r.drive_id));
    const root = r.access_root_id
      ? roots.get(key(r.integration_id, r.drive_id, r.access_root_id))
      : undefined;
    return {
      integrationId: r.integration_id,
      id: r.id,
      driveId: r.drive_id,
      name: r.name,
      path: r.path,
      isFolder: decodeValue('boolean', r.is_folder) === true,
      size: r.size === null ? null : Number(r.size),
      modifiedAt: r.modified_at,
      owner: owner?.email ?? null,
      ownerName: owner?.name ?? null,
      exposure: r.exposure as ItemRow['exposure'],
      linkScopes: root ? [...root.scopes].sort() : [],
      permissionCount: root?.permissions.size ?? 0,
      lastAccessedAt: lastAccess.get(key(r.integration_id, r.drive_id, r.id)) ?? null,
      webUrl: r.web_url,
    };
  });
}
