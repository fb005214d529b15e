import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** What the running service says about itself (written by its heartbeat). */
export interface ServiceSnapshot {
  receiverUrl: string | null;
  receiverUp: boolean;
  publicUrl: string | null;
  webhooks: { enabled: boolean; message?: string };
}

export interface ServiceStateReport {
  /** A service wrote its heartbeat recently and has not stopped. */
  running: boolean;
  /** Why none is running: it never ran on this store, stopped cleanly, or its heartbeat went stale. */
  notRunning?: 'never started' | 'stopped' | 'heartbeat stale';
  pid?: number;
  hostname?: string;
  startedAt?: string;
  heartbeatAt?: string;
  stoppedAt?: string | null;
  receiverUrl?: string | null;
  receiverUp?: boolean;
  publicUrl?: string | null;
  /** The webhook state the running service uses (off when none runs). */
  webhooks: { enabled: boolean; message?: string };
}

const ID = 'service';

/** Writes the service's row: at start (startedAt given), at every heartbeat, and at a clean stop. */
export async function writeServiceState(
  db: Kysely<Database>,
  snapshot: ServiceSnapshot,
  opts: { now: string; heartbeatMs: number; startedAt?: string; stopped?: boolean },
): Promise<void> {
  const values = {
    pid: process.pid,
    hostname: hostname(),
    heartbeat_at: opts.now,
    heartbeat_ms: opts.heartbeatMs,
    stopped_at: opts.stopped ? opts.now : null,
    receiver_url: snapshot.receiverUrl,
    receiver_up: snapshot.receiverUp && !opts.stopped ? 1 : 0,
    public_url: snapshot.publicUrl,
    webhooks_enabled: snapshot.webhooks.enabled ? 1 : 0,
    webhooks_message: snapshot.webhooks.message ?? null,
  };
  const startedAt = opts.startedAt;
  await db
    .insertInto('service_state')
    .values({ id: ID, started_at: startedAt ?? opts.now, ...values })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet(startedAt ? { ...values, started_at: startedAt } : values),
    )
    .execute();
}

/** The service's state as `drivewarden status` reports it; stale after three missed heartbeats. */
export async function readServiceState(
  db: Kysely<Database>,
  now: number = Date.now(),
): Promise<ServiceStateReport> {
  const row = await db.selectFrom('service_state').selectAll().where('id', '=', ID).executeTakeFirst();
  if (!row) {
    return {
      running: false,
      notRunning: 'never started',
      webhooks: { enabled: false, message: 'no service running (drivewarden serve or demo)' },
    };
  }
  const heartbeatMs = Number(row.heartbeat_ms);
  const stale = now - Date.parse(row.heartbeat_at) > 3 * heartbeatMs + 1000;
  const notRunning = row.stopped_at ? 'stopped' : stale ? 'heartbeat stale' : undefined;
  const running = notRunning === undefined;
  return {
    running,
    ...(notRunning ? { notRunning } : {}),
    pid: Number(row.pid),
    hostname: row.hostname,
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    stoppedAt: row.stopped_at,
    receiverUrl: row.receiver_url,
    receiverUp: running && Number(row.receiver_up) === 1,
    publicUrl: row.public_url,
    webhooks: running
      ? Number(row.webhooks_enabled) === 1
        ? { enabled: true }
        : { enabled: false, message: row.webhooks_message ?? 'webhooks off: polling only' }
      : { enabled: false, message: 'no service running (drivewarden serve or demo)' },
  };
}
