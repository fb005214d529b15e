import { ChannelRepository } from '../alerts/channel-repo.ts';
import { DeliveryWorker } from '../alerts/delivery-worker.ts';
import { AppLinks } from '../alerts/links.ts';
import { OutboundGuard } from '../alerts/outbound-guard.ts';
import { PolicyRepository } from '../alerts/policy-repo.ts';
import type { SavedQueryRunner } from '../alerts/query-policy.ts';
import { AlertRouter } from '../alerts/router.ts';
import type { RuleCatalog, RuleInfo } from '../alerts/sources/findings.ts';
import { DETECTOR_IDS } from '../anomalies/types.ts';
import { SavedQueries } from '../query/saved-queries.ts';
import { AlertOutbox } from '../queue/alert-outbox.ts';
import { loadBuiltinPacks } from '../rules/packs.ts';
import type { AppContext } from './context.ts';
import { appRules } from './rules.ts';

/**
 * The alerts of one process: channels, policies, the outbox, the router and the delivery
 * worker, wired from the config. `openAlerts` is what one-shot commands use;
 * `startAlerts` (the service) also runs the worker and routes on a timer and on `kick()`.
 */
export interface Alerts {
  channels: ChannelRepository;
  policies: PolicyRepository;
  outbox: AlertOutbox;
  router: AlertRouter;
  worker: DeliveryWorker;
  guard: OutboundGuard;
  catalog: RuleCatalog;
  /** Loads rule titles and tags (the service does it before routing). */
  refreshCatalog(): Promise<void>;
  close(): Promise<void>;
}

const CATALOG_RELOAD_MS = 60_000;

/** Titles, tags and packs of the rules alerts can name, and the pack ids policies can filter on. */
export interface RuleInfoCatalog {
  rules: Map<string, RuleInfo>;
  packs: Set<string>;
}

/** Every rule of the catalog (built-in, config folders, saved) and the anomaly detectors, with the built-in packs each rule belongs to. */
export async function loadRuleInfo(app: AppContext): Promise<RuleInfoCatalog> {
  const rules = new Map<string, RuleInfo>();
  const packsOf = new Map<string, string[]>();
  const packs = new Set<string>();
  try {
    for (const pack of loadBuiltinPacks()) {
      packs.add(pack.id);
      for (const control of pack.controls)
        for (const id of control.rules) packsOf.set(id, [...new Set([...(packsOf.get(id) ?? []), pack.id])]);
    }
  } catch (err) {
    app.logger.warn({ err: (err as Error).message }, 'alerts: packs not loaded; pack filters match nothing');
  }
  try {
    for (const r of await appRules(app))
      rules.set(r.id, { title: r.title, tags: r.tags, packs: packsOf.get(r.id) ?? [] });
  } catch (err) {
    app.logger.warn({ err: (err as Error).message }, 'alerts: rules not loaded; alerts name rules by id');
  }
  // Anomaly detections are findings too (rule_id = the detector): named, and tagged `anomaly`
  // so that one policy can take them all.
  for (const id of DETECTOR_IDS)
    if (!rules.has(id))
      rules.set(id, { title: `Anomaly: ${id.replaceAll('_', ' ')}`, tags: ['anomaly'], packs: [] });
  return { rules, packs };
}

/**
 * The catalog the router reads synchronously: filled by `refresh()`, and reloaded (at most
 * once a minute) when an unknown rule shows up.
 */
function ruleCatalog(app: AppContext): { lookup: RuleCatalog; refresh(): Promise<void> } {
  let rules = new Map<string, RuleInfo>();
  let loadedAt = 0;
  const refresh = async () => {
    loadedAt = Date.now();
    rules = await loadRuleInfo(app).then(
      (c) => c.rules,
      () => rules,
    );
  };
  const lookup: RuleCatalog = (id) => {
    const found = rules.get(id);
    if (!found && Date.now() - loadedAt > CATALOG_RELOAD_MS) void refresh();
    return found;
  };
  return { lookup, refresh };
}

/** Saved queries as query policies run them: the console's guard and limits, every row up to query.maxRows. */
export function savedQueryRunner(app: AppContext): SavedQueryRunner {
  const saved = new SavedQueries(app.store, { limits: app.config.query, pgRole: app.config.query.pgRole });
  return (name, params) => saved.run(name, params, app.config.query.maxRows);
}

/** Whether a saved query (or built-in example) of that name exists, for query policies. */
export async function savedQueryExists(app: AppContext, name: string): Promise<boolean> {
  const saved = new SavedQueries(app.store);
  return (await saved.list()).some((q) => q.name === name);
}

export function openAlerts(app: AppContext): Alerts {
  const cfg = app.config.alerts;
  const guard = new OutboundGuard(cfg.allowPrivateTargets);
  const channels = new ChannelRepository(app.store, app.secrets);
  const policies = new PolicyRepository(app.store, channels);
  const outbox = new AlertOutbox(app.store.db);
  const catalog = ruleCatalog(app);
  const router = new AlertRouter({
    store: app.store,
    policies,
    outbox,
    catalog: catalog.lookup,
    links: new AppLinks(cfg.webAppUrl ?? app.config.server.publicUrl),
    topItems: cfg.digestTopItems,
    gapGraceMs: cfg.postgresGapGraceMs,
    logger: app.logger,
    runQuery: savedQueryRunner(app),
  });
  const worker = new DeliveryWorker({
    outbox,
    channels,
    guard,
    timeoutMs: cfg.timeoutMs,
    maxAttempts: cfg.maxAttempts,
    retryBaseMs: cfg.retryBaseMs,
    retryMaxMs: cfg.retryMaxMs,
    retentionDays: cfg.logRetentionDays,
    logger: app.logger,
  });
  return {
    channels,
    policies,
    outbox,
    router,
    worker,
    guard,
    catalog: catalog.lookup,
    refreshCatalog: catalog.refresh,
    async close() {
      await worker.stop();
      await guard.close();
    },
  };
}

/** Runs a command body with the alerts of an open app. */
export async function withAlerts<T>(app: AppContext, fn: (alerts: Alerts) => Promise<T>): Promise<T> {
  const alerts = openAlerts(app);
  try {
    return await fn(alerts);
  } finally {
    await alerts.close();
  }
}

export interface AlertsService extends Alerts {
  /** New events may be there (a sync or an evaluation finished): route now, then deliver. */
  kick(): Promise<void>;
}

/** The service's alerts: the worker runs, the router runs on every kick and every routeIntervalMs. */
export function startAlerts(app: AppContext): AlertsService {
  const alerts = openAlerts(app);
  const kick = async () => {
    try {
      const routed = await alerts.router.route();
      if (routed.deliveries > 0) alerts.worker.notify();
    } catch (err) {
      app.logger.error({ err: (err as Error).message }, 'alerts: routing failed');
    }
  };
  alerts.worker.start();
  const timer = setInterval(() => void kick(), app.config.alerts.routeIntervalMs);
  timer.unref();
  void alerts.refreshCatalog().then(kick);
  return {
    ...alerts,
    kick,
    async close() {
      clearInterval(timer);
      await alerts.close();
    },
  };
}
