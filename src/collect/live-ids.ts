import type { SyncContext } from './context.ts';

/**
 * Ids of an integration's live (not deleted) users, groups or drives in id order, `size`
 * at a time — keyset paging, so a tenant's directory is never held in memory at once.
 */
export async function* liveIdBatches(
  ctx: SyncContext,
  table: 'users' | 'groups' | 'drives',
  size: number,
): AsyncGenerator<string[]> {
  let after = '';
  for (;;) {
    // The three tables share these columns; Kysely cannot type a union of table names.
    const rows = await ctx.store.db
      .selectFrom(table as 'users')
      .select('id')
      .where('integration_id', '=', ctx.integration.id)
      .where('deleted_at', 'is', null)
      .where('id', '>', after)
      .orderBy('id')
      .limit(size)
      .execute();
    if (rows.length === 0) return;
    after = rows[rows.length - 1].id;
    yield rows.map((r) => r.id);
  }
}
