/**
 * Test support for the real-time path: a recording DeltaRunner, a local HTTP server playing
 * Graph's /subscriptions (it performs the validation handshake like Graph does), a small
 * GraphClient over fetch that throws GraphError like the real client, and a subscription row.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DeltaRunner, RunSource, Timers } from '../../src/collect/realtime/types.ts';
import { GraphError } from '../../src/graph/errors.ts';
import type { GraphClient, GraphRequest, GraphResponse } from '../../src/graph/types.ts';
import { clientStateDigest } from '../../src/store/subscription-cache.ts';
import type { GraphSubscriptionsTable } from '../../src/store/tables/realtime.ts';

/**
 * An active drive-root subscription row (expires in a day); override what a test needs.
 * `client_state` is given as the secret Graph echoes; the row stores its digest, as the product does.
 */
export function subscriptionRow(overrides: Partial<GraphSubscriptionsTable> = {}): GraphSubscriptionsTable {
  const { client_state = 'secret-d1-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', ...rest } = overrides;
  return {
    id: 'sub-d1',
    integration_id: 'int-1',
    tenant_id: '11111111-2222-3333-4444-555555555555',
    resource: '/drives/d1/root',
    change_type: 'updated',
    client_state: clientStateDigest(client_state),
    notification_url: 'https://example.test/webhooks/graph',
    expiration: new Date(Date.now() + 86_400_000).toISOString(),
    created_at: new Date().toISOString(),
    last_renewed_at: null,
    status: 'active',
    last_error: null,
    last_error_at: null,
    ...rest,
  };
}

export interface RecordedRun {
  kind: 'drive' | 'users' | 'groups';
  integrationId: string;
  driveId?: string;
  source: RunSource;
  at: number;
}

/**
 * A DeltaRunner that records calls, stamped by `clock` (a test's ManualTimers, or real time);
 * `behaviour` decides how long a run takes and whether it fails.
 */
export class RecordingRunner implements DeltaRunner {
  constructor(private readonly clock: Pick<Timers, 'now'> = { now: () => Date.now() }) {}

  readonly runs: RecordedRun[] = [];
  inFlight = 0;
  maxInFlight = 0;
  behaviour: (run: RecordedRun) => Promise<void> = async () => undefined;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  async runDriveDelta(integrationId: string, driveId: string, source: RunSource): Promise<void> {
    return this.record({ kind: 'drive', integrationId, driveId, source, at: this.clock.now() });
  }

  async runUsersDelta(integrationId: string, source: RunSource): Promise<void> {
    return this.record({ kind: 'users', integrationId, source, at: this.clock.now() });
  }

  async runGroupsDelta(integrationId: string, source: RunSource): Promise<void> {
    return this.record({ kind: 'groups', integrationId, source, at: this.clock.now() });
  }

  /** Resolves once at least `count` runs have started. */
  waitForRuns(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.runs.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${count} runs (saw ${this.runs.length})`)),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private async record(run: RecordedRun): Promise<void> {
    this.runs.push(run);
    for (const w of this.waiters.filter((w) => this.runs.length >= w.count)) w.resolve();
    this.waiters = this.waiters.filter((w) => this.runs.length < w.count);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await this.behaviour(run);
    } finally {
      this.inFlight -= 1;
    }
  }
}

export interface FakeSubscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  clientState: string;
  expirationDateTime: string;
}

/**
 * Graph's /subscriptions on a local HTTP server: POST validates the notification and
 * lifecycle URLs with a validationToken first (like Graph, failing with 400 when the echo
 * is wrong), PATCH renews, DELETE removes. `refuse` makes POSTs for matching resources
 * fail with a Graph error body. `notify` delivers a notification as Graph would.
 */
export class FakeGraphSubscriptions {
  readonly subscriptions = new Map<string, FakeSubscription>();
  readonly calls: Array<{ method: string; path: string; body: unknown }> = [];
  refuse: Array<{ pattern: RegExp; status: number; code: string; message: string }> = [];
  /** Answer PATCH with 404 for these ids. */
  readonly gone = new Set<string>();
  private server?: Server;
  baseUrl = '';

  constructor(readonly tenantId = randomUUID()) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1.0`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** POSTs a notification for one subscription to its notificationUrl; returns the HTTP status. */
  async notify(id: string, overrides: Record<string, unknown> = {}): Promise<number> {
    const sub = this.subscriptions.get(id);
    if (!sub) throw new Error(`no subscription ${id}`);
    const entry = {
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: sub.expirationDateTime,
      clientState: sub.clientState,
      changeType: 'updated',
      resource: sub.resource,
      tenantId: this.tenantId,
      resourceData: null,
      ...overrides,
    };
    const url = overrides.lifecycleEvent
      ? (sub.lifecycleNotificationUrl ?? sub.notificationUrl)
      : sub.notificationUrl;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ value: [entry] }),
    });
    await res.arrayBuffer();
    return res.status;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? JSON.parse(text) : undefined;
    const path = (req.url ?? '').replace(/^\/v1\.0/, '');
    this.calls.push({ method: req.method ?? '', path, body });
    const send = (status: number, payload?: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    };
    const error = (status: number, code: string, message: string) =>
      send(status, { error: { code, message } });
    if (req.method === 'POST' && path === '/subscriptions') {
      for (const r of this.refuse)
        if (r.pattern.test(body.resource)) return error(r.status, r.code, r.message);
      for (const url of [body.notificationUrl, body.lifecycleNotificationUrl].filter(Boolean)) {
        const token = `Validation: Token+${randomUUID()} &/?=`;
        const check = await fetch(`${url}?validationToken=${encodeURIComponent(token)}`, {
          method: 'POST',
          headers: { 'content-type': 'text/plain' },
        });
        const echoed = await check.text();
        if (
          check.status !== 200 ||
          echoed !== token ||
          !String(check.headers.get('content-type')).startsWith('text/plain')
        ) {
          return error(400, 'InvalidRequest', `Subscription validation request failed for ${url}`);
        }
      }
      const sub: FakeSubscription = { id: randomUUID(), ...body };
      this.subscriptions.set(sub.id, sub);
      return send(201, { ...sub, clientState: undefined });
    }
    const m = /^\/subscriptions\/([^/?]+)$/.exec(path);
    if (m) {
      const id = decodeURIComponent(m[1]);
      const sub = this.subscriptions.get(id);
      if (!sub || this.gone.has(id)) return error(404, 'ResourceNotFound', 'subscription not found');
      if (req.method === 'PATCH') {
        sub.expirationDateTime = body.expirationDateTime;
        return send(200, { ...sub, clientState: undefined });
      }
      if (req.method === 'DELETE') {
        this.subscriptions.delete(id);
        res.writeHead(204);
        res.end();
        return;
      }
    }
    return error(400, 'BadRequest', `unsupported ${req.method} ${path}`);
  }
}

/** A GraphClient over fetch for tests: relative URLs against `baseUrl`, GraphError on non-2xx. */
export function fetchGraphClient(baseUrl: string): GraphClient {
  const request = async <T>(req: GraphRequest): Promise<GraphResponse<T>> => {
    const url = /^https?:/.test(req.url) ? req.url : `${baseUrl}${req.url}`;
    const res = await fetch(url, {
      method: req.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...req.headers },
      body: req.body === undefined ? undefined : JSON.stringify(req.body),
    });
    const text = await res.text();
    const body = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      throw new GraphError({
        status: res.status,
        code: body?.error?.code ?? 'unknown',
        message: body?.error?.message ?? res.statusText,
        url,
        resource: req.resource,
      });
    }
    return { status: res.status, headers: Object.fromEntries(res.headers), body: body as T };
  };
  return {
    request,
    pages: () => {
      throw new Error('not used');
    },
    batch: async () => {
      throw new Error('not used');
    },
    stats: () => ({ requests: 0, ruSpent: 0, throttledResponses: 0, throttleWaitMs: 0, retries: 0 }),
    close: async () => undefined,
  };
}
