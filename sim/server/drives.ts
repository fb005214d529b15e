/** OneDrive endpoints: drives, items, children, delta (with every documented quirk) and permissions. */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MutationError, unshare } from '../model/mutate.ts';
import { mimeTypeFor } from '../model/names.ts';
import { hash01 } from '../model/prng.ts';
import type { SimDrive, SimPermission, SimRecipient, SimUser, Tenant } from '../model/tenant.ts';
import { itemWebUrl, type Runtime } from '../runtime.ts';
import { findUser } from './directory.ts';
import { badRequest, GraphHttpError, itemNotFound } from './errors.ts';
import {
  checkOptions,
  decodeToken,
  encodeToken,
  link,
  opt,
  parseSelect,
  parseTop,
  type Query,
} from './odata.ts';

const ITEM_PROPS = new Set([
  'id',
  'name',
  'size',
  'file',
  'folder',
  'root',
  'parentReference',
  'deleted',
  'shared',
  'createdDateTime',
  'lastModifiedDateTime',
  'eTag',
  'cTag',
  'webUrl',
  'createdBy',
  'lastModifiedBy',
  'fileSystemInfo',
  'sharepointIds',
  'package',
  'specialFolder',
  'malware',
  'remoteItem',
  'photo',
  'image',
  'video',
  'audio',
  'location',
  'bundle',
  'publication',
  'description',
  'webDavUrl',
  'listItem',
  'permissions',
  'children',
  'thumbnails',
  'versions',
  'content.downloadUrl',
  '@microsoft.graph.downloadUrl',
  'searchResult',
  'analytics',
]);
const DRIVE_PROPS = new Set([
  'id',
  'name',
  'description',
  'driveType',
  'owner',
  'quota',
  'webUrl',
  'createdDateTime',
  'lastModifiedDateTime',
  'createdBy',
  'lastModifiedBy',
  'sharepointIds',
  'system',
  'root',
  'items',
  'special',
]);
const PREFER_ALL3 = ['deltashowremovedasdeleted', 'deltatraversepermissiongaps', 'deltashowsharingchanges'];
const NO_EXPIRY = '0001-01-01T00:00:00Z';
const DELETED_PER_PAGE = 7;

const iso = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function pseudoGuid(...parts: number[]): string {
  const h = createHash('md5').update(parts.join(':')).digest('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

interface Prefs {
  hierarchical: boolean;
  all3: boolean;
  applied: string[];
}

export function parsePrefer(req: FastifyRequest): Prefs {
  const raw = req.headers.prefer;
  const values = (Array.isArray(raw) ? raw.join(',') : (raw ?? ''))
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const hierarchical = values.includes('hierarchicalsharing');
  const all3 = PREFER_ALL3.every((p) => values.includes(p));
  const applied = values.filter((v) => v === 'hierarchicalsharing' || PREFER_ALL3.includes(v));
  return { hierarchical, all3, applied };
}

function identityUser(_t: Tenant, u: SimUser) {
  return {
    '@odata.type': '#microsoft.graph.sharePointIdentity',
    id: u.id,
    displayName: u.displayName,
    email: u.mail ?? u.userPrincipalName,
  };
}

export function siteUserId(t: Tenant, key: string): string {
  return String(10 + Math.floor(hash01(t.seed, ...Buffer.from(key).subarray(0, 24)) * 5000));
}

/** The sharePointIdentitySet Graph puts in grantedToV2 / grantedToIdentitiesV2. */
export function identitySet(t: Tenant, r: SimRecipient): Record<string, unknown> {
  if (r.kind === 'group') {
    const g = t.groups[r.groupIdx];
    return {
      group: {
        '@odata.type': '#microsoft.graph.sharePointIdentity',
        id: g.id,
        displayName: g.displayName,
        email: r.email,
      },
      siteGroup: {
        displayName: g.displayName,
        id: siteUserId(t, g.id),
        loginName: `c:0o.c|federateddirectoryclaimprovider|${g.id}`,
      },
    };
  }
  if (r.userIdx >= 0) {
    const u = t.users[r.userIdx];
    return {
      user: identityUser(t, u),
      siteUser: {
        displayName: u.displayName,
        email: r.email,
        id: siteUserId(t, u.id),
        loginName: t.loginNameOf(u),
      },
    };
  }
  return {
    user: {
      '@odata.type': '#microsoft.graph.sharePointIdentity',
      displayName: r.displayName,
      email: r.email,
    },
    siteUser: {
      displayName: r.displayName,
      email: r.email,
      id: siteUserId(t, r.email),
      loginName: `i:0#.f|membership|urn:spo:guest#${r.email}`,
    },
  };
}

export function ownerPermission(t: Tenant, d: SimDrive) {
  const o = t.users[d.ownerIdx];
  return {
    id: t.ownerPermissionId(d),
    roles: ['owner'],
    shareId: t.ownerPermissionId(d),
    expirationDateTime: NO_EXPIRY,
    grantedToV2: {
      user: identityUser(t, o),
      siteUser: {
        displayName: o.displayName,
        email: o.mail,
        id: siteUserId(t, o.id),
        loginName: t.loginNameOf(o),
      },
    },
  };
}

export function permissionJson(t: Tenant, d: SimDrive, onItem: number, p: SimPermission) {
  const o: Record<string, unknown> = {
    id: p.id,
    roles: [...p.roles],
    shareId: `u!${p.shareToken}`,
    expirationDateTime: p.expiresMs === null ? NO_EXPIRY : iso(p.expiresMs),
  };
  if (p.kind === 'link') {
    const letter = t.items.isFolder(onItem) ? 'f' : 'w';
    o.link = {
      scope: p.linkScope,
      type: p.linkType,
      webUrl: `https://${t.mySiteHost}/:${letter}:/g/personal/${d.siteUrl.split('/personal/')[1]}/${p.shareToken}`,
      preventsDownload: p.preventsDownload,
    };
    o.grantedToIdentitiesV2 = p.recipients.map((r) => identitySet(t, r));
  } else {
    const r = p.recipients[0];
    o.grantedToV2 = identitySet(t, r);
    if (r.kind !== 'internal' && r.kind !== 'group') o.invitation = { email: r.email, signInRequired: true };
  }
  return o;
}

/** Every permission GET …/permissions returns for an item: owner, explicit, then inherited. */
export function itemPermissions(t: Tenant, i: number): Array<Record<string, unknown>> {
  const d = t.drives[t.items.drive[i]];
  const out: Array<Record<string, unknown>> = [ownerPermission(t, d)];
  for (const { on, perm } of t.effectivePermissions(i)) out.push(permissionJson(t, d, on, perm));
  return out;
}

function byUser(t: Tenant, idx: number) {
  const u = t.users[idx] ?? t.users[0];
  return { user: { email: u.mail ?? u.userPrincipalName, id: u.id, displayName: u.displayName } };
}

interface ItemRender {
  delta: boolean;
  withCTag: boolean;
  prefs: Prefs;
  sharedChangedSince: number; // -1: never annotate
  select: string[] | null;
}

export function itemJson(rt: Runtime, i: number, r: ItemRender): Record<string, unknown> {
  const t = rt.tenant;
  const it = t.items;
  const d = t.drives[it.drive[i]];
  const id = t.itemId(i);
  const deleted = it.isDeleted(i);
  const folder = it.isFolder(i);
  const root = it.isRoot(i);
  const guid = pseudoGuid(t.seed, i);
  const parentRef: Record<string, unknown> = { driveType: 'business', driveId: d.id };
  if (!root) {
    parentRef.id = t.itemId(it.parent[i]);
    if (!r.delta) {
      const pp = t.pathOf(it.parent[i]);
      parentRef.name = it.isRoot(it.parent[i]) ? 'Documents' : it.name[it.parent[i]];
      parentRef.path = pp === '/' ? '/drive/root:' : `/drive/root:${pp}`;
    }
  }
  parentRef.siteId = d.siteId;
  const o: Record<string, unknown> = { '@odata.type': '#microsoft.graph.driveItem' };
  const all: Record<string, () => unknown> = {
    createdDateTime: () => iso(it.created[i]),
    eTag: () => `"{${guid}},${it.version[i]}"`,
    id: () => id,
    lastModifiedDateTime: () => iso(it.modified[i]),
    name: () => (deleted ? undefined : it.name[i]),
    webUrl: () => (deleted ? undefined : itemWebUrl(t, i)),
    cTag: () => (r.withCTag && !deleted ? `"c:{${guid}},${it.version[i]}"` : undefined),
    size: () => (deleted ? undefined : it.size[i]),
    createdBy: () => byUser(t, it.createdBy[i]),
    lastModifiedBy: () => byUser(t, it.modifiedBy[i]),
    parentReference: () => parentRef,
    fileSystemInfo: () => ({
      createdDateTime: iso(it.created[i]),
      lastModifiedDateTime: iso(it.modified[i]),
    }),
    folder: () => (folder ? { childCount: deleted ? 0 : it.childCount[i] } : undefined),
    file: () =>
      folder
        ? undefined
        : deleted
          ? {}
          : {
              mimeType: mimeTypeFor(it.name[i]),
              hashes: {
                quickXorHash:
                  createHash('sha1').update(`${guid}${it.version[i]}`).digest('base64').slice(0, 27) + '=',
              },
            },
    root: () => (root ? {} : undefined),
    deleted: () => (deleted ? { state: 'deleted' } : undefined),
    shared: () => {
      const scope = t.servedSharedScope(i, r.prefs.hierarchical);
      if (!scope) return undefined;
      const owner = t.users[d.ownerIdx];
      const facet: Record<string, unknown> = { owner: byUser(t, owner.idx), scope };
      const explicit = t.perms.get(i);
      if (explicit && explicit.length > 0) {
        const last = explicit.reduce((a, b) => (b.sharedMs > a.sharedMs ? b : a));
        facet.sharedBy = byUser(t, last.sharedByIdx).user;
        facet.sharedDateTime = iso(last.sharedMs);
      }
      return facet;
    },
    sharepointIds: () => ({
      listId: d.listId,
      listItemUniqueId: guid.toLowerCase(),
      siteId: d.siteId,
      siteUrl: d.siteUrl,
      tenantId: t.tenantId,
      webId: d.webId,
    }),
  };
  const keys = r.select ?? [
    'createdDateTime',
    'eTag',
    'id',
    'lastModifiedDateTime',
    'name',
    'webUrl',
    'cTag',
    'size',
    'createdBy',
    'lastModifiedBy',
    'parentReference',
    'fileSystemInfo',
    'folder',
    'file',
    'root',
    'deleted',
    'shared',
  ];
  if (!keys.includes('id')) o.id = id;
  for (const k of keys) {
    const f = all[k];
    if (!f) continue;
    if (
      deleted &&
      r.delta &&
      k !== 'id' &&
      k !== 'parentReference' &&
      k !== 'deleted' &&
      k !== 'file' &&
      k !== 'folder' &&
      k !== 'lastModifiedDateTime'
    )
      continue;
    const v = f();
    if (v !== undefined) o[k] = v;
  }
  if (r.sharedChangedSince >= 0 && r.prefs.all3 && !folder && !deleted && it.pseq[i] > r.sharedChangedSince)
    o['@microsoft.graph.sharedChanged'] = 'True';
  return o;
}

export function driveJson(rt: Runtime, d: SimDrive, select: string[] | null) {
  const t = rt.tenant;
  const owner = t.users[d.ownerIdx];
  const remaining = d.quotaTotal - d.quotaUsed;
  const all: Record<string, unknown> = {
    createdDateTime: iso(d.createdMs),
    description: '',
    id: d.id,
    lastModifiedDateTime: iso(d.lastModifiedMs),
    name: 'OneDrive',
    webUrl: d.webUrl,
    driveType: 'business',
    createdBy: { user: { displayName: 'System Account' } },
    lastModifiedBy: { user: { email: owner.mail, id: owner.id, displayName: owner.displayName } },
    owner: { user: { email: owner.mail, id: owner.id, displayName: owner.displayName } },
    quota: {
      deleted: d.quotaDeleted,
      remaining: Math.max(0, remaining),
      state: t.quotaState(d),
      total: d.quotaTotal,
      used: d.quotaUsed,
      storagePlanInformation: { upgradeAvailable: false },
    },
    sharepointIds: {
      listId: d.listId,
      siteId: d.siteId,
      siteUrl: d.siteUrl,
      tenantId: t.tenantId,
      webId: d.webId,
    },
  };
  const o: Record<string, unknown> = { '@odata.context': `${rt.graphBaseUrl}/$metadata#drives/$entity` };
  if (!select) return { ...o, ...all };
  o.id = d.id;
  for (const k of select) if (k in all) o[k] = all[k];
  return o;
}

interface DeltaToken {
  v: 1;
  d: number; // drive index
  s: number; // cursor: last seq consumed
  e: number; // drive epoch
  m: 'f' | 'i'; // full enumeration or incremental
  b: number; // seq the incremental feed started from (sharedChanged baseline)
  r?: number[]; // items to repeat at the start of the next page
}

export function registerDriveRoutes(app: FastifyInstance, rt: Runtime): void {
  const t = rt.tenant;
  const base = () => rt.graphBaseUrl;

  const driveOf = (id: string): SimDrive => {
    const d = t.driveById.get(id);
    if (!d) throw itemNotFound('The resource could not be found.');
    return d;
  };
  const userDrive = (userId: string): SimDrive => {
    const u = findUser(rt, userId);
    if (u.driveIdx < 0) throw new GraphHttpError(404, 'ResourceNotFound', "User's mysite not found.");
    return t.drives[u.driveIdx];
  };
  const itemOf = (d: SimDrive, itemId: string): number => {
    const i = itemId === 'root' ? d.rootIdx : t.parseItemId(d.idx, itemId);
    if (i < 0 || t.items.isDeleted(i)) throw itemNotFound('Item not found');
    return i;
  };

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

  // ---------- delta ----------

  const deltaLinkFor = (d: SimDrive, tok: DeltaToken, q: Query): string => {
    const enc = encodeToken(tok as unknown as Record<string, unknown>);
    const keep: Array<[string, string | undefined]> = [
      ['$select', opt(q, '$select')],
      ['$top', opt(q, '$top')],
      ['$expand', opt(q, '$expand')],
    ];
    // Both shapes real Graph uses; the client must treat them as opaque.
    if (hash01(tok.s, tok.d, tok.m === 'f' ? 1 : 2) < 0.5)
      return link(base(), `/drives/${d.id}/root/delta`, [...keep, ['token', enc]]);
    return link(base(), `/drives/${d.id}/root/microsoft.graph.delta(token='${enc}')`, keep);
  };

  const delta = (d: SimDrive, req: FastifyRequest, reply: FastifyReply) => {
    const q = req.query as Query;
    checkOptions(q, ['$select', '$top', '$expand', '$orderby'], 'drive');
    const select = parseSelect(q, ITEM_PROPS, 'microsoft.graph.driveItem', 'drive');
    const top = parseTop(q, 1000, 'drive');
    const pageSize = Math.min(top ?? 200, 999);
    const prefs = parsePrefer(req);
    if (prefs.applied.length > 0) reply.header('preference-applied', prefs.applied.join(','));
    const rawToken = typeof q.token === 'string' ? q.token : undefined;
    const ctx = `${base()}/$metadata#Collection(driveItem)`;
    if (rawToken === 'latest') {
      return {
        '@odata.context': ctx,
        value: [],
        '@odata.deltaLink': deltaLinkFor(d, { v: 1, d: d.idx, s: d.seq, e: d.epoch, m: 'i', b: d.seq }, q),
      };
    }
    let tok: DeltaToken;
    if (rawToken === undefined || rawToken === '') tok = { v: 1, d: d.idx, s: 0, e: d.epoch, m: 'f', b: 0 };
    else {
      tok = decodeToken<DeltaToken>(rawToken, 'drive', 'delta token');
      if (tok.v !== 1 || typeof tok.s !== 'number' || (tok.m !== 'f' && tok.m !== 'i'))
        throw badRequest('Invalid delta token.');
      if (tok.d !== d.idx) throw badRequest('The delta token was issued for another drive.');
      if (tok.e !== d.epoch) throw resync(d, q);
    }
    const it = t.items;
    const full = tok.m === 'f';
    const value: Array<Record<string, unknown>> = [];
    const render = (i: number) =>
      itemJson(rt, i, { delta: true, withCTag: full, prefs, sharedChangedSince: full ? -1 : tok.b, select });
    for (const i of tok.r ?? []) {
      if (i < 0 || i >= it.length || it.drive[i] !== d.idx) continue;
      if (full && it.isDeleted(i)) continue;
      value.push(render(i));
    }
    const logSeqs = d.logSeqs;
    // first log position with seq > cursor
    let lo = 0;
    let hi = logSeqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (logSeqs[mid] <= tok.s) lo = mid + 1;
      else hi = mid;
    }
    let pos = lo;
    let cursor = tok.s;
    let tombstones = 0;
    const served: number[] = [];
    while (pos < logSeqs.length && value.length < pageSize && tombstones < DELETED_PER_PAGE) {
      const raw = d.logItems[pos];
      const seq = logSeqs[pos];
      pos++;
      cursor = seq;
      const permOnly = raw < 0;
      const i = permOnly ? ~raw : raw;
      const latest = prefs.all3 ? Math.max(it.seq[i], it.pseq[i]) : it.seq[i];
      if (seq !== latest || (permOnly && !prefs.all3)) continue;
      const deleted = it.isDeleted(i);
      if (deleted && full) continue;
      if (deleted) tombstones++;
      value.push(render(i));
      served.push(i);
    }
    const more = pos < logSeqs.length;
    const rate = rt.options.deltaRepeatRate;
    const repeats = rate > 0 ? served.filter((i) => hash01(t.seed, i, it.seq[i], 5) < rate).slice(0, 20) : [];
    const next: DeltaToken = { v: 1, d: d.idx, s: cursor, e: d.epoch, m: tok.m, b: full ? cursor : tok.b };
    const body: Record<string, unknown> = { '@odata.context': ctx, value };
    if (more) {
      if (repeats.length > 0) next.r = repeats;
      body['@odata.nextLink'] = deltaLinkFor(d, next, q);
    } else {
      for (const i of repeats) if (!(full && it.isDeleted(i))) value.push(render(i));
      body['@odata.deltaLink'] = deltaLinkFor(d, { ...next, m: 'i', b: cursor }, q);
    }
    return body;
  };

  const resync = (d: SimDrive, q: Query) => {
    const location = link(base(), `/drives/${d.id}/root/delta`, [
      ['$select', opt(q, '$select')],
      ['$top', opt(q, '$top')],
    ]);
    return new GraphHttpError(
      410,
      'resyncRequired',
      "Resync required. Replace any local items with the server's version (including deletes) if you're sure that the service was up to date with your local changes when you last sync'd. Upload any local changes that the server doesn't know about.",
      { Location: location },
    );
  };
  rt.resyncError = (driveId: string, q: Query) => resync(driveOf(driveId), q);

  app.get('/v1.0/drives/:driveId/root/delta', async (req, reply) =>
    delta(driveOf((req.params as { driveId: string }).driveId), req, reply),
  );
  app.get('/v1.0/users/:userId/drive/root/delta', async (req, reply) =>
    delta(userDrive((req.params as { userId: string }).userId), req, reply),
  );

  // ---------- permissions ----------

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

  app.patch('/v1.0/drives/:driveId/items/:itemId/permissions/:permId', async (req) => {
    const p = req.params as { driveId: string; itemId: string; permId: string };
    const d = driveOf(p.driveId);
    const i = itemOf(d, p.itemId);
    const perm = explicitPermission(d, i, p.permId);
    const body = req.body as { roles?: unknown; expirationDateTime?: unknown } | undefined;
    if (!body || typeof body !== 'object') throw badRequest('The request body must be a JSON object.');
    if (body.roles !== undefined) {
      if (
        !Array.isArray(body.roles) ||
        body.roles.length !== 1 ||
        !['read', 'write'].includes(body.roles[0] as string)
      )
        throw badRequest("roles must be ['read'] or ['write'].");
      perm.roles = [body.roles[0] as 'read' | 'write'];
      if (perm.kind === 'link') perm.linkType = perm.roles[0] === 'write' ? 'edit' : 'view';
    }
    if (body.expirationDateTime !== undefined) {
      if (body.expirationDateTime === null) perm.expiresMs = null;
      else {
        const ms =
          typeof body.expirationDateTime === 'string' ? Date.parse(body.expirationDateTime) : Number.NaN;
        if (Number.isNaN(ms)) throw badRequest('expirationDateTime must be an ISO 8601 date-time.');
        perm.expiresMs = ms;
      }
    }
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
