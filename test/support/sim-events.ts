/**
 * Test support for the simulator's event half: an in-memory SimRuntime, a real Fastify app with the event
 * routes on 127.0.0.1, and a real node:http receiver that records what it is sent.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import type { SimChangeEvent, SimClock, SimCounters, SimOptions, SimRuntime } from '../../sim/contracts.ts';
import { type EventOptions, type EventsHandle, registerEventRoutes } from '../../sim/events/index.ts';

export const GRAPH_TOKEN = 'Bearer graph-token';
export const MGMT_TOKEN = 'Bearer management-token';
export const ADMIN_TOKEN = 'Bearer admin-secret';
export const TENANT = '11111111-2222-4333-8444-555555555555';

interface FakeItem {
  id: string;
  name: string;
  path: string;
  webUrl: string;
  isFolder: boolean;
  deleted: boolean;
}

export class FakeRuntime implements SimRuntime {
  readonly tenantId = TENANT;
  readonly counters: SimCounters = {
    requests: 0,
    requestsByEndpoint: {},
    ruSpent: 0,
    faultsServed: {},
    throttledResponses: 0,
    requestsDuringRetryAfter: 0,
    notificationsDelivered: 0,
    notificationsFailed: 0,
  };
  notificationsEnabled = true;
  readonly forbidden = new Set<string>();
  readonly clock: SimClock;
  private offsetMs = 0;
  private seq = 0;
  private readonly listeners = new Set<(e: SimChangeEvent) => void>();
  private readonly advanceListeners = new Set<(now: number) => void>();
  readonly users = new Map<string, { id: string; userPrincipalName: string; userType: 'Member' | 'Guest' }>();
  readonly drives = new Map<string, { id: string; ownerId: string; webUrl: string }>();
  readonly items = new Map<string, FakeItem>();

  constructor(readonly options: SimOptions = { allowHttpNotifications: true }) {
    this.clock = {
      now: () => Date.now() + this.offsetMs,
      advance: (seconds: number) => {
        this.offsetMs += seconds * 1000;
        const now = Date.now() + this.offsetMs;
        for (const l of this.advanceListeners) l(now);
      },
      onAdvance: (listener) => {
        this.advanceListeners.add(listener);
        return () => this.advanceListeners.delete(listener);
      },
    };
    this.addUser('u-alice', 'alice@contoso.test');
    this.addUser('u-bob', 'bob@contoso.test');
    this.addDrive('d-alice', 'u-alice', 'alice_contoso_test');
    this.addDrive('d-bob', 'u-bob', 'bob_contoso_test');
  }

  addUser(id: string, upn: string, userType: 'Member' | 'Guest' = 'Member'): void {
    this.users.set(id, { id, userPrincipalName: upn, userType });
  }

  addDrive(id: string, ownerId: string, personal: string): void {
    this.drives.set(id, {
      id,
      ownerId,
      webUrl: `https://contoso-my.sharepoint.test/personal/${personal}/Documents`,
    });
  }

  /** Creates or updates an item's state (what lookupItem answers after the change). */
  setItem(driveId: string, id: string, path: string, isFolder = false, deleted = false): void {
    const drive = this.drives.get(driveId)!;
    this.items.set(`${driveId}/${id}`, {
      id,
      name: path.slice(path.lastIndexOf('/') + 1),
      path,
      webUrl: `${drive.webUrl}${path.split('/').map(encodeURIComponent).join('/')}`,
      isFolder,
      deleted,
    });
  }

  emit(event: Omit<SimChangeEvent, 'seq' | 'at'>): SimChangeEvent {
    const full: SimChangeEvent = { ...event, seq: ++this.seq, at: new Date(this.clock.now()).toISOString() };
    for (const l of this.listeners) l(full);
    return full;
  }

  onChange(listener: (event: SimChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  verifyBearer(authorization: string | undefined, audience: 'graph' | 'management'): boolean {
    return authorization === (audience === 'graph' ? GRAPH_TOKEN : MGMT_TOKEN);
  }

  verifyAdmin(authorization: string | undefined): boolean {
    return authorization === ADMIN_TOKEN;
  }

  isForbidden(resourceType: string): boolean {
    return this.forbidden.has(resourceType);
  }

  lookupUser(userId: string) {
    return this.users.get(userId);
  }

  lookupDrive(driveId: string) {
    return this.drives.get(driveId);
  }

  lookupItem(driveId: string, itemId: string) {
    return this.items.get(`${driveId}/${itemId}`);
  }

  listDriveIds(): string[] {
    return [...this.drives.keys()];
  }
}

export interface Received {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  text: string;
  json?: { value: Array<Record<string, unknown>> };
}

export type Handler = (req: Received, res: ServerResponse) => void;

/** Answers the handshake correctly and every notification with 202, unless `handler` says otherwise. */
export const defaultHandler: Handler = (req, res) => {
  const token = req.query.get('validationToken');
  if (token !== null) {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    return;
  }
  res.writeHead(202).end();
};

export class Receiver {
  readonly received: Received[] = [];
  handler: Handler = defaultHandler;
  private server!: Server;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const text = Buffer.concat(chunks).toString('utf8');
        const rec: Received = {
          method: req.method ?? '',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          text,
        };
        if (text && String(req.headers['content-type']).includes('json')) rec.json = JSON.parse(text);
        this.received.push(rec);
        this.handler(rec, res);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Notification POSTs (not validation requests) received on `path`. */
  notifications(path = '/hook'): Received[] {
    return this.received.filter((r) => r.path === path && !r.query.has('validationToken'));
  }

  validations(): Received[] {
    return this.received.filter((r) => r.query.has('validationToken'));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: tests inspect response bodies field by field
export type AnyJson = any;

export interface Harness {
  runtime: FakeRuntime;
  app: FastifyInstance;
  events: EventsHandle;
  base: string;
  receiver: Receiver;
  close(): Promise<void>;
}

/** Short timers so every test finishes in well under a second or two. */
const fastOptions: Partial<EventOptions> = {
  coalesceMs: 40,
  validationTimeoutMs: 2_000,
  deliveryTimeoutMs: 2_000,
  retryBaseMs: 30,
  retryMaxIntervalMs: 200,
  tickMs: 20,
};

export async function startHarness(
  events: Partial<EventOptions> = {},
  options: SimOptions = { allowHttpNotifications: true, seed: 3 },
): Promise<Harness> {
  const runtime = new FakeRuntime(options);
  const app = Fastify({ logger: false });
  const handle = registerEventRoutes(app, runtime, { ...fastOptions, ...events });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const receiver = await new Receiver().start();
  return {
    runtime,
    app,
    events: handle,
    base: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    receiver,
    async close() {
      await handle.close();
      await app.close();
      await receiver.close();
    },
  };
}

export async function call(
  h: Harness,
  method: string,
  path: string,
  body?: unknown,
  auth: string | null = GRAPH_TOKEN,
): Promise<{ status: number; headers: Headers; body: AnyJson }> {
  const res = await fetch(`${h.base}${path}`, {
    method,
    headers: {
      ...(auth ? { authorization: auth } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

export function inMinutes(h: Harness, minutes: number): string {
  return new Date(h.runtime.clock.now() + minutes * 60_000).toISOString();
}
