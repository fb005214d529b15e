import type { Kysely } from 'kysely';
import { type InboxStore, openInboxForReading } from '../../queue/webhook-inbox.ts';
import type { Database } from '../../store/schema.ts';
import type { DeltaCoordinator } from './coordinator.ts';
import { targetFromResource } from './types.ts';

export interface SubscriptionStatus {
  id: string;
  resource: string;
  changeType: string;
  /** ISO expiry as Graph last confirmed it. */
  expiration: string;
  expiresInMs: number;
  /** active | error | removed */
  status: string;
  lastRenewedAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

export interface IntegrationRealtimeStatus {
  integrationId: string;
  subscriptions: SubscriptionStatus[];
  /** Dropped notifications by reason (unknown_subscription, client_state_mismatch, tenant_mismatch, malformed_entry). */
  rejected: Record<string, number>;
}

export interface TargetStatus {
  integrationId: string;
  /** `/drives/{id}/root`, `users` or `groups`. */
  resource: string;
  driveId: string | null;
  /** Last successful delta run (ISO), or null if none yet. */
  lastDeltaAt: string | null;
  lastSource: string | null;
  /** Time since the last successful delta run (ms), or null if none yet. */
  sinceLastDeltaMs: number | null;
  /** How long the oldest unprocessed notification has waited (ms); 0 when none is pending. */
  lagMs: number;
  pendingNotifications: number;
  lastError: string | null;
  lastErrorAt: string | null;
  consecutiveFailures: number;
  running: boolean;
}

export interface RealtimeStatus {
  webhooks: { enabled: boolean; message?: string };
  integrations: IntegrationRealtimeStatus[];
  /** Per drive root, plus `users` / `groups` per integration. */
  targets: TargetStatus[];
  /** Rejections that could not be tied to an integration (unknown subscription ids, malformed entries). */
  rejectedUnattributed: Record<string, number>;
}

export interface StatusOptions {
  now?: () => number;
  /** Adds in-flight information and counts not yet flushed. */
  coordinator?: DeltaCoordinator;
  pendingRejections?: () => Array<{ integrationId: string; reason: string; count: number }>;
  webhooks?: { enabled: boolean; message?: string };
  /** Only this integration. */
  integrationId?: string;
  /**
   * Where pending notifications are counted. Default: the store's inbox file if there is
   * one (SQLite), else the main database's `webhook_inbox` (opened and closed here).
   */
  inbox?: InboxStore;
}

/**
 * The real-time status: per drive (and users/groups) last delta, lag, pending
 * notifications and last error; per integration its subscriptions (never their
 * clientState) and rejected-notification counts. What `drivewarden status` prints.
 */
export async function getRealtimeStatus(
  db: Kysely<Database>,
  options: StatusOptions = {},
): Promise<RealtimeStatus> {
  const now = (options.now ?? Date.now)();
  const only = options.integrationId;

  let subsQuery = db
    .selectFrom('graph_subscriptions')
    .select([
      'id',
      'integration_id',
      'resource',
      'change_type',
      'expiration',
      'status',
      'last_renewed_at',
      'last_error',
      'last_error_at',
    ]);
  if (only) subsQuery = subsQuery.where('integration_id', '=', only);
  let rejQuery = db.selectFrom('webhook_rejections').select(['integration_id', 'reason', 'count']);
  if (only) rejQuery = rejQuery.where('integration_id', 'in', [only, '']);
  let stateQuery = db.selectFrom('realtime_sync_state').selectAll();
  if (only) stateQuery = stateQuery.where('integration_id', '=', only);
  const inbox = options.inbox ?? (await openInboxForReading(db));
  let subs: Awaited<ReturnType<typeof subsQuery.execute>>;
  let rejections: Awaited<ReturnType<typeof rejQuery.execute>>;
  let states: Awaited<ReturnType<typeof stateQuery.execute>>;
  let pending: Awaited<ReturnType<InboxStore['pendingByResource']>>;
  try {
    [subs, rejections, states, pending] = await Promise.all([
      subsQuery.orderBy('integration_id').orderBy('resource').execute(),
      rejQuery.execute(),
      stateQuery.execute(),
      inbox.pendingByResource(only),
    ]);
  } finally {
    if (!options.inbox) await inbox.close();
  }

  const integrations = new Map<string, IntegrationRealtimeStatus>();
  const integration = (id: string): IntegrationRealtimeStatus => {
    let entry = integrations.get(id);
    if (!entry) {
      entry = { integrationId: id, subscriptions: [], rejected: {} };
      integrations.set(id, entry);
    }
    return entry;
  };
  const unattributed: Record<string, number> = {};
  const addRejected = (integrationId: string, reason: string, count: number) => {
    const bucket = integrationId === '' ? unattributed : integration(integrationId).rejected;
    bucket[reason] = (bucket[reason] ?? 0) + count;
  };

  for (const s of subs) {
    integration(s.integration_id).subscriptions.push({
      id: s.id,
      resource: s.resource,
      changeType: s.change_type,
      expiration: s.expiration,
      expiresInMs: Date.parse(s.expiration) - now,
      status: s.status,
      lastRenewedAt: s.last_renewed_at,
      lastError: s.last_error,
      lastErrorAt: s.last_error_at,
    });
  }
  for (const r of rejections) addRejected(r.integration_id, r.reason, Number(r.count));
  for (const r of options.pendingRejections?.() ?? []) {
    if (!only || r.integrationId === only || r.integrationId === '')
      addRejected(r.integrationId, r.reason, r.count);
  }

  const targets = new Map<string, TargetStatus>();
  const target = (integrationId: string, resource: string): TargetStatus => {
    const key = `${integrationId}\u0000${resource}`;
    let entry = targets.get(key);
    if (!entry) {
      entry = {
        integrationId,
        resource,
        driveId: targetFromResource(integrationId, resource)?.driveId ?? null,
        lastDeltaAt: null,
        lastSource: null,
        sinceLastDeltaMs: null,
        lagMs: 0,
        pendingNotifications: 0,
        lastError: null,
        lastErrorAt: null,
        consecutiveFailures: 0,
        running: false,
      };
      targets.set(key, entry);
      integration(integrationId);
    }
    return entry;
  };
  for (const s of subs) target(s.integration_id, s.resource);
  for (const st of states) {
    const t = target(st.integration_id, st.resource);
    t.lastDeltaAt = st.last_success_at;
    t.lastSource = st.last_source;
    t.sinceLastDeltaMs = st.last_success_at ? now - Date.parse(st.last_success_at) : null;
    t.lastError = st.last_error;
    t.lastErrorAt = st.last_error_at;
    t.consecutiveFailures = Number(st.consecutive_failures);
  }
  for (const p of pending) {
    const t = target(p.integration_id, p.resource);
    t.pendingNotifications = Number(p.pending);
    const oldest = p.oldest ? Date.parse(String(p.oldest)) : Number.NaN;
    t.lagMs = Number.isNaN(oldest) ? 0 : Math.max(0, now - oldest);
  }
  for (const run of options.coordinator?.snapshot() ?? []) {
    if (only && run.integrationId !== only) continue;
    if (run.running) target(run.integrationId, run.resource).running = true;
  }

  return {
    webhooks: options.webhooks ?? { enabled: subs.length > 0 },
    integrations: [...integrations.values()].sort((a, b) => a.integrationId.localeCompare(b.integrationId)),
    targets: [...targets.values()].sort(
      (a, b) => a.integrationId.localeCompare(b.integrationId) || a.resource.localeCompare(b.resource),
    ),
    rejectedUnattributed: unattributed,
  };
}
