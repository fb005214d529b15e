/**
 * History integrity after kills: per resource key the change types must alternate (never
 * "added" twice without a "removed" between, never "removed" twice), and every resource the
 * history says is present must be in the inventory (and vice versa). Counts the violations.
 */
import { sql } from 'kysely';
import type { Store } from '../../src/store/store.ts';

export interface HistoryCheck {
  rows: number;
  duplicates: string[];
  /** Keys present in the inventory whose history does not end in a presence (or the reverse). */
  gaps: string[];
}

export async function checkHistory(store: Store, integrationId: string): Promise<HistoryCheck> {
  const { rows } = await sql<{ k: string; change_type: string }>`
    select resource_type || '|' || coalesce(drive_id, '') || '|' || coalesce(item_id, '') || '|' ||
      coalesce(group_id, '') || '|' || resource_id as k, change_type
    from changes where integration_id = ${integrationId} order by id`.execute(store.db);
  const present = new Map<string, boolean>();
  const duplicates: string[] = [];
  for (const r of rows) {
    const was = present.get(r.k) ?? false;
    if (r.change_type === 'added') {
      if (was) duplicates.push(`added twice: ${r.k}`);
      present.set(r.k, true);
    } else if (r.change_type === 'removed') {
      if (!was) duplicates.push(`removed while absent: ${r.k}`);
      present.set(r.k, false);
    } else if (!was) duplicates.push(`${r.change_type} while absent: ${r.k}`);
  }
  // Live drive items against the history of drive items (the bulk of the inventory).
  const live = await store.db
    .selectFrom('drive_items')
    .select(['drive_id', 'id'])
    .where('integration_id', '=', integrationId)
    .where('deleted_at', 'is', null)
    .execute();
  const liveKeys = new Set(live.map((r) => `drive_item|${r.drive_id}||||${r.id}`));
  const gaps: string[] = [];
  const historyKeyOf = (k: string) => {
    const [type, drive, , , id] = k.split('|');
    return `${type}|${drive}||||${id}`;
  };
  const historyLive = new Set(
    [...present].filter(([k, p]) => p && k.startsWith('drive_item|')).map(([k]) => historyKeyOf(k)),
  );
  for (const k of liveKeys) if (!historyLive.has(k)) gaps.push(`in inventory, no history: ${k}`);
  for (const k of historyLive) if (!liveKeys.has(k)) gaps.push(`history says present, not stored: ${k}`);
  return { rows: rows.length, duplicates, gaps };
}
