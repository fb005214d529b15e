import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SimChangeEvent, SimRuntime } from '../contracts.ts';
import type { Deliverer, NotificationEntry } from './delivery.ts';
import { graphError } from './errors.ts';
import type { EventOptions } from './options.ts';

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';
export const lifecycleEvents: readonly LifecycleEvent[] = [
  'reauthorizationRequired',
  'subscriptionRemoved',
  'missed',
];

/** Max lifetimes from docs/graph-behaviour.md, in minutes. */
export const DRIVE_MAX_MINUTES = 42_300;
export const USERS_MAX_MINUTES = 41_760;

type Target = { kind: 'drive'; driveId: string } | { kind: 'users'; userId?: string };

export interface Subscription {
  id: string;
  resource: string;
  changeType: string;
  changeTypes: Set<string>;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  /** Sim ms. */
  expiresAt: number;
  /** Sim ms of creation or last renewal (the lifetime reauthorizationRequired measures against). */
  lifetimeStart: number;
  applicationId: string;
  creatorId: string;
  target: Target;
  reauthorizationSent: boolean;
  /** Notifications of this subscription were lost or dropped since the last `missed` event. */
  missedPending: boolean;
}

export type TriggerResult = 'ok' | 'notFound' | 'noLifecycleUrl';

const createBody = z.object({
  changeType: z.string({ error: "The 'changeType' property is required." }).min(1),
  notificationUrl: z.string({ error: "The 'notificationUrl' property is required." }).min(1),
  resource: z.string({ error: "The 'resource' property is required." }).min(1),
  expirationDateTime: z.string({ error: "The 'expirationDateTime' property is required." }).min(1),
  clientState: z.string().nullish(),
  lifecycleNotificationUrl: z.string().nullish(),
  latestSupportedTlsVersion: z.string().nullish(),
  includeResourceData: z.boolean().nullish(),
});

const patchBody = z.object({
  expirationDateTime: z.string({ error: "The 'expirationDateTime' property is required." }).min(1),
});

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** Reads `appid`/`azp` and `oid` from a JWT bearer token when it is one; the simulator's tokens may be opaque. */
function tokenClaims(authorization: string | undefined): { appId?: string; objectId?: string } {
  const token = authorization?.replace(/^Bearer\s+/i, '') ?? '';
  const parts = token.split('.');
  if (parts.length !== 3) return {};
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    return { appId: str(payload.appid) ?? str(payload.azp), objectId: str(payload.oid) };
  } catch {
    return {};
  }
}

/** A stable GUID-shaped value derived from a string. */
function guidFrom(text: string): string {
  const h = createHash('sha256').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Graph serializes subscription times with 7 fractional digits; consumers must parse any ISO form. */
function graphTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '0000Z');
}

export class SubscriptionService {
  private readonly subscriptions = new Map<string, Subscription>();

  constructor(
    private readonly runtime: SimRuntime,
    private readonly options: EventOptions,
    private readonly deliverer: Deliverer,
  ) {}

  has(id: string): boolean {
    return this.subscriptions.has(id);
  }

  list(): Subscription[] {
    const now = this.runtime.clock.now();
    return [...this.subscriptions.values()].filter((s) => s.expiresAt > now);
  }

  toJson(sub: Subscription): Record<string, unknown> {
    return {
      id: sub.id,
      resource: sub.resource,
      applicationId: sub.applicationId,
      changeType: sub.changeType,
      clientState: sub.clientState,
      notificationUrl: sub.notificationUrl,
      notificationQueryOptions: null,
      lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
      expirationDateTime: graphTime(sub.expiresAt),
      creatorId: sub.creatorId,
      includeResourceData: false,
      latestSupportedTlsVersion: 'v1_2',
      encryptionCertificate: null,
      encryptionCertificateId: null,
      notificationUrlAppId: null,
      tenantId: this.runtime.tenantId,
    };
  }

  /** Everything that makes a create request invalid, before the handshake. */
  private parseTarget(
    resourceRaw: string,
    changeTypeRaw: string,
  ): { target: Target; changeTypes: Set<string>; maxMinutes: number } {
    const resource = resourceRaw.trim().replace(/^\/+/, '').replace(/\/+$/, '');
    const changeTypes = changeTypeRaw.split(',').map((c) => c.trim());
    const lower = resource.toLowerCase();
    const driveRoot = resource.match(/^drives\/([^/]+)\/root$/i);
    const userDriveRoot = resource.match(/^users\/([^/]+)\/drive\/root$/i);
    const singleUser = resource.match(/^users\/([^/]+)$/i);
    if (driveRoot) {
      const driveId = decodeURIComponent(driveRoot[1]);
      this.requireDriveChangeType(changeTypes, resourceRaw);
      if (!this.runtime.lookupDrive(driveId)) {
        throw new RequestError(
          404,
          'itemNotFound',
          `The resource '${resourceRaw}' could not be found: drive '${driveId}' does not exist.`,
        );
      }
      return {
        target: { kind: 'drive', driveId },
        changeTypes: new Set(changeTypes),
        maxMinutes: DRIVE_MAX_MINUTES,
      };
    }
    if (userDriveRoot) {
      const userId = decodeURIComponent(userDriveRoot[1]);
      this.requireDriveChangeType(changeTypes, resourceRaw);
      const user = this.runtime.lookupUser(userId);
      if (!user)
        throw new RequestError(
          404,
          'Request_ResourceNotFound',
          `Resource '${userId}' does not exist or one of its queried reference-property objects are not present.`,
        );
      const driveId = this.runtime
        .listDriveIds()
        .find((id) => this.runtime.lookupDrive(id)?.ownerId === user.id);
      if (!driveId)
        throw new RequestError(404, 'itemNotFound', `The user '${userId}' has no OneDrive provisioned.`);
      return {
        target: { kind: 'drive', driveId },
        changeTypes: new Set(changeTypes),
        maxMinutes: DRIVE_MAX_MINUTES,
      };
    }
    if (/^me\/drive(\/|$)/i.test(resource)) {
      throw new RequestError(
        400,
        'BadRequest',
        '/me request is only valid with delegated authentication flow.',
      );
    }
    if (
      /^(drives\/[^/]+|users\/[^/]+\/drive)\/(items\/|root:)/i.test(resource) ||
      /^drives\/[^/]+$/i.test(resource)
    ) {
      throw new RequestError(
        400,
        'InvalidRequest',
        `Subscriptions on OneDrive for Business are only supported on the root of a drive; resource '${resourceRaw}' is not supported. Use '/drives/{drive-id}/root'.`,
      );
    }
    if (lower === 'users' || singleUser) {
      for (const c of changeTypes) {
        if (c !== 'updated' && c !== 'deleted') {
          throw new RequestError(
            400,
            'InvalidRequest',
            `ChangeType '${c}' is not supported for resource '${resourceRaw}'. Supported change types: updated, deleted.`,
          );
        }
      }
      if (new Set(changeTypes).size !== changeTypes.length) {
        throw new RequestError(
          400,
          'InvalidRequest',
          `ChangeType '${changeTypeRaw}' lists a change type twice.`,
        );
      }
      let userId: string | undefined;
      if (singleUser) {
        const key = decodeURIComponent(singleUser[1]);
        const user = this.runtime.lookupUser(key);
        if (!user)
          throw new RequestError(
            404,
            'Request_ResourceNotFound',
            `Resource '${key}' does not exist or one of its queried reference-property objects are not present.`,
          );
        userId = user.id;
      }
      return {
        target: { kind: 'users', userId },
        changeTypes: new Set(changeTypes),
        maxMinutes: USERS_MAX_MINUTES,
      };
    }
    throw new RequestError(
      400,
      'InvalidRequest',
      `Resource '${resourceRaw}' is not supported for change notifications.`,
    );
  }

  private requireDriveChangeType(changeTypes: string[], resource: string): void {
    if (changeTypes.length !== 1 || changeTypes[0] !== 'updated') {
      throw new RequestError(
        400,
        'InvalidRequest',
        `ChangeType '${changeTypes.join(',')}' is not supported for resource '${resource}'. OneDrive for Business supports only 'updated'.`,
      );
    }
  }

  private parseExpiration(raw: string, maxMinutes: number): number {
    const ms = Date.parse(raw);
    if (Number.isNaN(ms)) {
      throw new RequestError(
        400,
        'InvalidRequest',
        `The value '${raw}' of 'expirationDateTime' is not a valid DateTimeOffset.`,
      );
    }
    const now = this.runtime.clock.now();
    if (ms <= now) {
      throw new RequestError(
        400,
        'InvalidRequest',
        'Subscription expiration date time must be in the future.',
      );
    }
    if (ms > now + maxMinutes * 60_000) {
      throw new RequestError(
        400,
        'InvalidRequest',
        `Subscription expiration can only be ${maxMinutes} minutes in the future.`,
      );
    }
    return ms;
  }

  private checkUrl(raw: string, property: string): void {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new RequestError(
        400,
        'InvalidRequest',
        `The '${property}' '${raw}' is not a valid absolute URL.`,
      );
    }
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && this.runtime.options.allowHttpNotifications && isLoopback(url.hostname))
      return;
    throw new RequestError(
      400,
      'InvalidRequest',
      `The Notification Url scheme is invalid: '${property}' must use 'https'.`,
    );
  }

  async create(body: unknown, authorization: string | undefined): Promise<Subscription> {
    const parsed = createBody.safeParse(body ?? {});
    if (!parsed.success) {
      throw new RequestError(
        400,
        'InvalidRequest',
        parsed.error.issues[0]?.message ?? 'Invalid subscription payload.',
      );
    }
    const input = parsed.data;
    const { target, changeTypes, maxMinutes } = this.parseTarget(input.resource, input.changeType);
    const expiresAt = this.parseExpiration(input.expirationDateTime, maxMinutes);
    this.checkUrl(input.notificationUrl, 'notificationUrl');
    if (input.lifecycleNotificationUrl)
      this.checkUrl(input.lifecycleNotificationUrl, 'lifecycleNotificationUrl');
    if (input.clientState != null && input.clientState.length > 128) {
      throw new RequestError(400, 'InvalidRequest', 'The clientState cannot be longer than 128 characters.');
    }
    const checks = [this.deliverer.validate(input.notificationUrl)];
    if (input.lifecycleNotificationUrl) checks.push(this.deliverer.validate(input.lifecycleNotificationUrl));
    const results = await Promise.all(checks);
    results.forEach((result, i) => {
      if (!result.ok) {
        const which = i === 0 ? 'notificationUrl' : 'lifecycleNotificationUrl';
        throw new RequestError(400, 'InvalidRequest', `${result.message} (${which})`);
      }
    });
    const claims = tokenClaims(authorization);
    const applicationId =
      claims.appId ?? this.options.applicationId ?? guidFrom(`app:${this.runtime.tenantId}`);
    const sub: Subscription = {
      id: randomUUID(),
      resource: input.resource,
      changeType: input.changeType,
      changeTypes,
      notificationUrl: input.notificationUrl,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl ?? null,
      clientState: input.clientState ?? null,
      expiresAt,
      lifetimeStart: this.runtime.clock.now(),
      applicationId,
      creatorId: claims.objectId ?? guidFrom(`sp:${applicationId}`),
      target,
      reauthorizationSent: false,
      missedPending: false,
    };
    this.subscriptions.set(sub.id, sub);
    return sub;
  }

  get(id: string): Subscription {
    const sub = this.subscriptions.get(id);
    if (!sub || sub.expiresAt <= this.runtime.clock.now()) {
      throw new RequestError(404, 'ResourceNotFound', `Subscription '${id}' was not found.`);
    }
    return sub;
  }

  renew(id: string, body: unknown): Subscription {
    const sub = this.get(id);
    const parsed = patchBody.safeParse(body ?? {});
    if (!parsed.success) {
      throw new RequestError(
        400,
        'InvalidRequest',
        parsed.error.issues[0]?.message ?? 'Invalid subscription payload.',
      );
    }
    const max = sub.target.kind === 'drive' ? DRIVE_MAX_MINUTES : USERS_MAX_MINUTES;
    sub.expiresAt = this.parseExpiration(parsed.data.expirationDateTime, max);
    sub.lifetimeStart = this.runtime.clock.now();
    sub.reauthorizationSent = false;
    return sub;
  }

  remove(id: string): void {
    this.get(id);
    this.forget(id);
  }

  private forget(id: string): void {
    this.subscriptions.delete(id);
    this.deliverer.forgetSubscription(id, 'change');
  }

  /** Turns a tenant change into notification entries for every matching live subscription. */
  handleChange(event: SimChangeEvent): void {
    const now = this.runtime.clock.now();
    const produced: Array<{ sub: Subscription; entry: NotificationEntry; key: string }> = [];
    if ((event.kind === 'item' || event.kind === 'permission' || event.kind === 'drive') && event.driveId) {
      for (const sub of this.subscriptions.values()) {
        if (sub.expiresAt <= now || sub.target.kind !== 'drive' || sub.target.driveId !== event.driveId)
          continue;
        produced.push({
          sub,
          key: sub.id,
          entry: {
            subscriptionId: sub.id,
            subscriptionExpirationDateTime: graphTime(sub.expiresAt),
            changeType: 'updated',
            resource: sub.resource,
            clientState: sub.clientState,
            tenantId: this.runtime.tenantId,
            resourceData: null,
          },
        });
      }
    } else if (event.kind === 'user' && event.userId && (event.op === 'updated' || event.op === 'deleted')) {
      for (const sub of this.subscriptions.values()) {
        if (sub.expiresAt <= now || sub.target.kind !== 'users' || !sub.changeTypes.has(event.op)) continue;
        if (sub.target.userId && sub.target.userId !== event.userId) continue;
        produced.push({
          sub,
          key: `${sub.id}|${event.op}|${event.userId}`,
          entry: {
            subscriptionId: sub.id,
            subscriptionExpirationDateTime: graphTime(sub.expiresAt),
            changeType: event.op,
            resource: `Users/${event.userId}`,
            clientState: sub.clientState,
            tenantId: this.runtime.tenantId,
            resourceData: {
              '@odata.type': '#Microsoft.Graph.User',
              '@odata.id': `Users/${event.userId}`,
              id: event.userId,
              organizationId: this.runtime.tenantId,
            },
          },
        });
      }
    }
    if (produced.length === 0) return;
    if (!this.runtime.notificationsEnabled) {
      for (const p of produced) p.sub.missedPending = true;
      this.deliverer.lose(
        'change',
        produced.map((p) => p.entry),
      );
      return;
    }
    for (const p of produced) this.deliverer.enqueue('change', p.sub.notificationUrl, p.entry, p.key);
  }

  /** Marks subscriptions whose notifications were dropped, for `autoMissed`. */
  markMissed(subscriptionIds: Iterable<string>): void {
    for (const id of subscriptionIds) {
      const sub = this.subscriptions.get(id);
      if (sub) sub.missedPending = true;
    }
  }

  triggerLifecycle(id: string, event: LifecycleEvent, copies = 1): TriggerResult {
    const sub = this.subscriptions.get(id);
    if (!sub) return 'notFound';
    if (!sub.lifecycleNotificationUrl) return 'noLifecycleUrl';
    for (let k = 0; k < copies; k++) this.sendLifecycle(sub, event);
    if (event === 'subscriptionRemoved') this.forget(id);
    if (event === 'reauthorizationRequired') sub.reauthorizationSent = true;
    if (event === 'missed') sub.missedPending = false;
    return 'ok';
  }

  private sendLifecycle(sub: Subscription, event: LifecycleEvent): void {
    if (!sub.lifecycleNotificationUrl) return;
    this.deliverer.enqueue('lifecycle', sub.lifecycleNotificationUrl, {
      subscriptionId: sub.id,
      subscriptionExpirationDateTime: graphTime(sub.expiresAt),
      tenantId: this.runtime.tenantId,
      clientState: sub.clientState,
      lifecycleEvent: event,
    });
  }

  /** Expiry, reauthorizationRequired near the end of the lifetime, and (optionally) `missed`. */
  tick(): void {
    const now = this.runtime.clock.now();
    for (const sub of [...this.subscriptions.values()]) {
      if (sub.expiresAt <= now) {
        this.forget(sub.id);
        continue;
      }
      if (!sub.lifecycleNotificationUrl) continue;
      const lifetime = sub.expiresAt - sub.lifetimeStart;
      if (
        !sub.reauthorizationSent &&
        sub.expiresAt - now <= lifetime * this.options.reauthorizationFraction
      ) {
        sub.reauthorizationSent = true;
        this.sendLifecycle(sub, 'reauthorizationRequired');
      }
      if (this.options.autoMissed && sub.missedPending && this.runtime.notificationsEnabled) {
        sub.missedPending = false;
        this.sendLifecycle(sub, 'missed');
      }
    }
  }
}

export function registerSubscriptionRoutes(
  app: FastifyInstance,
  runtime: SimRuntime,
  service: SubscriptionService,
): void {
  const base = '/v1.0/subscriptions';
  const context = (req: FastifyRequest) =>
    `${req.protocol}://${req.headers.host ?? 'localhost'}/v1.0/$metadata#subscriptions`;

  const guard = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (!runtime.verifyBearer(req.headers.authorization, 'graph')) {
      graphError(
        401,
        'InvalidAuthenticationToken',
        req.headers.authorization
          ? 'Access token validation failure. Invalid audience.'
          : 'Access token is empty.',
        reply,
      );
      return false;
    }
    if (runtime.isForbidden('subscriptions')) {
      graphError(
        403,
        'ExtensionError',
        'Operation: Create; Exception: [Status Code: Forbidden; Reason: Caller does not have access to the resource. The application needs Files.ReadWrite.All or User.Read.All application permission.]',
        reply,
      );
      return false;
    }
    return true;
  };

  const fail = (err: unknown, reply: FastifyReply) => {
    if (err instanceof RequestError) return graphError(err.status, err.code, err.message, reply);
    throw err;
  };

  app.post(base, async (req, reply) => {
    if (!guard(req, reply)) return reply;
    try {
      const sub = await service.create(req.body, req.headers.authorization);
      return reply.code(201).send({ '@odata.context': `${context(req)}/$entity`, ...service.toJson(sub) });
    } catch (err) {
      return fail(err, reply);
    }
  });

  app.get(base, async (req, reply) => {
    if (!guard(req, reply)) return reply;
    return reply.send({
      '@odata.context': context(req),
      value: service.list().map((s) => service.toJson(s)),
    });
  });

  app.get<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    if (!guard(req, reply)) return reply;
    try {
      return reply.send({
        '@odata.context': `${context(req)}/$entity`,
        ...service.toJson(service.get(req.params.id)),
      });
    } catch (err) {
      return fail(err, reply);
    }
  });

  app.patch<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    if (!guard(req, reply)) return reply;
    try {
      const sub = service.renew(req.params.id, req.body);
      return reply.send({ '@odata.context': `${context(req)}/$entity`, ...service.toJson(sub) });
    } catch (err) {
      return fail(err, reply);
    }
  });

  app.delete<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    if (!guard(req, reply)) return reply;
    try {
      service.remove(req.params.id);
      return reply.code(204).send();
    } catch (err) {
      return fail(err, reply);
    }
  });
}
