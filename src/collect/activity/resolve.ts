import { type Kysely, sql } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { AuditEventRow } from './record.ts';

/**
 * Joins audit events to the inventory: the item whose web URL is the event's ObjectId (as
 * served, or with its path encoded/decoded: Graph's webUrl and the audit ObjectId do not
 * always agree on that), else the item whose id is the record's ListItemUniqueId, else at
 * least the drive whose web URL lies under the event's SiteUrl. Unknown stays null.
 */
const CHUNK = 400;

function variants(url: string): string[] {
  const out = new Set([url]);
  try {
    out.add(encodeURI(decodeURI(url)));
    out.add(decodeURI(url));
  } catch {
    // a malformed escape: only the URL as served
  }
  return [...out];
}

async function itemsBy(
  db: Kysely<Database>,
  integrationId: string,
  column: 'web_url' | 'id',
  values: string[],
): Promise<Map<string, { drive_id: string; id: string }>> {
  const found = new Map<string, { drive_id: string; id: string }>();
  for (let i = 0; i < values.length; i += CHUNK) {
    const rows = await db
      .selectFrom('drive_items')
      .select(['drive_id', 'id', 'web_url'])
      .where('integration_id', '=', integrationId)
      .where(column, 'in', values.slice(i, i + CHUNK))
      .execute();
    for (const r of rows) {
      const key = column === 'id' ? r.id : r.web_url;
      if (key !== null) found.set(key, { drive_id: r.drive_id, id: r.id });
    }
  }
  return found;
}

export async function resolveInventory(
  db: Kysely<Database>,
  integrationId: string,
  rows: AuditEventRow[],
): Promise<void> {
  const urls = new Set<string>();
  for (const r of rows) if (r.object_url) for (const v of variants(r.object_url)) urls.add(v);
  const byUrl = await itemsBy(db, integrationId, 'web_url', [...urls]);
  const pending: AuditEventRow[] = [];
  for (const r of rows) {
    const hit = r.object_url
      ? variants(r.object_url)
          .map((v) => byUrl.get(v))
          .find(Boolean)
      : undefined;
    if (hit) {
      r.drive_id = hit.drive_id;
      r.item_id = hit.id;
    } else pending.push(r);
  }
  const ids = [...new Set(pending.map((r) => r.list_item_id).filter((v): v is string => v !== null))];
  const byId = ids.length > 0 ? await itemsBy(db, integrationId, 'id', ids) : new Map();
  const sites = new Map<string, string | null>();
  for (const r of pending) {
    const hit = r.list_item_id ? byId.get(r.list_item_id) : undefined;
    if (hit) {
      r.drive_id = hit.drive_id;
      r.item_id = hit.id;
    } else if (r.site_url) {
      if (!sites.has(r.site_url)) sites.set(r.site_url, await driveUnder(db, integrationId, r.site_url));
      r.drive_id = sites.get(r.site_url) ?? null;
    }
  }
}

/** The drive whose web URL starts with the site URL (a OneDrive site holds one drive). */
async function driveUnder(
  db: Kysely<Database>,
  integrationId: string,
  siteUrl: string,
): Promise<string | null> {
  const prefix = siteUrl.endsWith('/') ? siteUrl : `${siteUrl}/`;
  const rows = await db
    .selectFrom('drives')
    .select(['id', 'web_url'])
    .where('integration_id', '=', integrationId)
    .where(sql<string>`substr(web_url, 1, ${prefix.length})`, '=', prefix)
    .limit(2)
    .execute();
  return rows.length === 1 ? rows[0].id : null;
}
