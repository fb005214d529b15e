import pLimit from 'p-limit';
import type { GraphClientStats } from '../graph/types.ts';
import type { ErrorSubject } from '../resources/types.ts';
import { encodeValue } from '../store/codec.ts';
import { listSyncErrors, type SyncErrorRecord } from '../store/sync-state.ts';
import { describeError, reportError, type SyncContext, type SyncProgress, statsDelta } from './context.ts';
import { collectMfa } from './directory.ts';
import { syncGroups, syncUsers } from './directory-delta.ts';
import { type DriveSyncResult, syncDrive } from './drive-sync.ts';
import { discoverDrives } from './drives.ts';
import { liveIdBatches } from './live-ids.ts';
import { refreshTenantConfig } from './tenant-config.ts';

export interface SyncOptions {
  /** full: enumerate every drive again (in-progress enumerations resume); delta: continue from deltaLinks. */
  mode: 'full' | 'delta';
  /** Read users, MFA, groups and drives (default true). */
  directory?: boolean;
  /** Run the drives' item feeds (default true). */
  items?: boolean;
}

export interface SyncResult {
  integrationId: string;
  mode: 'full' | 'delta';
  startedAt: string;
  finishedAt: string;
  drives: { total: number; done: number; failed: number; provisioned: number; notProvisioned: number };
  items: number;
  changes: number;
  permissionCalls: number;
  /** extractSensitivityLabels calls (files exposed outside the organization, read once per content). */
  labelCalls: number;
  /** Graph traffic of this run (requests, RU, throttling). */
  graph: GraphClientStats;
  /** Errors recorded (or seen again) during this run that are still open. */
  errors: SyncErrorRecord[];
  /** Per resource type (and signInActivity): collected, or the error code that prevented it. */
  resources: Partial<Record<ErrorSubject, 'ok' | string>>;
}

/**
 * Collects one integration: users (+ managers, sign-in activity when allowed), MFA
 * registration, groups and transitive members, one drive per user, then every drive's
 * items and sharing permissions with bounded concurrency. A resource type that fails
 * (403, …) is recorded as an error for that type and the rest goes on.
 */
export async function syncIntegration(ctx: SyncContext, opts: SyncOptions): Promise<SyncResult> {
  const startedAt = new Date().toISOString();
  const t0 = Date.now();
  const base = ctx.client.stats();
  const resources: SyncResult['resources'] = {};
  const progress: SyncProgress = {
    integrationId: ctx.integration.id,
    phase: 'directory',
    drivesTotal: 0,
    drivesDone: 0,
    drivesFailed: 0,
    items: 0,
    changes: 0,
    permissionCalls: 0,
    labelCalls: 0,
    ruSpent: 0,
    requests: 0,
    throttledResponses: 0,
    throttleWaitMs: 0,
    elapsedMs: 0,
    etaMs: null,
  };
  let drivesStartedAt = 0;
  const emit = () => {
    if (!ctx.onProgress) return;
    const s = statsDelta(ctx.client.stats(), base);
    progress.ruSpent = s.ruSpent;
    progress.requests = s.requests;
    progress.throttledResponses = s.throttledResponses;
    progress.throttleWaitMs = s.throttleWaitMs;
    progress.elapsedMs = Date.now() - t0;
    const finished = progress.drivesDone + progress.drivesFailed;
    progress.etaMs =
      progress.phase === 'drives' && finished > 0
        ? Math.round(((Date.now() - drivesStartedAt) / finished) * (progress.drivesTotal - finished))
        : progress.phase === 'done'
          ? 0
          : null;
    try {
      ctx.onProgress({ ...progress });
    } catch {
      // A progress display never stops a sync.
    }
  };
  const attempt = async (resource: ErrorSubject, work: () => Promise<unknown>): Promise<boolean> => {
    try {
      await work();
      resources[resource] ??= 'ok';
      return true;
    } catch (err) {
      const e = describeError(err, resource);
      resources[resource] = e.code;
      await reportError(ctx, e);
      return false;
    }
  };

  const discovery = { provisioned: 0, notProvisioned: 0 };
  emit();
  if (opts.directory !== false) {
    const usersOk = await attempt('user', async () => {
      // Full listing in full mode (or when due), /users/delta otherwise (directory-delta.ts).
      const r = await syncUsers(ctx, opts.mode);
      if (r.signInActivity !== null) resources.signInActivity = r.signInActivity ? 'ok' : 'accessDenied';
    });
    if (ctx.integration.verifiedDomains.length === 0) await ensureVerifiedDomains(ctx);
    emit();
    await Promise.all([
      attempt('user_mfa', () => collectMfa(ctx, 'full')),
      attempt('group', async () => {
        const r = await syncGroups(ctx, opts.mode);
        resources.group_member = r.members ? 'ok' : 'accessDenied';
      }),
      // Before the drives: their label step names labels from the catalogue.
      refreshTenantConfig(ctx, 'full').then((status) => Object.assign(resources, status)),
      usersOk
        ? attempt('drive', async () => {
            const r = await discoverDrives(ctx, 'full');
            discovery.provisioned = r.provisioned;
            discovery.notProvisioned = r.notProvisioned;
            if (r.denied) resources.drive = 'accessDenied';
          })
        : Promise.resolve(false),
    ]);
  }

  if (opts.items !== false) {
    progress.phase = 'drives';
    drivesStartedAt = Date.now();
    const total = await ctx.store.db
      .selectFrom('drives')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('integration_id', '=', ctx.integration.id)
      .where('deleted_at', 'is', null)
      .executeTakeFirstOrThrow();
    progress.drivesTotal = Number(total.n);
    emit();
    const limit = pLimit(Math.max(1, ctx.concurrency ?? 4));
    const itemErrors: string[] = [];
    for await (const driveIds of liveIdBatches(ctx, 'drives', 200)) {
      const results = await Promise.all(
        driveIds.map((driveId) =>
          limit(async (): Promise<DriveSyncResult> => {
            const r = await syncDrive(ctx, driveId, {
              mode: opts.mode,
              onPage: (p) => {
                progress.items += p.items;
                progress.changes += p.changes;
                progress.permissionCalls += p.permissionCalls;
                emit();
              },
            });
            progress.labelCalls += r.labelCalls;
            if (r.error) progress.drivesFailed++;
            else progress.drivesDone++;
            emit();
            return r;
          }),
        ),
      );
      for (const r of results)
        if (r.error?.resourceType === 'drive_item' && !r.error.resourceId) itemErrors.push(r.error.code);
    }
    resources.drive_item = itemErrors[0] ?? 'ok';
  }

  progress.phase = 'done';
  emit();
  const errors = (await listSyncErrors(ctx.store.db, ctx.integration.id, { open: true })).filter(
    (e) => e.last_at >= startedAt,
  );
  for (const e of errors) {
    if (e.resource_id === null && resources[e.resource_type] === undefined)
      resources[e.resource_type] = e.code;
  }
  return {
    integrationId: ctx.integration.id,
    mode: opts.mode,
    startedAt,
    finishedAt: new Date().toISOString(),
    drives: {
      total: progress.drivesTotal,
      done: progress.drivesDone,
      failed: progress.drivesFailed,
      ...discovery,
    },
    items: progress.items,
    changes: progress.changes,
    permissionCalls: progress.permissionCalls,
    labelCalls: progress.labelCalls,
    graph: statsDelta(ctx.client.stats(), base),
    errors,
    resources,
  };
}

/**
 * The tenant's verified domains decide is_external. Taken from the integration when set;
 * else GET /organization (Organization.Read.All, not always granted); else the domains of
 * member accounts' UPNs. Stored on the integration.
 */
async function ensureVerifiedDomains(ctx: SyncContext): Promise<void> {
  try {
    if ((await refreshVerifiedDomains(ctx)).length > 0) return;
  } catch (err) {
    ctx.logger?.info(
      { integration: ctx.integration.name, err: (err as Error).message },
      'cannot read /organization; verified domains taken from member UPNs',
    );
  }
  const rows = await ctx.store.db
    .selectFrom('users')
    .select('domain')
    .distinct()
    .where('integration_id', '=', ctx.integration.id)
    .where('deleted_at', 'is', null)
    .where('user_type', '=', 'Member')
    .where('domain', 'is not', null)
    .execute();
  const names = rows.map((r) => r.domain as string).filter((d) => d.length > 0);
  if (names.length === 0) return;
  ctx.integration.verifiedDomains = names;
  await ctx.store.db
    .updateTable('integrations')
    .set({ verified_domains: encodeValue('json', names, ctx.store.dialect) })
    .where('id', '=', ctx.integration.id)
    .execute();
}

/** GET /organization → the tenant's verified domains (for is_external), stored on the integration. */
export async function refreshVerifiedDomains(ctx: SyncContext): Promise<string[]> {
  const res = await ctx.client.request<{ value?: Array<{ verifiedDomains?: Array<{ name?: string }> }> }>({
    url: '/organization?$select=id,verifiedDomains',
    resource: 'organization',
  });
  const names = (res.body.value ?? [])
    .flatMap((o) => o.verifiedDomains ?? [])
    .map((d) => d.name?.toLowerCase())
    .filter((n): n is string => !!n);
  if (names.length > 0) {
    ctx.integration.verifiedDomains = names;
    await ctx.store.db
      .updateTable('integrations')
      .set({ verified_domains: encodeValue('json', names, ctx.store.dialect) })
      .where('id', '=', ctx.integration.id)
      .execute();
  }
  return names;
}
