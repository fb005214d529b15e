import { z } from 'zod';
import type { Exposure } from './grant.ts';
import { identitySetSchema, principalOf } from './identity.ts';
import { isoOrNull, numOrNull, type ResourceDef, strOrNull } from './types.ts';

export const driveItemSchema = z
  .object({
    id: z.string().min(1),
    name: z.string().nullish(),
    size: z.number().nullish(),
    webUrl: z.string().nullish(),
    eTag: z.string().nullish(),
    cTag: z.string().nullish(),
    createdDateTime: z.string().nullish(),
    lastModifiedDateTime: z.string().nullish(),
    createdBy: identitySetSchema.nullish(),
    lastModifiedBy: identitySetSchema.nullish(),
    parentReference: z
      .object({ id: z.string().nullish(), driveId: z.string().nullish(), path: z.string().nullish() })
      .passthrough()
      .nullish(),
    file: z
      .object({ mimeType: z.string().nullish(), hashes: z.object({}).passthrough().nullish() })
      .passthrough()
      .nullish(),
    folder: z.object({ childCount: z.number().nullish() }).passthrough().nullish(),
    package: z.object({ type: z.string().nullish() }).passthrough().nullish(),
    root: z.object({}).passthrough().nullish(),
    deleted: z.object({ state: z.string().nullish() }).passthrough().nullish(),
    shared: z
      .object({
        scope: z.string().nullish(),
        owner: identitySetSchema.nullish(),
        sharedBy: z.object({}).passthrough().nullish(),
        sharedDateTime: z.string().nullish(),
      })
      .passthrough()
      .nullish(),
    '@microsoft.graph.sharedChanged': z.union([z.string(), z.boolean()]).nullish(),
  })
  .passthrough();

export type GraphDriveItem = z.infer<typeof driveItemSchema>;

/** "report.PDF" → "pdf"; folders and names without a dot → null. */
export function extensionOf(name: string | null, isFolder: boolean): string | null {
  if (!name || isFolder) return null;
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return null;
  return name.slice(dot + 1).toLowerCase();
}

export const driveItem = {
  type: 'drive_item',
  table: 'drive_items',
  description: 'Files and folders of every drive, with path, owner-facing metadata and sharing scope.',
  kind: 'state',
  graph: {
    endpoint: '/drives/{id}/root/delta',
    // Delta returns the full item; '@microsoft.graph.sharedChanged' comes with deltashowsharingchanges.
    select: null,
    annotations: ['@microsoft.graph.sharedChanged'],
    permissions: [{ permission: 'Files.Read.All', neededFor: 'files and folders via delta' }],
  },
  collection: 'drive-delta',
  schema: driveItemSchema,
  key: ['drive_id', 'id'] as const,
  keyDescriptions: { drive_id: 'Graph id of the drive holding the item.' },
  columns: {
    parent_id: { kind: 'text', description: 'Graph id of the parent folder; null for the drive root.' },
    name: { kind: 'text', description: 'File or folder name ("root" for the drive root).' },
    path: {
      kind: 'text',
      description:
        'Path from the drive root ("/" for the root, "/Documents/Plan.docx"); null while the parent is unknown.',
    },
    extension: {
      kind: 'text',
      description: 'File extension, lower case, without the dot; null for folders.',
    },
    size: { kind: 'bigint', description: 'Size in bytes (folders: total of their contents).' },
    mime_type: { kind: 'text', description: 'MIME type of a file.' },
    is_folder: { kind: 'boolean', description: 'True for folders (and the root).' },
    is_root: { kind: 'boolean', description: 'True for the drive root.' },
    child_count: { kind: 'integer', description: 'Number of direct children of a folder.' },
    package_type: { kind: 'text', description: 'Package type (e.g. oneNote) when the item is a package.' },
    created_at: { kind: 'timestamp', description: 'When the item was created.' },
    created_by_id: { kind: 'text', description: 'Graph id of the creator.' },
    created_by_email: { kind: 'text', description: "Creator's e-mail / UPN, lower case." },
    created_by_name: { kind: 'text', description: "Creator's display name." },
    modified_at: { kind: 'timestamp', description: 'When the item was last modified.' },
    modified_by_id: { kind: 'text', description: 'Graph id of the last modifier.' },
    modified_by_email: { kind: 'text', description: "Last modifier's e-mail / UPN, lower case." },
    modified_by_name: { kind: 'text', description: "Last modifier's display name." },
    web_url: { kind: 'text', description: 'URL of the item in the browser.' },
    shared_scope: {
      kind: 'text',
      description:
        'Scope of the shared facet (anonymous, organization, users) on roots of a sharing hierarchy; null otherwise.',
    },
    shared_at: { kind: 'timestamp', description: 'When the item was shared (shared.sharedDateTime).' },
    c_tag: { kind: 'text', description: 'Content tag (changes when the content changes).', volatile: true },
    e_tag: { kind: 'text', description: 'Entity tag (changes on any change).', volatile: true },
    deleted_state: { kind: 'text', description: 'State of the deleted facet when the item was deleted.' },
    // Derived by drivewarden (src/store/access.ts), not read from Graph; kept without history:
    // the permission history of the access root says why it changed.
    access_root_id: {
      kind: 'text',
      description:
        'Graph id of the nearest ancestor-or-self sharing root, whose permissions (as Graph lists them, inherited ones included) decide who can reach the item; null when no sharing root is above it.',
      volatile: true,
      derived: true,
    },
    exposure: {
      kind: 'text',
      description:
        "Who can reach the item, from its access root's grants: public (an Anyone link), external (a guest or outside recipient), internal (an organization link, other users or groups), private (the owner only); null while the item's parent is not yet known.",
      volatile: true,
      derived: true,
    },
  },
  toRow(item, ctx) {
    const driveId = ctx.scope?.drive_id;
    if (!driveId) throw new Error('drive item mapped without a drive_id scope');
    const isRoot = item.root != null;
    const isFolder = item.folder != null || isRoot || item.package != null;
    const name = isRoot ? 'root' : strOrNull(item.name);
    const createdBy = principalOf(item.createdBy);
    const modifiedBy = principalOf(item.lastModifiedBy);
    return {
      integration_id: ctx.integrationId,
      tenant_id: ctx.tenantId,
      drive_id: driveId,
      id: item.id,
      parent_id: isRoot ? null : strOrNull(item.parentReference?.id),
      name,
      path: isRoot ? '/' : null,
      extension: extensionOf(name, isFolder),
      size: numOrNull(item.size),
      mime_type: strOrNull(item.file?.mimeType),
      is_folder: isFolder,
      is_root: isRoot,
      child_count: numOrNull(item.folder?.childCount),
      package_type: strOrNull(item.package?.type),
      created_at: isoOrNull(item.createdDateTime),
      created_by_id: createdBy?.id ?? null,
      created_by_email: createdBy?.email ?? null,
      created_by_name: createdBy?.name ?? null,
      modified_at: isoOrNull(item.lastModifiedDateTime),
      modified_by_id: modifiedBy?.id ?? null,
      modified_by_email: modifiedBy?.email ?? null,
      modified_by_name: modifiedBy?.name ?? null,
      web_url: strOrNull(item.webUrl),
      shared_scope: strOrNull(item.shared?.scope),
      shared_at: isoOrNull(item.shared?.sharedDateTime),
      c_tag: strOrNull(item.cTag),
      e_tag: strOrNull(item.eTag),
      deleted_state: strOrNull(item.deleted?.state),
      // Filled in by the store from the parent and the permissions (see src/store/access.ts).
      access_root_id: null,
      exposure: null,
      raw: item,
    };
  },
  actor(item) {
    const who = principalOf(item.lastModifiedBy);
    return who ? (who.email ?? who.id ?? who.name) : null;
  },
} satisfies ResourceDef<GraphDriveItem>;

/**
 * The exposure a sharing root's `shared` facet proves before its permissions are read. The
 * facet's scope is the widest among the item's permissions (inherited ones included):
 * anonymous means an Anyone link (public); organization and users prove tenant users at
 * least (internal). Whether some recipient is outside (external) only the permissions say.
 */
export function exposureOfSharedScope(scope: string | null | undefined): Exposure {
  return scope === 'anonymous' ? 'public' : 'internal';
}
