import type { Kysely } from 'kysely';
import { z } from 'zod';
import { decodeValue } from '../../../../store/codec.ts';
import type { Database } from '../../../../store/schema.ts';

/**
 * Sync health per integration from sync_state (one row per scope: users, groups, drives,
 * drive:<id>) and the open sync_errors. lastSyncAt: the latest successful collection of any
 * scope; lagSeconds: how old the least recently collected scope is (what may be missing).
 */
export const syncHealthSchema = z.array(
  z.object({
    integrationId: z.string(),
    name: z.string(),
    status: z
      .enum(['ok', 'syncing', 'error', 'disabled', 'never'])
      .describe(
        'disabled; never collected; error (open collection errors); syncing (a scope mid-listing); ok',
      ),
    lastSyncAt: z.string().nullable(),
    lagSeconds: z.number().nullable(),
    errors: z.number().describe('Open collection errors'),
  }),
);

export async function syncHealth(db: Kysely<Database>, now: Date, integrationId?: string) {
  let iq = db.selectFrom('integrations').select(['id', 'name', 'enabled']).orderBy('name');
  if (integrationId) iq = iq.where('id', '=', integrationId);
  const out: z.infer<typeof syncHealthSchema> = [];
  for (const i of await iq.execute()) {
    const states = await db
      .selectFrom('sync_state')
      .select(['phase', 'last_success_at', 'last_error_code'])
      .where('integration_id', '=', i.id)
      .execute();
    const [{ n }] = await db
      .selectFrom('sync_errors')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('integration_id', '=', i.id)
      .where('resolved_at', 'is', null)
      .execute();
    const successes = states
      .map((s) => s.last_success_at)
      .filter((t): t is string => t !== null)
      .sort();
    const errors = Number(n);
    const enabled = decodeValue('boolean', i.enabled) === true;
    const oldest = successes.length === states.length && successes.length > 0 ? successes[0] : null;
    out.push({
      integrationId: i.id,
      name: i.name,
      status: !enabled
        ? 'disabled'
        : successes.length === 0
          ? 'never'
          : errors > 0 || states.some((s) => s.last_error_code !== null)
            ? 'error'
            : states.some((s) => s.phase !== 'idle')
              ? 'syncing'
              : 'ok',
      lastSyncAt: successes.at(-1) ?? null,
      lagSeconds: oldest ? Math.max(0, Math.round((now.getTime() - Date.parse(oldest)) / 1000)) : null,
      errors,
    });
  }
  return out;
}
