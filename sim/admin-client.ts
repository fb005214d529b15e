/** Typed client of the simulator's admin API (`/_sim/*`), trusting the simulator's CA (never skipping checks). */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type {
  DeltaRequestRecord,
  SimConnectionInfo,
  SimCounters,
  SimFaultRule,
  SimIdTokenTamper,
  SimLoggedRequest,
  SimMutation,
  TruthRecord,
} from './contracts.ts';

export interface SimDriveSummary {
  id: string;
  ownerId: string;
  ownerUserPrincipalName: string;
  rootId: string;
  itemCount: number;
  quotaState: string;
}

export interface SimItemSummary {
  id: string;
  parentId: string | null;
  name: string;
  path: string;
  isFolder: boolean;
  deleted: boolean;
  size: number;
  explicitPermissions: number;
  sharedScope: string | null;
}

export interface SimUserSummary {
  id: string;
  userPrincipalName: string;
  mail: string | null;
  userType: 'Member' | 'Guest';
  accountEnabled: boolean;
  driveId: string | null;
  managerId: string | null;
}

/** `GET /_sim/labels`: the catalogue and the live files that carry a label (or cannot be read). */
export interface SimLabelsSummary {
  catalogue: Array<{ id: string; name: string; parentId: string | null; isAppliable: boolean }>;
  files: Array<{ driveId: string; itemId: string; name: string; locked: boolean; labelIds: string[] }>;
}

export class SimAdminError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'SimAdminError';
  }
}

export class SimAdminClient {
  private readonly agent: Agent;
  private readonly base: string;
  private readonly auth: string;

  constructor(info: Pick<SimConnectionInfo, 'adminUrl' | 'adminSecret' | 'caCertPath'>) {
    this.agent = new Agent({ connect: { ca: readFileSync(info.caCertPath, 'utf8') } });
    this.base = info.adminUrl.replace(/\/$/, '');
    this.auth = `Bearer ${info.adminSecret}`;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const res = await request(`${this.base}${path}`, {
      method,
      dispatcher: this.agent,
      headers: {
        authorization: this.auth,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      throw new SimAdminError(
        res.statusCode,
        `simulator admin ${method} ${path}: answer is not JSON: ${text.slice(0, 200)}`,
      );
    }
    if (res.statusCode >= 400) {
      const msg = (json as { error?: unknown })?.error;
      throw new SimAdminError(
        res.statusCode,
        `simulator admin ${method} ${path} → ${res.statusCode}: ${typeof msg === 'string' ? msg : JSON.stringify(msg ?? json)}`,
      );
    }
    return json as T;
  }

  /** Streams the ground truth, one record at a time. */
  async *truth(): AsyncIterable<TruthRecord> {
    const res = await request(`${this.base}/truth`, {
      dispatcher: this.agent,
      headers: { authorization: this.auth },
    });
    if (res.statusCode !== 200)
      throw new SimAdminError(
        res.statusCode,
        `simulator admin GET /truth → ${res.statusCode}: ${await res.body.text()}`,
      );
    let buf = '';
    for await (const chunk of res.body) {
      buf += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
      let nl = buf.indexOf('\n');
      while (nl >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) yield JSON.parse(line) as TruthRecord;
        nl = buf.indexOf('\n');
      }
    }
    if (buf.trim()) yield JSON.parse(buf) as TruthRecord;
  }

  /** All truth records in memory (small tenants only). */
  async truthArray(): Promise<TruthRecord[]> {
    const out: TruthRecord[] = [];
    for await (const r of this.truth()) out.push(r);
    return out;
  }

  /** Every drive delta request served (see DeltaRequestRecord). */
  deltaLog(): Promise<DeltaRequestRecord[]> {
    return this.call('GET', '/delta-log');
  }

  counters(): Promise<SimCounters> {
    return this.call('GET', '/counters');
  }

  async resetCounters(): Promise<void> {
    await this.call('POST', '/counters/reset');
  }

  /** Starts (emptied) or stops the request log. */
  async recordRequests(enabled: boolean): Promise<void> {
    await this.call('POST', '/requests/record', { enabled });
  }

  /** The Graph requests logged since recording started, in arrival order. */
  requests(): Promise<{ recording: boolean; dropped: number; requests: SimLoggedRequest[] }> {
    return this.call('GET', '/requests');
  }

  mutate<R extends Record<string, unknown> = Record<string, unknown>>(
    m: SimMutation,
  ): Promise<{ ok: true } & R> {
    return this.call('POST', '/mutations', m);
  }

  setFaults(faults: SimFaultRule[]): Promise<{ ok: true }> {
    return this.mutate({ op: 'setFaults', faults });
  }

  async drives(): Promise<SimDriveSummary[]> {
    return (await this.call<{ value: SimDriveSummary[] }>('GET', '/drives')).value;
  }

  async items(driveId: string): Promise<SimItemSummary[]> {
    return (
      await this.call<{ value: SimItemSummary[] }>('GET', `/items?driveId=${encodeURIComponent(driveId)}`)
    ).value;
  }

  labels(): Promise<SimLabelsSummary> {
    return this.call('GET', '/labels');
  }

  /** The audit feed's state (`GET /_sim/events/stats` → audit): blobs, distinct records, blobs not yet available. */
  async auditStats(): Promise<{ blobs: number; records: number; pendingBlobs: number }> {
    return (
      await this.call<{ audit: { blobs: number; records: number; pendingBlobs: number } }>(
        'GET',
        '/events/stats',
      )
    ).audit;
  }

  /** Moves the simulated clock forward; answers the new time (ms). */
  async advanceClock(seconds: number): Promise<number> {
    const r = await this.mutate<{ now: string }>({ op: 'advanceClock', seconds });
    return Date.parse(r.now);
  }

  /**
   * How users sign in (POST /_sim/sign-in): the automatic user (null: the account picker page),
   * app role assignments by user principal name, group claims, and a tamper of the next ID token.
   */
  async signIn(change: {
    autoUser?: string | null;
    appRoles?: Record<string, string[]>;
    groupClaims?: boolean;
    tamperNextIdToken?: SimIdTokenTamper | null;
  }): Promise<void> {
    await this.call('POST', '/sign-in', change);
  }

  async users(): Promise<SimUserSummary[]> {
    return (await this.call<{ value: SimUserSummary[] }>('GET', '/users')).value;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}
