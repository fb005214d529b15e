/** The admin API under /_sim (bearer adminSecret): ground truth, counters, mutations, listings. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { SimMutation } from '../contracts.ts';
import { MutationError } from '../model/mutate.ts';
import { newCounters, type Runtime } from '../runtime.ts';
import { truthRecords } from '../truth.ts';

export function registerAdminRoutes(app: FastifyInstance, rt: Runtime, adminSecret: string): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/_sim')) return;
    if (req.headers.authorization !== `Bearer ${adminSecret}`)
      return reply.code(401).send({
        error: {
          code: 'unauthorized',
          message: 'The admin API needs Authorization: Bearer <adminSecret>.',
        },
      });
  });

  app.get('/_sim/truth', async (_req, reply) => {
    const gen = truthRecords(rt.tenant);
    const stream = Readable.from(
      (function* () {
        let chunk = '';
        for (const r of gen) {
          chunk += `${JSON.stringify(r)}\n`;
          if (chunk.length > 64_000) {
            yield chunk;
            chunk = '';
          }
        }
        if (chunk) yield chunk;
      })(),
      { objectMode: false },
    );
    return reply.type('application/x-ndjson').send(stream);
  });

  app.get('/_sim/counters', async () => rt.counters);
  app.get('/_sim/delta-log', async () => rt.deltaLog);
  app.post('/_sim/counters/reset', async () => {
    const fresh = newCounters();
    Object.assign(rt.counters, fresh);
    rt.counters.requestsByEndpoint = {};
    rt.counters.faultsServed = {};
    return { ok: true };
  });

  // The request log: what arrived, in order (tests check the order of the collector's calls).
  app.post('/_sim/requests/record', async (req, reply) => {
    const enabled = (req.body as { enabled?: unknown } | undefined)?.enabled;
    if (typeof enabled !== 'boolean')
      return reply
        .code(400)
        .send({ error: { code: 'badRequest', message: 'body must be {"enabled": true|false}' } });
    rt.requestLog = enabled ? [] : null;
    rt.requestLogDropped = 0;
    return { enabled };
  });
  app.get('/_sim/requests', async () => ({
    recording: rt.requestLog !== null,
    dropped: rt.requestLogDropped,
    requests: rt.requestLog ?? [],
  }));

  app.post('/_sim/mutations', async (req, reply) => {
    try {
      const result = rt.mutate(req.body as SimMutation);
      return { ok: true, ...result };
    } catch (e) {
      if (e instanceof MutationError) return reply.code(e.status).send({ ok: false, error: e.message });
      throw e;
    }
  });

  app.get('/_sim/drives', async () => ({
    value: rt.tenant.liveDrives().map((d) => ({
      id: d.id,
      ownerId: rt.tenant.users[d.ownerIdx].id,
      ownerUserPrincipalName: rt.tenant.users[d.ownerIdx].userPrincipalName,
      rootId: rt.tenant.itemId(d.rootIdx),
      itemCount: d.items.filter((i) => !rt.tenant.items.isDeleted(i)).length,
      quotaState: rt.tenant.quotaState(d),
    })),
  }));

  app.get('/_sim/users', async () => ({
    value: rt.tenant.users
      .filter((u) => !u.deleted)
      .map((u) => ({
        id: u.id,
        userPrincipalName: u.userPrincipalName,
        mail: u.mail,
        userType: u.userType,
        accountEnabled: u.accountEnabled,
        driveId: u.driveIdx >= 0 ? rt.tenant.drives[u.driveIdx].id : null,
        managerId: u.managerIdx >= 0 ? rt.tenant.users[u.managerIdx].id : null,
      })),
    groups: rt.tenant.groups.map((g) => ({ id: g.id, displayName: g.displayName, members: g.members })),
  }));

  // The label catalogue and every live label-capable file that carries a label or cannot be read.
  app.get('/_sim/labels', async () => {
    const t = rt.tenant;
    const files: Array<{
      driveId: string;
      itemId: string;
      name: string;
      locked: boolean;
      labelIds: string[];
    }> = [];
    for (const d of t.liveDrives())
      for (const i of d.items) {
        if (t.items.isDeleted(i) || t.items.isFolder(i)) continue;
        const read = t.labels.read(i, t.items.name[i]);
        if (read.kind === 'unsupported' || (read.kind === 'labels' && read.labels.length === 0)) continue;
        files.push({
          driveId: d.id,
          itemId: t.itemId(i),
          name: t.items.name[i],
          locked: read.kind === 'locked',
          labelIds: read.kind === 'labels' ? read.labels.map((a) => a.labelId) : [],
        });
      }
    return { catalogue: t.labels.catalogue, files };
  });

  app.get('/_sim/items', async (req, reply) => {
    const { driveId } = req.query as { driveId?: string };
    const t = rt.tenant;
    const d = driveId ? t.driveById.get(driveId) : undefined;
    if (!d) return reply.code(404).send({ ok: false, error: `unknown driveId '${driveId ?? ''}'` });
    return {
      value: d.items.map((i) => ({
        id: t.itemId(i),
        parentId: t.items.parent[i] >= 0 ? t.itemId(t.items.parent[i]) : null,
        name: t.items.isRoot(i) ? 'root' : t.items.name[i],
        path: t.pathOf(i),
        isFolder: t.items.isFolder(i),
        deleted: t.items.isDeleted(i),
        size: t.items.size[i],
        explicitPermissions: (t.perms.get(i) ?? []).length,
        sharedScope: t.servedSharedScope(i, false),
      })),
    };
  });
}
