/** The admin API under /_sim (bearer adminSecret): ground truth, counters, mutations, listings. */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { SimMutation, TruthRecord } from '../contracts.ts';
import { MutationError } from '../model/mutate.ts';
import { newCounters, type Runtime } from '../runtime.ts';
import { itemPermissions } from './drives.ts';

/** Every truth record, lazily, in a stable order. */
export function* truthRecords(rt: Runtime): Generator<TruthRecord> {
  const t = rt.tenant;
  for (const u of t.users) {
    if (u.deleted) continue;
    const m = u.managerIdx >= 0 ? t.users[u.managerIdx] : null;
    yield {
      kind: 'user',
      id: u.id,
      userPrincipalName: u.userPrincipalName,
      displayName: u.displayName,
      mail: u.mail,
      accountEnabled: u.accountEnabled,
      userType: u.userType,
      externalUserState: u.externalUserState,
      managerId: m && !m.deleted ? m.id : null,
      lastSignInDateTime: u.signIn?.lastSignInDateTime ?? null,
      isMfaRegistered: u.accountEnabled ? u.mfa.isMfaRegistered : null,
    };
  }
  for (const g of t.groups) yield { kind: 'group', id: g.id, displayName: g.displayName, mail: g.mail };
  for (const g of t.groups)
    for (const m of t.transitiveMembers(g.idx)) yield { kind: 'member', groupId: g.id, memberId: m.id };
  for (const u of t.users) if (!u.deleted && u.driveIdx < 0) yield { kind: 'noDrive', userId: u.id };
  for (const d of t.liveDrives()) {
    yield {
      kind: 'drive',
      id: d.id,
      ownerId: t.users[d.ownerIdx].id,
      driveType: 'business',
      quotaTotal: d.quotaTotal,
      quotaUsed: d.quotaUsed,
      quotaRemaining: Math.max(0, d.quotaTotal - d.quotaUsed),
      quotaDeleted: d.quotaDeleted,
      quotaState: t.quotaState(d),
    };
    const it = t.items;
    for (const i of d.items) {
      if (it.isDeleted(i)) continue;
      const root = it.isRoot(i);
      const sharedScope = t.servedSharedScope(i, true);
      yield {
        kind: 'item',
        driveId: d.id,
        id: t.itemId(i),
        parentId: root ? null : t.itemId(it.parent[i]),
        name: root ? 'root' : it.name[i],
        path: t.pathOf(i),
        isFolder: it.isFolder(i),
        size: it.size[i],
        lastModifiedDateTime: new Date(Math.floor(it.modified[i] / 1000) * 1000)
          .toISOString()
          .replace('.000Z', 'Z'),
        sharedScope,
      };
    }
    for (const i of d.items) {
      if (it.isDeleted(i) || !t.hasExplicit(i)) continue;
      const itemId = t.itemId(i);
      for (const p of itemPermissions(t, i)) {
        const link = p.link as
          | { type: 'view' | 'edit' | 'embed'; scope: 'anonymous' | 'organization' | 'users' }
          | undefined;
        const sets = [p.grantedToV2, ...((p.grantedToIdentitiesV2 as unknown[]) ?? [])].filter(
          Boolean,
        ) as Array<Record<string, { email?: string | null; loginName?: string }>>;
        const recipients: string[] = [];
        // user/group → email; siteUser/siteGroup → loginName (so #ext# and urn:spo:guest stay visible)
        for (const s of sets)
          for (const r of [s.user?.email, s.group?.email, s.siteUser?.loginName, s.siteGroup?.loginName])
            if (r && !recipients.includes(r.toLowerCase())) recipients.push(r.toLowerCase());
        const exp = p.expirationDateTime as string;
        yield {
          kind: 'permission',
          driveId: d.id,
          itemId,
          id: p.id as string,
          roles: p.roles as string[],
          linkType: link?.type ?? null,
          linkScope: link?.scope ?? null,
          expirationDateTime: exp === '0001-01-01T00:00:00Z' ? null : exp,
          recipients,
        };
      }
    }
  }
}

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
    const gen = truthRecords(rt);
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
  app.post('/_sim/counters/reset', async () => {
    const fresh = newCounters();
    Object.assign(rt.counters, fresh);
    rt.counters.requestsByEndpoint = {};
    rt.counters.faultsServed = {};
    return { ok: true };
  });

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
