import type { Logger } from '../../util/logger.ts';
import type { DeltaCoordinator } from './coordinator.ts';
import {
  driveRootResource,
  type RealtimeIntegration,
  type RunTarget,
  realTimers,
  type Timers,
} from './types.ts';

export interface PollerOptions {
  coordinator: DeltaCoordinator;
  /** The integrations and drives to poll; read again at the start of every round. */
  integrations: () => Promise<RealtimeIntegration[]>;
  logger: Logger;
  timers?: Timers;
  /** Every drive's delta is polled once per this interval (config.sync.pollIntervalSeconds × 1000). */
  pollIntervalMs: number;
  /** Users (and groups) delta once per this interval (config.sync.directoryIntervalSeconds × 1000). */
  directoryIntervalMs: number;
  /** A target whose last successful run (webhook or poll) is younger than this is skipped (default: half the interval). */
  recentMs?: number;
  /** Whether to poll groups as well as users (when the runner can). */
  groups?: boolean;
}

export interface PollerStats {
  rounds: number;
  started: number;
  skippedRecent: number;
  skippedBusy: number;
}

/**
 * The safety net: every drive's delta is polled once per interval, the drives of a round
 * spread evenly across it (drive i of n at i·interval/n) so the tenant's RU budget sees a
 * steady trickle, not a spike. Drives synced recently (by a webhook-driven run) are
 * skipped, as are those with a run already in flight or scheduled. Users and groups have
 * their own, longer round.
 */
export class Poller {
  private readonly timers: Timers;
  private readonly handles = new Set<unknown>();
  private running = false;
  readonly stats: PollerStats = { rounds: 0, started: 0, skippedRecent: 0, skippedBusy: 0 };

  constructor(private readonly options: PollerOptions) {
    this.timers = options.timers ?? realTimers;
  }

  /** Starts both rounds now (the first drive is polled at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.round('drives');
    void this.round('directory');
  }

  stop(): void {
    this.running = false;
    for (const h of this.handles) this.timers.clearTimeout(h);
    this.handles.clear();
  }

  private later(fn: () => void, ms: number): void {
    const handle = this.timers.setTimeout(() => {
      this.handles.delete(handle);
      if (this.running) fn();
    }, ms);
    this.handles.add(handle);
  }

  private async round(kind: 'drives' | 'directory'): Promise<void> {
    if (!this.running) return;
    const interval = kind === 'drives' ? this.options.pollIntervalMs : this.options.directoryIntervalMs;
    const started = this.timers.now();
    let targets: RunTarget[] = [];
    try {
      const integrations = (await this.options.integrations()).filter((i) => i.enabled);
      targets =
        kind === 'drives'
          ? driveTargets(integrations)
          : directoryTargets(integrations, this.options.groups ?? true);
    } catch (err) {
      this.options.logger.warn({ err, kind }, 'poller could not list integrations; trying again next round');
    }
    if (!this.running) return;
    if (kind === 'drives') this.stats.rounds += 1;
    const spacing = targets.length > 0 ? interval / targets.length : interval;
    targets.forEach((target, i) => {
      const offset = Math.floor(i * spacing);
      if (offset === 0) this.pollOne(target, interval);
      else this.later(() => this.pollOne(target, interval), offset);
    });
    // Next round one interval after this one started.
    const elapsed = this.timers.now() - started;
    this.later(() => void this.round(kind), Math.max(0, interval - elapsed));
  }

  private pollOne(target: RunTarget, interval: number): void {
    const { coordinator } = this.options;
    const last = coordinator.lastSuccess(target);
    const recent = this.options.recentMs ?? interval / 2;
    if (last !== undefined && this.timers.now() - last < recent) {
      this.stats.skippedRecent += 1;
      return;
    }
    if (coordinator.poll(target)) this.stats.started += 1;
    else this.stats.skippedBusy += 1;
  }
}

function driveTargets(integrations: RealtimeIntegration[]): RunTarget[] {
  // Interleave integrations so one tenant's drives do not all come first.
  const lists = integrations.map((integration) =>
    [...new Set(integration.driveIds)].sort().map(
      (driveId): RunTarget => ({
        integrationId: integration.id,
        resource: driveRootResource(driveId),
        kind: 'drive',
        driveId,
      }),
    ),
  );
  const out: RunTarget[] = [];
  for (let i = 0; lists.some((l) => i < l.length); i++)
    for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}

function directoryTargets(integrations: RealtimeIntegration[], groups: boolean): RunTarget[] {
  const out: RunTarget[] = [];
  for (const integration of integrations) {
    out.push({ integrationId: integration.id, resource: 'users', kind: 'users' });
    if (groups) out.push({ integrationId: integration.id, resource: 'groups', kind: 'groups' });
  }
  return out;
}
