import pLimit from 'p-limit';
import type { GraphClientStats } from '../graph/types.ts';
import type { ErrorSubject } from '../resources/types.ts';
import { encodeValue } from '../store/codec.ts';
import { deferItemIndexes, ensureItemIndexes } from '../store/deferred-indexes.ts';
import { asStoreFault, storeFaultKind } from '../store/store-fault.ts';
import { listSyncErrors, type SyncErrorRecord } from '../store/sync-state.ts';
import { describeError, reportError, type SyncContext, type SyncProgress, statsDelta } from './context.ts';
import { collectMfa } from './directory.ts';
import { syncGroups, syncUsers } from './directory-delta.ts';
import { type DriveSyncResult, readDriveLabels, syncDrive } from './drive-sync.ts';
import { discoverDrives } from './drives.ts';
import { type EarlyReads, startEarlyReads } from './early-reads.ts';
import { liveIdBatches } from './live-ids.ts';
import { readPendingPermissions } from './permission-reads.ts';
import { refreshTenantConfig } from './tenant-config.ts';

export interface SyncOptions {
  /** full: enumerate every drive again (in-progress enumerations resume); delta: continue from deltaLinks. */
  mode: 'full' | 'delta';
  /** Read users, MFA, groups and drives (default true). */
  directory?: boolean;
  /** Run the drives' item feeds (default true). */
  items?: boolean;
  /**
   * Read permissions and labels of the drives already fed while other feeds run, on the RU the
   * feeds leave (early-reads.ts; default true). false: no permission read before every feed
   * is done, the whole pass in risk order after them (the budget idles through the feeds).
   */
  earlyReads?: boolean;
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
  /**
   * When every item's exposure was stored (the drives' feeds done; sharing roots at the
   * level their shared facet proves) and when the permission reads that refine it ended.
   * Null when items were not collected.
   */
  exposureKnownAt: string | null;
  permissionsReadAt: string | null;
  /** Graph traffic of this run (requests, RU, throttling). */
  graph: GraphClientStats;
  /** Errors recorded (or seen again) during this run that are still open. */
  errors: SyncErrorRecord[];
  /** Per resource type (and signInActivity): collected, or the error code that prevented it. */
  resources: Partial<Record<ErrorSubject, 'ok' | string>>;
}

/**
 * Collects one integration: users (+ managers, sign-in activity when allowed), then one
 * drive per user, each drive's item feed starting as soon as its drive is found (bounded
 * concurrency) while MFA registration, groups and members and the tenant settings are read
 * alongside. Once every feed is done each item's exposure is known from the shared facets;
 * then the sharing roots' permissions are read for the whole tenant, riskiest first
 * (permission-reads.ts), then the labels of exposed files. A resource type that fails
 * (403, …) is recorded as an error for that type and the rest goes on.
 */
export async function syncIntegration(ctx: SyncContext, opts: SyncOptions): Promise<SyncResult> {
  try {
    return await collect(ctx, opts);
  } catch (err) {
    throw asStoreFault(err, ctx.store.file ?? 'PostgreSQL') ?? err;
  }
}

async function collect(ctx: SyncContext, opts: SyncOptions): Promise<SyncResult> {
  // An empty store's first collection writes items without the API's sort indexes (built below).
  const deferred = await deferItemIndexes(ctx.store);
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
  let exposureKnownAt: string | null = null;
  let permissionsReadAt: string | null = null;
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
  /**
   * The first store fault met (store-fault.ts), or the first error no resource step
   * recorded (a bug): no new work starts after it; stopIfFaulted waits for the work in
   * flight (each meets it too or finishes), then throws it, so nothing of this run goes on
   * after it returns (the caller closes the Graph client under it).
   */
  let fatal: unknown;
  const noteFatal = (err: unknown): undefined => {
    fatal ??= err;
    return undefined;
  };
  const attempt = async (resource: ErrorSubject, work: () => Promise<unknown>): Promise<boolean> => {
    if (fatal) return false;
    try {
      await work();
      resources[resource] ??= 'ok';
      return true;
    } catch (err) {
      if (storeFaultKind(err)) return noteFatal(err) ?? false;
      const e = describeError(err, resource);
      resources[resource] = e.code;
      await reportError(ctx, e);
      return false;
    }
  };

  const discovery = { provisioned: 0, notProvisioned: 0 };
  const items = opts.items !== false;
  const limit = pLimit(Math.max(1, ctx.concurrency ?? 4));
  /** Drives whose feed started, and what the label step needs of each once permissions are read. */
  const started = new Set<string>();
  const feeds: Array<Promise<DriveSyncResult | undefined>> = [];
  // Set once the label catalogue is asked for (below); the early label reads wait for it.
  let labelsReady: (value?: unknown) => void = () => {};
  const early: EarlyReads | undefined =
    items && opts.earlyReads !== false
      ? startEarlyReads(ctx, {
          concurrency: ctx.concurrency ?? 4,
          labelsReady: new Promise((resolve) => {
            labelsReady = resolve;
          }),
          onPermissionBatch: (b) => {
            progress.permissionCalls += b.calls;
            emit();
          },
          onLabelCalls: (calls) => {
            progress.labelCalls += calls;
            emit();
          },
          onFatal: noteFatal,
        })
      : undefined;
  const startDrives = (driveIds: string[]) => {
    for (const driveId of driveIds) {
      if (started.has(driveId)) continue;
      started.add(driveId);
      progress.drivesTotal++;
      feeds.push(
        limit(async (): Promise<DriveSyncResult | undefined> => {
          if (fatal) return undefined;
          const r = await syncDrive(ctx, driveId, {
            mode: opts.mode,
            permissions: 'defer',
            onPage: (p) => {
              progress.items += p.items;
              progress.changes += p.changes;
              emit();
            },
          });
          if (r.error) progress.drivesFailed++;
          else progress.drivesDone++;
          if (r.completed) early?.add(r);
          emit();
          return r;
        }).catch(noteFatal),
      );
    }
  };
  const startStoredDrives = async () => {
    for await (const driveIds of liveIdBatches(ctx, 'drives', 200)) startDrives(driveIds);
  };
  const beginDrives = () => {
    progress.phase = 'drives';
    drivesStartedAt = Date.now();
  };

  emit();
  // Users come first: drive discovery asks for each user's drive, and grants are classified
  // against the verified domains. Groups, MFA and the tenant settings run alongside the
  // drives, within the same RU budget; drives start as discovery finds them.
  let alongside: Promise<unknown> = Promise.resolve();
  let tenantConfig: Promise<unknown> = Promise.resolve();
  const stopIfFaulted = async () => {
    if (!fatal) return;
    await Promise.allSettled([alongside, tenantConfig, ...feeds, early?.stop()]);
    throw fatal;
  };
  if (opts.directory !== false) {
    const usersOk = await attempt('user', async () => {
      // Full listing in full mode (or when due), /users/delta otherwise (directory-delta.ts).
      const r = await syncUsers(ctx, opts.mode);
      if (r.signInActivity !== null) resources.signInActivity = r.signInActivity ? 'ok' : 'accessDenied';
    });
    if (ctx.integration.verifiedDomains.length === 0) await ensureVerifiedDomains(ctx);
    emit();
    alongside = Promise.all([
      attempt('user_mfa', () => collectMfa(ctx, 'full')),
      attempt('group', async () => {
        const r = await syncGroups(ctx, opts.mode);
        resources.group_member = r.members ? 'ok' : 'accessDenied';
      }),
    ]);
    // The label step after the permission reads names labels from the catalogue.
    tenantConfig = refreshTenantConfig(ctx, 'full').then(
      (status) => Object.assign(resources, status),
      noteFatal,
    );
    labelsReady(tenantConfig);
    if (items) beginDrives();
    if (usersOk)
      await attempt('drive', async () => {
        const r = await discoverDrives(ctx, 'full', items ? startDrives : undefined);
        discovery.provisioned = r.provisioned;
        discovery.notProvisioned = r.notProvisioned;
        if (r.denied) resources.drive = 'accessDenied';
      });
  }
  labelsReady(tenantConfig);
  await stopIfFaulted();

  if (items) {
    if (progress.phase !== 'drives') beginDrives();
    // Drives discovery did not return this time (users it could not ask keep theirs), or all
    // of them when the directory is not read.
    await startStoredDrives();
    emit();
    const results = (await Promise.all(feeds)).filter((r): r is DriveSyncResult => r !== undefined);
    await stopIfFaulted();
    const itemErrors = results
      .filter((r) => r.error?.resourceType === 'drive_item' && !r.error.resourceId)
      .map((r) => r.error?.code as string);
    resources.drive_item = itemErrors[0] ?? 'ok';
    // Every item's exposure is stored (from the shared facets); now the permissions, riskiest
    // first, from where the early reads left each drive.
    exposureKnownAt = new Date().toISOString();
    progress.phase = 'permissions';
    emit();
    await early?.stop();
    await stopIfFaulted();
    try {
      await readPendingPermissions(ctx, {
        concurrency: ctx.concurrency ?? 4,
        onBatch: (b) => {
          progress.permissionCalls += b.calls;
          emit();
        },
      });
    } catch (err) {
      if (storeFaultKind(err)) noteFatal(err);
      else await reportError(ctx, describeError(err, 'permission'));
    }
    await stopIfFaulted();
    permissionsReadAt = new Date().toISOString();
    await tenantConfig;
    await Promise.all(
      results
        .filter((r) => r.completed && !early?.labelled.has(r.driveId))
        .map((r) =>
          limit(async () => {
            // Not `+= await`: that reads the total before the await and loses concurrent drives' calls.
            const calls = await readDriveLabels(ctx, r.driveId, r.labelSource);
            progress.labelCalls += calls;
          }).catch(noteFatal),
        ),
    );
    await stopIfFaulted();
  }
  await tenantConfig;
  await alongside;

  if (items) await buildItemIndexes(ctx, deferred);
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
    exposureKnownAt,
    permissionsReadAt,
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

/** Builds the API's sort indexes a first collection went without (store/deferred-indexes.ts). */
async function buildItemIndexes(ctx: SyncContext, deferred: boolean): Promise<void> {
  const t0 = performance.now();
  const built = await ensureItemIndexes(ctx.store);
  if (built.length > 0)
    ctx.logger?.info(
      {
        integration: ctx.integration.id,
        indexes: built,
        seconds: Math.round(performance.now() - t0) / 1000,
        deferred,
      },
      `built ${built.length} drive item indexes the first collection went without`,
    );
}
