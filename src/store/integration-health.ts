import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { listSyncErrors, listSyncStates, type SyncState } from './sync-state.ts';

/**
 * One line of health per integration (REST API list, overview's sync health), from what
 * `drivewarden status` reads: the sync state of each scope and the open sync errors.
 */

/**
 * - `disabled`: collection paused;
 * - `pending`: never collected yet;
 * - `syncing`: a full enumeration (or a resync after a lost delta token) is running;
 * - `error`: a scope's last round failed (its last error is newer than its last success);
 * - `degraded`: collection works but some resources have open errors (a missing permission, a drive);
 * - `ok`.
 */
export type IntegrationStatus = 'disabled' | 'pending' | 'syncing' | 'error' | 'degraded' | 'ok';

export interface IntegrationHealth {
  status: IntegrationStatus;
  /** The newest successful round of any scope. */
  lastSyncAt: string | null;
  /** Live files and folders. */
  items: number;
  /** Live drives. */
  drives: number;
  openErrors: number;
  /** The most recent open error. */
  lastError: {
    resourceType: string;
    resourceId: string | null;
    code: string;
    message: string;
    at: string;
    count: number;
  } | null;
}

function statusOf(enabled: boolean, states: SyncState[], openErrors: number): IntegrationStatus {
  if (!enabled) return 'disabled';
  if (states.length === 0) return 'pending';
  if (states.some((s) => s.phase === 'enumerating' || s.phase === 'resyncing')) return 'syncing';
  const failing = states.some(
    (s) => s.lastErrorAt !== null && (s.lastSuccessAt === null || s.lastErrorAt > s.lastSuccessAt),
  );
  if (failing) return 'error';
  return openErrors > 0 ? 'degraded' : 'ok';
}

export async function integrationHealth(
  db: Kysely<Database>,
  integration: { id: string; enabled: boolean },
): Promise<IntegrationHealth> {
  const states = await listSyncStates(db, integration.id);
  const errors = await listSyncErrors(db, integration.id, { open: true });
  // Counts of live rows: index-only on drive_items_api_exposure (live rows, integration_id first; 0920).
  const items = await db
    .selectFrom('drive_items')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('integration_id', '=', integration.id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  const drives = await db
    .selectFrom('drives')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('integration_id', '=', integration.id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  const newest = errors.reduce<(typeof errors)[number] | null>(
    (a, e) => (a === null || e.last_at > a.last_at ? e : a),
    null,
  );
  const successes = states.map((s) => s.lastSuccessAt).filter((x): x is string => x !== null);
  return {
    status: statusOf(integration.enabled, states, errors.length),
    lastSyncAt: successes.sort().at(-1) ?? null,
    items: Number(items.n),
    drives: Number(drives.n),
    openErrors: errors.length,
    lastError: newest
      ? {
          resourceType: newest.resource_type,
          resourceId: newest.resource_id,
          code: newest.code,
          message: newest.message,
          at: newest.last_at,
          count: newest.count,
        }
      : null,
  };
}
