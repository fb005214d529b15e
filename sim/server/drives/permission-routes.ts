/** Permissions of an item: list (owner, explicit, inherited), remove and update an explicit one. */
import type { FastifyInstance } from 'fastify';
import { MutationError, unshare } from '../../model/mutate.ts';
import type { SimDrive, SimPermission } from '../../model/tenant.ts';
import type { Runtime } from '../../runtime.ts';
import { badRequest, GraphHttpError, itemNotFound } from '../errors.ts';
import { checkOptions, decodeToken, encodeToken, link, opt, parseTop, type Query } from '../odata.ts';
import type { DriveLookup } from './lookup.ts';
import { itemPermissions, ownerPermission, permissionJson } from './permission-json.ts';

export function registerPermissionRoutes(
  app: FastifyInstance,
  rt: Runtime,
  { driveOf, itemOf }: DriveLookup,
): void {
  const t = rt.tenant;
  const base = () => rt.graphBaseUrl;

  app.get('/v1.0/drives/:driveId/items/:itemId/permissions', async (req) => {
    const p = req.params as { driveId: string; itemId: string };
    const q = req.query as Query;
    checkOptions(q, ['$select', '$top', '$skiptoken', '$filter'], 'drive');
    const size = parseTop(q, 999, 'drive') ?? 100;
    const d = driveOf(p.driveId);
    const i = itemOf(d, p.itemId);
    const all = itemPermissions(t, i);
    const skip = opt(q, '$skiptoken');
    const start = skip ? decodeToken<{ p: number }>(skip, 'drive').p : 0;
    const body: Record<string, unknown> = {
      '@odata.context': `${base()}/$metadata#drives('${d.id}')/items('${p.itemId}')/permissions`,
      value: all.slice(start, start + size),
    };
    if (start + size < all.length)
      body['@odata.nextLink'] = link(base(), `/drives/${d.id}/items/${p.itemId}/permissions`, [
        ['$top', opt(q, '$top')],
        ['$skiptoken', encodeToken({ p: start + size })],
      ]);
    return body;
  });

  const explicitPermission = (d: SimDrive, i: number, permId: string): SimPermission => {
    const own = t.perms.get(i)?.find((x) => x.id === permId);
    if (own) return own;
    if (permId === ownerPermission(t, d).id)
      throw new GraphHttpError(
        403,
        'accessDenied',
        'The owner permission of an item cannot be removed or changed.',
      );
    if (t.effectivePermissions(i).some((e) => e.perm.id === permId))
      throw badRequest(
        'The permission is inherited from a parent folder; change it on the folder it is set on.',
      );
    throw itemNotFound('The permission could not be found.');
  };

  app.delete('/v1.0/drives/:driveId/items/:itemId/permissions/:permId', async (req, reply) => {
    const p = req.params as { driveId: string; itemId: string; permId: string };
    const d = driveOf(p.driveId);
    const i = itemOf(d, p.itemId);
    explicitPermission(d, i, p.permId);
    try {
      unshare(
        { tenant: t, now: () => rt.clock.now(), emit: (e) => rt.emit(e), rng: rt.rng },
        { driveId: d.id, itemId: p.itemId, permissionId: p.permId },
      );
    } catch (e) {
      if (e instanceof MutationError) throw badRequest(e.message);
      throw e;
    }
    return reply.code(204).send();
  });

  // Graph (permission-update, v1.0): "Only the roles property can be modified this way." A link's
  // expiry cannot be PATCHed; the documented way is a new link (createLink with expirationDateTime).
  app.patch('/v1.0/drives/:driveId/items/:itemId/permissions/:permId', async (req) => {
    const p = req.params as { driveId: string; itemId: string; permId: string };
    const d = driveOf(p.driveId);
    const i = itemOf(d, p.itemId);
    const perm = explicitPermission(d, i, p.permId);
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('The request body must be a JSON object.');
    const other = Object.keys(body).filter((k) => k !== 'roles');
    if (other.length > 0)
      throw badRequest(`Only the roles property can be modified; not: ${other.join(', ')}.`);
    if (
      !Array.isArray(body.roles) ||
      body.roles.length !== 1 ||
      !['read', 'write'].includes(body.roles[0] as string)
    )
      throw badRequest("roles must be ['read'] or ['write'].");
    perm.roles = [body.roles[0] as 'read' | 'write'];
    if (perm.kind === 'link') perm.linkType = perm.roles[0] === 'write' ? 'edit' : 'view';
    const s = t.touch(i);
    t.items.pseq[i] = s;
    for (const j of t.isFolder(i) ? t.descendants(i) : []) t.touchPermissionsOnly(j);
    rt.emit({
      kind: 'permission',
      op: 'updated',
      driveId: d.id,
      itemId: p.itemId,
      permissionId: perm.id,
      linkScope: perm.linkScope ?? 'users',
      targetEmail: perm.recipients[0]?.email,
    });
    return { '@odata.context': `${base()}/$metadata#permission`, ...permissionJson(t, d, i, perm) };
  });
}
