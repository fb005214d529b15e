import type { Kysely } from 'kysely';
import { resourceByType } from '../resources/index.ts';
import { decodeRow } from '../store/codec.ts';
import type { Database } from '../store/schema.ts';

/** Where a resource is and whose it is, for the message: name, path, owner, link. */
export interface ResourceContext {
  name: string | null;
  path: string | null;
  owner: string | null;
  url: string | null;
}

export interface ResourceRef {
  integrationId: string;
  resourceType: string;
  resourceId: string;
  driveId: string | null;
  itemId: string | null;
}

const EMPTY: ResourceContext = { name: null, path: null, owner: null, url: null };

async function driveOwner(db: Kysely<Database>, integrationId: string, driveId: string | null) {
  if (!driveId) return undefined;
  return db
    .selectFrom('drives')
    .select(['owner_email', 'name', 'web_url'])
    .where('integration_id', '=', integrationId)
    .where('id', '=', driveId)
    .executeTakeFirst();
}

async function item(
  db: Kysely<Database>,
  integrationId: string,
  driveId: string | null,
  itemId: string | null,
) {
  if (!driveId || !itemId) return undefined;
  return db
    .selectFrom('drive_items')
    .select(['name', 'path', 'web_url'])
    .where('integration_id', '=', integrationId)
    .where('drive_id', '=', driveId)
    .where('id', '=', itemId)
    .executeTakeFirst();
}

/** Looks the resource up (tombstones included: a removed item keeps its path). */
export async function resourceContext(db: Kysely<Database>, ref: ResourceRef): Promise<ResourceContext> {
  const { integrationId, resourceType, resourceId, driveId } = ref;
  switch (resourceType) {
    case 'drive_item':
    case 'permission': {
      const itemId = resourceType === 'drive_item' ? resourceId : ref.itemId;
      const [it, drive] = await Promise.all([
        item(db, integrationId, driveId, itemId),
        driveOwner(db, integrationId, driveId),
      ]);
      return {
        name: it?.name ?? null,
        path: it?.path ?? null,
        owner: drive?.owner_email ?? null,
        url: it?.web_url ?? null,
      };
    }
    case 'drive': {
      const drive = await driveOwner(db, integrationId, resourceId);
      return {
        name: drive?.name ?? null,
        path: null,
        owner: drive?.owner_email ?? null,
        url: drive?.web_url ?? null,
      };
    }
    case 'user': {
      const user = await db
        .selectFrom('users')
        .select(['display_name', 'user_principal_name'])
        .where('integration_id', '=', integrationId)
        .where('id', '=', resourceId)
        .executeTakeFirst();
      return { ...EMPTY, name: user?.display_name ?? null, owner: user?.user_principal_name ?? null };
    }
    case 'group': {
      const group = await db
        .selectFrom('groups')
        .select(['display_name', 'mail'])
        .where('integration_id', '=', integrationId)
        .where('id', '=', resourceId)
        .executeTakeFirst();
      return { ...EMPTY, name: group?.display_name ?? null };
    }
    default:
      return EMPTY;
  }
}

/** The stored row of a `changes` row's resource, decoded (null when it is not there). */
export async function currentState(
  db: Kysely<Database>,
  change: {
    integration_id: string;
    resource_type: string;
    resource_id: string;
    drive_id: string | null;
    item_id: string | null;
    group_id: string | null;
  },
): Promise<Record<string, unknown> | null> {
  const def = resourceByType(change.resource_type);
  const keyValue: Record<string, string | null> = {
    id: change.resource_id,
    drive_id: change.drive_id,
    item_id: change.item_id,
    group_id: change.group_id,
  };
  // biome-ignore lint/suspicious/noExplicitAny: the table is chosen by the change's resource type
  let q = (db as Kysely<any>)
    .selectFrom(def.table)
    .selectAll()
    .where('integration_id', '=', change.integration_id);
  for (const k of def.key) {
    const v = keyValue[k];
    if (v === null || v === undefined) return null;
    q = q.where(k, '=', v);
  }
  const row = (await q.executeTakeFirst()) as Record<string, unknown> | undefined;
  return row ? decodeRow(def.columns, row) : null;
}
