import type { ApiDeps } from '../deps.ts';
import { pageSchema } from '../pagination.ts';
import { resourceParams } from '../schemas.ts';
import type { ZodApp } from '../zod-app.ts';
import {
  driveDetail,
  driveDetailSchema,
  groupDetail,
  groupDetailSchema,
  permissionDetail,
  permissionDetailSchema,
  userDetail,
  userDetailSchema,
} from './inventory/directory-details.ts';
import {
  driveListQuerySchema,
  driveRowSchema,
  groupListQuerySchema,
  groupRowSchema,
  listDrives,
  listGroups,
  listPermissions,
  listUsers,
  permissionListQuerySchema,
  permissionListRowSchema,
  userListQuerySchema,
  userRowSchema,
} from './inventory/directory-lists.ts';
import { itemDetail, itemDetailSchema } from './inventory/item-detail.ts';
import { itemListQuerySchema } from './inventory/item-filters.ts';
import { listItems, SCAN_WINDOW } from './inventory/item-list.ts';
import { itemRowSchema } from './inventory/item-rows.ts';

const tags = ['inventory'];
const viewer = { access: 'viewer' as const };

/** The inventory routes of the REST API (mounted under /api/v1): read-only, viewer and up. */
export async function inventoryRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  app.get(
    '/inventory/items',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'Files and folders, filtered, sorted and paged',
        description: `Live items in sort order. Each page examines at most ${SCAN_WINDOW.toLocaleString('en')} items after the cursor (in sort order) and applies the filters to those: a rare match can give a short or even empty page whose nextCursor continues the search. Follow nextCursor until it is null. A driveId or owner filter examines only those drives' items.`,
        querystring: itemListQuerySchema,
        response: { 200: pageSchema(itemRowSchema) },
      },
    },
    async (req) => listItems(deps.db, deps.dialect, req.query, deps.itemListBounds),
  );
  app.get(
    '/inventory/items/:integrationId/:id',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'One item: who can reach it, its permissions, sharing timeline, history and findings',
        params: resourceParams,
        response: { 200: itemDetailSchema },
      },
    },
    async (req) => itemDetail(deps.db, deps.config.rules.folders, req.params.integrationId, req.params.id),
  );
  app.get(
    '/inventory/users',
    {
      config: viewer,
      schema: { tags, querystring: userListQuerySchema, response: { 200: pageSchema(userRowSchema) } },
    },
    async (req) => listUsers(deps.db, req.query),
  );
  app.get(
    '/inventory/users/:integrationId/:id',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'A user: drives, groups, what they can reach, history',
        params: resourceParams,
        response: { 200: userDetailSchema },
      },
    },
    async (req) => userDetail(deps.db, req.params.integrationId, req.params.id),
  );
  app.get(
    '/inventory/groups',
    {
      config: viewer,
      schema: { tags, querystring: groupListQuerySchema, response: { 200: pageSchema(groupRowSchema) } },
    },
    async (req) => listGroups(deps.db, req.query),
  );
  app.get(
    '/inventory/groups/:integrationId/:id',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'A group: members, what it can reach, history',
        params: resourceParams,
        response: { 200: groupDetailSchema },
      },
    },
    async (req) => groupDetail(deps.db, req.params.integrationId, req.params.id),
  );
  app.get(
    '/inventory/drives',
    {
      config: viewer,
      schema: { tags, querystring: driveListQuerySchema, response: { 200: pageSchema(driveRowSchema) } },
    },
    async (req) => listDrives(deps.db, req.query),
  );
  app.get(
    '/inventory/drives/:integrationId/:id',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'A drive: quota, files by exposure, history',
        params: resourceParams,
        response: { 200: driveDetailSchema },
      },
    },
    async (req) => driveDetail(deps.db, req.params.integrationId, req.params.id),
  );
  app.get(
    '/inventory/permissions',
    {
      config: viewer,
      schema: {
        tags,
        querystring: permissionListQuerySchema,
        response: { 200: pageSchema(permissionListRowSchema) },
      },
    },
    async (req) => listPermissions(deps.db, req.query),
  );
  app.get(
    '/inventory/permissions/:integrationId/:id',
    {
      config: viewer,
      schema: {
        tags,
        summary: 'A permission: where it is listed, history',
        params: resourceParams,
        response: { 200: permissionDetailSchema },
      },
    },
    async (req) => permissionDetail(deps.db, req.params.integrationId, req.params.id),
  );
}
