import type { Kysely } from 'kysely';
import type { ChangeBatch } from '../../collect/change-stream.ts';
import type { Database } from '../../store/schema.ts';

type Change = ChangeBatch['changes'][number];

/**
 * The demo's live lines for one committed batch: files by path (removed ones too: a
 * tombstone keeps its path), permissions by the path of their item and what they grant,
 * anything else by its id. Read from the store, which holds the batch already.
 */
export async function changeLines(
  db: Kysely<Database>,
  batch: ChangeBatch,
  opts: { max?: number; suffix?: (change: Change) => string } = {},
): Promise<string[]> {
  const shown = batch.changes.slice(0, opts.max ?? 5);
  const names = await subjects(db, batch, shown);
  return shown.map((c) => {
    const fields = c.changeType === 'modified' && c.fields.length ? ` [${c.fields.join(', ')}]` : '';
    return `  ${batch.source.padEnd(7)} ${batch.resourceType} ${c.changeType} ${names.get(c) ?? c.id}${fields}${opts.suffix?.(c) ?? ''}`;
  });
}

async function subjects(
  db: Kysely<Database>,
  batch: ChangeBatch,
  shown: Change[],
): Promise<Map<Change, string>> {
  const out = new Map<Change, string>();
  const itemOf = (c: Change) => (batch.resourceType === 'drive_item' ? c.id : c.scope.item_id);
  if (batch.resourceType !== 'drive_item' && batch.resourceType !== 'permission') return out;
  const itemIds = [...new Set(shown.map(itemOf).filter((id): id is string => id !== undefined))];
  if (itemIds.length === 0) return out;
  const items = await db
    .selectFrom('drive_items')
    .select(['drive_id', 'id', 'path', 'name'])
    .where('integration_id', '=', batch.integrationId)
    .where('id', 'in', itemIds)
    .execute();
  const pathOf = new Map(items.map((i) => [`${i.drive_id}\u0000${i.id}`, i.path ?? i.name ?? i.id]));
  const grants = new Map<string, string>();
  if (batch.resourceType === 'permission') {
    const perms = await db
      .selectFrom('permissions')
      .select(['drive_id', 'item_id', 'id', 'link_scope', 'recipient_email', 'recipient_name'])
      .where('integration_id', '=', batch.integrationId)
      .where('item_id', 'in', itemIds)
      .where(
        'id',
        'in',
        shown.map((c) => c.id),
      )
      .execute();
    for (const p of perms) {
      const what = p.link_scope ? `${p.link_scope} link` : (p.recipient_email ?? p.recipient_name ?? null);
      if (what) grants.set(`${p.drive_id}\u0000${p.item_id}\u0000${p.id}`, what);
    }
  }
  for (const c of shown) {
    const driveId = c.scope.drive_id;
    const path = pathOf.get(`${driveId}\u0000${itemOf(c)}`);
    if (path === undefined) continue;
    if (batch.resourceType === 'drive_item') out.set(c, path);
    else {
      const what = grants.get(`${driveId}\u0000${c.scope.item_id}\u0000${c.id}`);
      out.set(c, `on ${path}${what ? ` (${what})` : ''}`);
    }
  }
  return out;
}
