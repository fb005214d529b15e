/** GET of drives, items and children. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SimDrive } from '../../model/tenant.ts';
import type { Runtime } from '../../runtime.ts';
import {
  checkOptions,
  decodeToken,
  encodeToken,
  link,
  opt,
  parseSelect,
  parseTop,
  type Query,
} from '../odata.ts';
import type { DriveLookup } from './lookup.ts';
import { DRIVE_PROPS, driveJson, ITEM_PROPS, itemJson, parsePrefer } from './render.ts';

/** Children inlined by $expand=children; more are left to `children@odata.nextLink`. */
const EXPANDED_CHILDREN = 200;

/** `$expand=children` or `children($select=a,b)`: the children's $select (null: all); undefined when not expanded. */
function expandedChildren(q: Query): { select: string | undefined } | undefined {
  const raw = opt(q, '$expand');
  if (raw === undefined) return undefined;
  for (const part of raw.split(/,(?![^(]*\))/)) {
    const m = /^\s*children\s*(?:\((.*)\))?\s*$/i.exec(part);
    if (!m) continue;
    const inner = m[1] ? /\$select=([^;]*)/i.exec(m[1]) : null;
    return { select: inner ? inner[1] : undefined };
  }
  return undefined;
}

export function registerItemRoutes(
  app: FastifyInstance,
  rt: Runtime,
  { driveOf, userDrive, itemOf, itemByPath }: DriveLookup,
): void {
  const t = rt.tenant;
  const base = () => rt.graphBaseUrl;

  const getDrive = (d: SimDrive, req: FastifyRequest) => {
    const q = req.query as Query;
    checkOptions(q, ['$select', '$expand'], 'drive');
    return driveJson(rt, d, parseSelect(q, DRIVE_PROPS, 'microsoft.graph.drive', 'drive'));
  };
  app.get('/v1.0/users/:userId/drive', async (req) =>
    getDrive(userDrive((req.params as { userId: string }).userId), req),
  );
  app.get('/v1.0/drives/:driveId', async (req) =>
    getDrive(driveOf((req.params as { driveId: string }).driveId), req),
  );

  const getItem = (d: SimDrive, i: number, req: FastifyRequest, q = req.query as Query) => {
    checkOptions(q, ['$select', '$expand'], 'drive');
    const select = parseSelect(q, ITEM_PROPS, 'microsoft.graph.driveItem', 'drive');
    const prefs = parsePrefer(req);
    const body: Record<string, unknown> = {
      '@odata.context': `${base()}/$metadata#drives('${d.id}')/items/$entity`,
      ...itemJson(rt, i, { delta: false, withCTag: true, prefs, sharedChangedSince: -1, select }),
    };
    const expand = expandedChildren(q);
    if (expand && (t.items.isFolder(i) || t.items.isRoot(i))) {
      const childSelect = parseSelect(
        { $select: expand.select },
        ITEM_PROPS,
        'microsoft.graph.driveItem',
        'drive',
      );
      const kids = t.liveChildren(i);
      body.children = kids.slice(0, EXPANDED_CHILDREN).map((k) =>
        itemJson(rt, k, {
          delta: false,
          withCTag: true,
          prefs,
          sharedChangedSince: -1,
          select: childSelect,
        }),
      );
      if (kids.length > EXPANDED_CHILDREN)
        body['children@odata.nextLink'] = link(base(), `/drives/${d.id}/items/${t.itemId(i)}/children`, [
          ['$select', expand.select],
          ['$skiptoken', encodeToken({ p: EXPANDED_CHILDREN })],
        ]);
    } else if (expand) body.children = [];
    return body;
  };
  /** The path an internal by-path route carries (see rewriteUrl in app.ts). */
  const pathOf = (req: FastifyRequest) => {
    const raw = (req.query as Query).__path;
    return typeof raw === 'string' ? raw : '';
  };
  const withoutPath = (req: FastifyRequest): Query => {
    const { __path: _, ...rest } = req.query as Query;
    return rest;
  };
  app.get('/v1.0/drives/:driveId/root', async (req) => {
    const d = driveOf((req.params as { driveId: string }).driveId);
    return getItem(d, d.rootIdx, req);
  });
  app.get('/v1.0/users/:userId/drive/root', async (req) => {
    const d = userDrive((req.params as { userId: string }).userId);
    return getItem(d, d.rootIdx, req);
  });
  app.get('/v1.0/drives/:driveId/items/:itemId', async (req) => {
    const p = req.params as { driveId: string; itemId: string };
    const d = driveOf(p.driveId);
    return getItem(d, itemOf(d, p.itemId), req);
  });
  app.get('/v1.0/users/:userId/drive/items/:itemId', async (req) => {
    const p = req.params as { userId: string; itemId: string };
    const d = userDrive(p.userId);
    return getItem(d, itemOf(d, p.itemId), req);
  });
  // By path: /drives/{id}/root:/a/b, /users/{id}/drive/root:/a/b:, /drives/{id}/items/{id}:/rel:
  app.get('/v1.0/drives/:driveId/items/:itemId/_bypath', async (req) => {
    const p = req.params as { driveId: string; itemId: string };
    const d = driveOf(p.driveId);
    return getItem(d, itemByPath(d, itemOf(d, p.itemId), pathOf(req)), req, withoutPath(req));
  });
  app.get('/v1.0/users/:userId/drive/items/:itemId/_bypath', async (req) => {
    const p = req.params as { userId: string; itemId: string };
    const d = userDrive(p.userId);
    return getItem(d, itemByPath(d, itemOf(d, p.itemId), pathOf(req)), req, withoutPath(req));
  });

  const children = (_d: SimDrive, i: number, req: FastifyRequest, path: string, q = req.query as Query) => {
    checkOptions(q, ['$select', '$top', '$skiptoken', '$expand', '$orderby'], 'drive');
    const select = parseSelect(q, ITEM_PROPS, 'microsoft.graph.driveItem', 'drive');
    const size = parseTop(q, 999, 'drive') ?? 200;
    const kids = t.liveChildren(i);
    const skip = opt(q, '$skiptoken');
    const start = skip ? decodeToken<{ p: number }>(skip, 'drive').p : 0;
    const prefs = parsePrefer(req);
    const body: Record<string, unknown> = {
      '@odata.context': `${base()}/$metadata#Collection(driveItem)`,
      value: kids
        .slice(start, start + size)
        .map((k) => itemJson(rt, k, { delta: false, withCTag: true, prefs, sharedChangedSince: -1, select })),
    };
    if (start + size < kids.length)
      body['@odata.nextLink'] = link(base(), path, [
        ['$select', opt(q, '$select')],
        ['$top', opt(q, '$top')],
        ['$skiptoken', encodeToken({ p: start + size })],
      ]);
    return body;
  };
  app.get('/v1.0/drives/:driveId/root/children', async (req) => {
    const d = driveOf((req.params as { driveId: string }).driveId);
    return children(d, d.rootIdx, req, `/drives/${d.id}/root/children`);
  });
  app.get('/v1.0/drives/:driveId/items/:itemId/children', async (req) => {
    const p = req.params as { driveId: string; itemId: string };
    const d = driveOf(p.driveId);
    const i = itemOf(d, p.itemId);
    return children(d, i, req, `/drives/${d.id}/items/${p.itemId}/children`);
  });
  app.get('/v1.0/users/:userId/drive/root/children', async (req) => {
    const d = userDrive((req.params as { userId: string }).userId);
    return children(d, d.rootIdx, req, `/drives/${d.id}/root/children`);
  });
  app.get('/v1.0/users/:userId/drive/items/:itemId/children', async (req) => {
    const p = req.params as { userId: string; itemId: string };
    const d = userDrive(p.userId);
    const i = itemOf(d, p.itemId);
    return children(d, i, req, `/drives/${d.id}/items/${t.itemId(i)}/children`);
  });
  app.get('/v1.0/drives/:driveId/items/:itemId/_bypath/children', async (req) => {
    const p = req.params as { driveId: string; itemId: string };
    const d = driveOf(p.driveId);
    const i = itemByPath(d, itemOf(d, p.itemId), pathOf(req));
    return children(d, i, req, `/drives/${d.id}/items/${t.itemId(i)}/children`, withoutPath(req));
  });
  app.get('/v1.0/users/:userId/drive/items/:itemId/_bypath/children', async (req) => {
    const p = req.params as { userId: string; itemId: string };
    const d = userDrive(p.userId);
    const i = itemByPath(d, itemOf(d, p.itemId), pathOf(req));
    return children(d, i, req, `/drives/${d.id}/items/${t.itemId(i)}/children`, withoutPath(req));
  });
}
