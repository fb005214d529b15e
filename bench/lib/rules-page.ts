/**
 * A 100-item delta page applied through the store's write path (applyItemsPage, as the
 * collector applies a page of a drive's feed, in one transaction): files renamed and touched,
 * and one folder made a sharing root with an Anyone link (its subtree becomes public). The
 * rows are mapped from the stored Graph payloads by the resource definitions, so the page is
 * what the collector would have written; no Graph is needed, which lets the benchmark run on
 * a kept inventory.
 */
import { driveItem } from '../../src/resources/drive-item.ts';
import { permission, permissionSchema } from '../../src/resources/permission.ts';
import type { ResourceRow, RowContext } from '../../src/resources/types.ts';
import { applyItemsPage } from '../../src/store/items.ts';
import type { Store } from '../../src/store/store.ts';

export interface PageResult {
  driveId: string;
  items: number;
  changes: number;
  sharedFolder: string | null;
}

export async function applyBenchPage(store: Store, integrationId: string, size = 100): Promise<PageResult> {
  const db = store.db;
  const integration = await db
    .selectFrom('integrations')
    .select(['tenant_id', 'verified_domains'])
    .where('id', '=', integrationId)
    .executeTakeFirstOrThrow();
  const verified =
    typeof integration.verified_domains === 'string'
      ? JSON.parse(integration.verified_domains)
      : integration.verified_domains;
  // The drive with the most live files.
  const busiest = await db
    .selectFrom('drive_items')
    .select(['drive_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .groupBy('drive_id')
    .orderBy('n', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow();
  const driveId = busiest.drive_id;
  const rows = await db
    .selectFrom('drive_items')
    .select(['id', 'parent_id', 'raw', 'is_folder', 'is_root', 'access_root_id'])
    .where('integration_id', '=', integrationId)
    .where('drive_id', '=', driveId)
    .where('deleted_at', 'is', null)
    .orderBy('id')
    .execute();
  const truthy = (v: unknown) => v === true || v === 1;
  // The folder with the most children that is no sharing root yet: its subtree turns public.
  const children = new Map<string, number>();
  for (const r of rows) if (r.parent_id) children.set(r.parent_id, (children.get(r.parent_id) ?? 0) + 1);
  const folder = rows
    .filter((r) => truthy(r.is_folder) && !truthy(r.is_root) && r.access_root_id !== r.id)
    .sort((a, b) => (children.get(b.id) ?? 0) - (children.get(a.id) ?? 0))[0];
  const files = rows.filter((r) => !truthy(r.is_folder)).slice(0, folder ? size - 1 : size);
  const ctx: RowContext = {
    integrationId,
    tenantId: integration.tenant_id,
    verifiedDomains: (verified as string[]) ?? [],
    scope: { drive_id: driveId },
  };
  const now = new Date().toISOString();
  const parse = (raw: unknown) =>
    (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
  const entries: Array<{ id: string; row: ResourceRow }> = [];
  for (const f of files) {
    const raw = parse(f.raw);
    const payload = { ...raw, name: `v2-${raw.name}`, lastModifiedDateTime: now };
    entries.push({ id: f.id, row: driveItem.toRow(driveItem.schema.parse(payload), ctx) });
  }
  const sharing = new Map<string, ResourceRow[] | null>();
  if (folder) {
    const raw = parse(folder.raw);
    const payload = {
      ...raw,
      shared: { scope: 'anonymous', sharedDateTime: now },
      lastModifiedDateTime: now,
    };
    entries.push({ id: folder.id, row: driveItem.toRow(driveItem.schema.parse(payload), ctx) });
    const permCtx = { ...ctx, scope: { drive_id: driveId, item_id: folder.id } };
    const existing = await db
      .selectFrom('permissions')
      .select('raw')
      .where('integration_id', '=', integrationId)
      .where('drive_id', '=', driveId)
      .where('item_id', '=', folder.id)
      .where('deleted_at', 'is', null)
      .execute();
    const link = {
      id: `bench-anyone-${Date.now()}`,
      roles: ['read'],
      link: { scope: 'anonymous', type: 'view', webUrl: 'https://contoso-my.sharepoint.test/:f:/g/bench' },
      shareId: 'bench',
    };
    sharing.set(
      folder.id,
      [...existing.map((p) => parse(p.raw)), link].map((p) =>
        permission.toRow(permissionSchema.parse(p), permCtx),
      ),
    );
  }
  const changes = await db.transaction().execute((trx) =>
    applyItemsPage(
      {
        db: trx,
        dialect: store.dialect,
        integrationId,
        tenantId: integration.tenant_id,
        source: 'delta',
        now,
        verifiedDomains: ctx.verifiedDomains,
      },
      { driveId, entries, sharing },
    ),
  );
  return { driveId, items: entries.length, changes: changes.length, sharedFolder: folder?.id ?? null };
}
