/** The simulator's shared state: tenant, clock, counters, change listeners, issued tokens and faults. */
import type {
  DeltaRequestRecord,
  SimChangeEvent,
  SimClock,
  SimCounters,
  SimFaultRule,
  SimLoggedRequest,
  SimMutation,
  SimOptions,
  SimRuntime,
} from './contracts.ts';
import { applyModelMutation, type ChangeInput, MutationError } from './model/mutate.ts';
import { Prng } from './model/prng.ts';
import type { Tenant } from './model/tenant.ts';
import { FaultEngine } from './server/faults.ts';

export function newCounters(): SimCounters {
  return {
    requests: 0,
    requestsByEndpoint: {},
    ruSpent: 0,
    faultsServed: {},
    throttledResponses: 0,
    requestsDuringRetryAfter: 0,
    notificationsDelivered: 0,
    notificationsFailed: 0,
  };
}

/** Enough for a test tenant's full sync; a benchmark-sized one overflows it (counted as dropped). */
export const REQUEST_LOG_CAP = 200_000;

export class Clock implements SimClock {
  private offsetMs = 0;
  private listeners = new Set<(nowMs: number) => void>();
  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new MutationError('advanceClock needs seconds ≥ 0');
    this.offsetMs += seconds * 1000;
    const now = this.now();
    for (const l of [...this.listeners]) l(now);
  }
  onAdvance(listener: (nowMs: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface IssuedToken {
  audience: 'graph' | 'management';
  expiresMs: number;
}

export type BearerCheck = 'ok' | 'missing' | 'invalid' | 'expired' | 'audience';

/** Resolved options, every default applied. */
export type ResolvedOptions = Required<
  Pick<
    SimOptions,
    | 'seed'
    | 'users'
    | 'items'
    | 'unprovisionedRatio'
    | 'sharedRatio'
    | 'anonymousRatio'
    | 'violationRatio'
    | 'timeScale'
    | 'latencyMs'
    | 'deltaRepeatRate'
    | 'allowHttpNotifications'
    | 'adminConsent'
  >
> &
  SimOptions;

export class Runtime implements SimRuntime {
  readonly tenantId: string;
  readonly options: ResolvedOptions;
  readonly clock = new Clock();
  counters: SimCounters = newCounters();
  /** Graph requests in arrival order while recording (POST /_sim/requests/record); null: off. */
  requestLog: SimLoggedRequest[] | null = null;
  /** Requests not logged because the log was full. */
  requestLogDropped = 0;
  /** Drive delta requests served (the last 200,000), for overlap checks. */
  readonly deltaLog: DeltaRequestRecord[] = [];
  notificationsEnabled = true;
  readonly tenant: Tenant;
  readonly faults: FaultEngine;
  readonly tokens = new Map<string, IssuedToken>();
  /** Set once the server listens: https://127.0.0.1:PORT */
  baseUrl = '';
  readonly rng: Prng;
  /** Builds the 410 resyncRequired error for a drive (set by the drive routes). */
  resyncError: ((driveId: string, query: Record<string, string | string[] | undefined>) => Error) | null =
    null;
  private eventSeq = 0;
  private listeners = new Set<(event: SimChangeEvent) => void>();

  constructor(tenant: Tenant, options: ResolvedOptions) {
    this.tenant = tenant;
    this.tenantId = tenant.tenantId;
    this.options = options;
    this.rng = new Prng(options.seed, 99);
    this.faults = new FaultEngine(options.seed, options.faults ?? []);
  }

  get graphBaseUrl(): string {
    return `${this.baseUrl}/v1.0`;
  }

  onChange(listener: (event: SimChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(input: ChangeInput): SimChangeEvent {
    const event: SimChangeEvent = {
      seq: ++this.eventSeq,
      at: new Date(this.clock.now()).toISOString(),
      ...input,
    };
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // a listener's failure must not break the mutation that caused the event
      }
    }
    return event;
  }

  /** Appends to the request log when it is on; it holds at most REQUEST_LOG_CAP entries. */
  logRequest(method: string, url: string, inBatch: boolean): void {
    const log = this.requestLog;
    if (!log) return;
    if (log.length >= REQUEST_LOG_CAP) {
      this.requestLogDropped++;
      return;
    }
    log.push({ seq: log.length + 1, at: new Date().toISOString(), method, url, inBatch });
  }

  checkBearer(authorization: string | undefined, audience: 'graph' | 'management'): BearerCheck {
    if (!authorization) return 'missing';
    const m = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!m) return 'invalid';
    const t = this.tokens.get(m[1]);
    if (!t) return 'invalid';
    if (t.audience !== audience) return 'audience';
    if (this.clock.now() >= t.expiresMs) return 'expired';
    return 'ok';
  }

  verifyBearer(authorization: string | undefined, audience: 'graph' | 'management'): boolean {
    return this.checkBearer(authorization, audience) === 'ok';
  }

  /** Set at start: the admin API's bearer secret. */
  adminSecret = '';

  verifyAdmin(authorization: string | undefined): boolean {
    return this.adminSecret !== '' && authorization === `Bearer ${this.adminSecret}`;
  }

  isForbidden(resourceType: string): boolean {
    return this.faults.isForbidden(resourceType);
  }

  lookupUser(userId: string) {
    const u = this.tenant.userById.get(userId);
    if (!u || u.deleted) return undefined;
    return { id: u.id, userPrincipalName: u.userPrincipalName, userType: u.userType };
  }

  lookupDrive(driveId: string) {
    const d = this.tenant.driveById.get(driveId);
    if (!d) return undefined;
    return { id: d.id, ownerId: this.tenant.users[d.ownerIdx].id, webUrl: d.webUrl };
  }

  lookupItem(driveId: string, itemId: string) {
    const t = this.tenant;
    const d = t.driveById.get(driveId);
    if (!d) return undefined;
    const i = t.parseItemId(d.idx, itemId);
    if (i < 0) return undefined;
    const path = t.pathOf(i);
    return {
      id: itemId,
      name: t.items.name[i],
      path,
      webUrl: itemWebUrl(t, i),
      isFolder: t.items.isFolder(i),
      deleted: t.items.isDeleted(i),
    };
  }

  listDriveIds(): string[] {
    return this.tenant.liveDrives().map((d) => d.id);
  }

  /** Applies an admin mutation; throws MutationError on bad input. */
  mutate(m: SimMutation): Record<string, unknown> {
    if (!m || typeof m !== 'object' || typeof (m as { op?: unknown }).op !== 'string')
      throw new MutationError('a mutation is a JSON object with an "op" field');
    switch (m.op) {
      case 'advanceClock':
        this.clock.advance(m.seconds);
        return { now: new Date(this.clock.now()).toISOString() };
      case 'setNotificationDelivery':
        if (typeof m.enabled !== 'boolean') throw new MutationError('enabled must be a boolean');
        this.notificationsEnabled = m.enabled;
        return { enabled: m.enabled };
      case 'setFaults':
        this.faults.set(m.faults as SimFaultRule[]);
        return { faults: this.faults.rules.length };
      default:
        return applyModelMutation(
          { tenant: this.tenant, now: () => this.clock.now(), emit: (e) => this.emit(e), rng: this.rng },
          m,
        );
    }
  }
}

export function itemWebUrl(t: Tenant, i: number): string {
  const d = t.drives[t.items.drive[i]];
  const path = t.pathOf(i);
  if (path === '/') return d.webUrl;
  return `${d.webUrl}${path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/')}`;
}
