import { createHash } from 'node:crypto';
import type { AnyDb } from './sql-v1.ts';

/**
 * 0800 — subscriptions keep the SHA-256 of their clientState (`sha256:<hex>`), not the
 * secret itself: a copy of the database can no longer forge Graph notifications. Existing
 * rows are converted in place. Frozen once shipped.
 */
export async function up(db: AnyDb): Promise<void> {
  const rows: { id: string; client_state: string }[] = await db
    .selectFrom('graph_subscriptions')
    .select(['id', 'client_state'])
    .where('client_state', '<>', '')
    .execute();
  for (const row of rows) {
    if (row.client_state.startsWith('sha256:')) continue;
    const digest = `sha256:${createHash('sha256').update(row.client_state, 'utf8').digest('hex')}`;
    await db
      .updateTable('graph_subscriptions')
      .set({ client_state: digest })
      .where('id', '=', row.id)
      .execute();
  }
}

export async function down(): Promise<void> {
  // A digest cannot be turned back into the secret; the subscriptions are re-created instead.
}
