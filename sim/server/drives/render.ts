/** The JSON Graph serves for a drive and for a drive item (GET, children and delta shapes). */
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { mimeTypeFor } from '../../model/names.ts';
import type { SimDrive, Tenant } from '../../model/tenant.ts';
import { iso } from '../../model/time.ts';
import { itemWebUrl, type Runtime } from '../../runtime.ts';

/** What $select accepts on a driveItem. */
export const ITEM_PROPS = new Set([
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
/** What $select accepts on a drive. */
export const DRIVE_PROPS = new Set([
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

function pseudoGuid(...parts: number[]): string {
  const h = createHash('md5').update(parts.join(':')).digest('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export interface Prefs {
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

function byUser(t: Tenant, idx: number) {
  const u = t.users[idx] ?? t.users[0];
  return { user: { email: u.mail ?? u.userPrincipalName, id: u.id, displayName: u.displayName } };
}

export interface ItemRender {
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
