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

export function registerItemRoutes(
  app: FastifyInstance,
  rt: Runtime,
  { driveOf, userDrive, itemOf }: DriveLookup,
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

  const getItem = (d: SimDrive, i: number, req: FastifyRequest) => {
    const q = req.query as Query;
    checkOptions(q, ['$select', '$expand'], 'drive');
    const select = parseSelect(q, ITEM_PROPS, 'microsoft.graph.driveItem', 'drive');
    return {
      '@odata.context': `${base()}/$metadata#drives('${d.id}')/items/$entity`,
      ...itemJson(rt, i, {
        delta: false,
        withCTag: true,
        prefs: parsePrefer(req),
        sharedChangedSince: -1,
        select,
      }),
    };
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

  const children = (_d: SimDrive, i: number, req: FastifyRequest, path: string) => {
    const q = req.query as Query;
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
}
