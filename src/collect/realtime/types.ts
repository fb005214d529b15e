import type { Kysely } from 'kysely';
import type { Database } from '../../store/schema.ts';

/** Why a delta run was started. */
export type RunSource = 'webhook' | 'poll' | 'lifecycle';

/**
 * The seam to the collector: the real-time path decides *when* a delta runs, the
 * collector decides *how* (from the stored deltaLink, one run per drive at a time).
 * A run that resolves is taken as "everything up to now is stored"; a rejection makes the
 * real-time path retry with backoff, keeping the notifications that asked for it.
 */
export interface DeltaRunner {
  runDriveDelta(integrationId: string, driveId: string, source: RunSource): Promise<void>;
  runUsersDelta(integrationId: string, source: RunSource): Promise<void>;
  /** Optional: groups (and memberships) delta, polled on the directory schedule with users. */
  runGroupsDelta?(integrationId: string, source: RunSource): Promise<void>;
}

/** What the real-time path needs to know about an integration (the wiring reads it from the store). */
export interface RealtimeIntegration {
  id: string;
  /** Entra tenant id: notifications naming another tenant are rejected. */
  tenantId: string;
  /** Disabled (or deleted: simply absent) integrations get their subscriptions deleted. */
  enabled: boolean;
  /** Drives to watch and poll; list them once the integration's first full sync is done. */
  driveIds: string[];
}

/** Anything holding the Kysely instance (the object `openStore` returns, or `{ db }`). */
export interface RealtimeStore {
  db: Kysely<Database>;
}

/** Time and timers, injectable so tests run schedules on a simulated clock. */
export interface Timers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** A drive root or the directory: what one delta run covers, and the key runs are coalesced on. */
export interface RunTarget {
  integrationId: string;
  /** `/drives/{id}/root`, `users` or `groups`. */
  resource: string;
  kind: 'drive' | 'users' | 'groups';
  driveId?: string;
}

const DRIVE_ROOT = /^\/?drives\/([^/]+)\/root$/i;

/** The canonical resource string of a drive root subscription. */
export function driveRootResource(driveId: string): string {
  return `/drives/${driveId}/root`;
}

/** Parses a subscription resource (`/drives/{id}/root`, `drives/{id}/root`, `users`, `groups`). */
export function targetFromResource(integrationId: string, resource: string): RunTarget | undefined {
  const drive = DRIVE_ROOT.exec(resource);
  if (drive)
    return { integrationId, resource: driveRootResource(drive[1]), kind: 'drive', driveId: drive[1] };
  const bare = resource.replace(/^\//, '').toLowerCase();
  if (bare === 'users') return { integrationId, resource: 'users', kind: 'users' };
  if (bare === 'groups') return { integrationId, resource: 'groups', kind: 'groups' };
  return undefined;
}

export function targetKey(target: Pick<RunTarget, 'integrationId' | 'resource'>): string {
  return `${target.integrationId}\u0000${target.resource}`;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { status?: unknown }).status;
    const code = (err as { code?: unknown }).code;
    const prefix =
      typeof status === 'number' ? `${status}${typeof code === 'string' ? ` ${code}` : ''}: ` : '';
    return `${prefix}${err.message}`.slice(0, 1000);
  }
  return String(err).slice(0, 1000);
}

export const iso = (ms: number): string => new Date(ms).toISOString();
