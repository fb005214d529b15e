/**
 * The event half of the Microsoft Graph simulator: change-notification subscriptions, notification
 * delivery (coalesced, retried), lifecycle events, and the Office 365 Management Activity API.
 * The core calls `registerEventRoutes(app, runtime)` once at start-up, before `listen`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SimRuntime } from '../contracts.ts';
import { AuditLog } from './audit.ts';
import { Deliverer, type DeliveryStats, type PendingDelivery } from './delivery.ts';
import { graphError, managementError } from './errors.ts';
import { ManagementApi } from './management.ts';
import { type EventOptions, resolveEventOptions } from './options.ts';
import {
  type LifecycleEvent,
  lifecycleEvents,
  registerSubscriptionRoutes,
  SubscriptionService,
  type TriggerResult,
} from './subscriptions.ts';

export type { EventOptions } from './options.ts';
export { defaultEventOptions } from './options.ts';
export type { LifecycleEvent, TriggerResult } from './subscriptions.ts';

export interface EventsStats {
  subscriptions: Array<Record<string, unknown>>;
  pendingDeliveries: PendingDelivery[];
  delivery: DeliveryStats;
  counters: { notificationsDelivered: number; notificationsFailed: number };
  audit: { blobs: number; records: number; pendingBlobs: number };
  management: {
    subscriptions: Array<{ contentType: string; status: string }>;
    requests: number;
    throttled: number;
  };
}

export interface EventsHandle {
  /** Stops timers, aborts deliveries in flight, closes the HTTP agent. */
  close(): Promise<void>;
  /** Sends a lifecycle event for one subscription now, `copies` times (`subscriptionRemoved` also deletes it). */
  triggerLifecycle(subscriptionId: string, event: LifecycleEvent, copies?: number): TriggerResult;
  /** Sends every coalesced notification now and waits for deliveries in flight. */
  flush(): Promise<void>;
  /** Runs housekeeping now (expiry, reauthorizationRequired, due retries, blob expiry). */
  tick(): void;
  stats(): EventsStats;
  readonly options: EventOptions;
}

const live = new Set<{ handle: EventsHandle; owns(id: string): boolean }>();

/**
 * Sends a lifecycle event for a subscription of whichever running simulator owns it.
 * Answers 'notFound' when no simulator in this process has that subscription.
 */
export function triggerLifecycle(subscriptionId: string, event: LifecycleEvent, copies = 1): TriggerResult {
  for (const entry of live) {
    if (entry.owns(subscriptionId)) return entry.handle.triggerLifecycle(subscriptionId, event, copies);
  }
  return 'notFound';
}

export function registerEventRoutes(
  app: FastifyInstance,
  runtime: SimRuntime,
  overrides?: Partial<EventOptions>,
): EventsHandle {
  const options = resolveEventOptions(runtime, overrides);
  let service: SubscriptionService | undefined;
  const deliverer = new Deliverer(runtime, options, {
    onDropped(kind, entries) {
      if (kind === 'change') service?.markMissed(entries.map((e) => e.subscriptionId));
    },
  });
  service = new SubscriptionService(runtime, options, deliverer);
  const subscriptions = service;
  const audit = new AuditLog(runtime, options);
  const management = new ManagementApi(runtime, options, audit);

  const tick = () => {
    subscriptions.tick();
    deliverer.processDue();
    audit.prune();
  };

  const unsubscribeChange = runtime.onChange((event) => {
    try {
      subscriptions.handleChange(event);
      audit.handleChange(event);
    } catch (err) {
      app.log.error({ err, event }, 'sim/events: failed to process a change event');
    }
  });
  const unsubscribeAdvance = runtime.clock.onAdvance(() => tick());
  const timer = setInterval(tick, options.tickMs);
  timer.unref();

  const stats = (): EventsStats => ({
    subscriptions: subscriptions.list().map((s) => ({
      ...subscriptions.toJson(s),
      reauthorizationSent: s.reauthorizationSent,
      missedPending: s.missedPending,
    })),
    pendingDeliveries: deliverer.pending(),
    delivery: { ...deliverer.stats },
    counters: {
      notificationsDelivered: runtime.counters.notificationsDelivered,
      notificationsFailed: runtime.counters.notificationsFailed,
    },
    audit: audit.stats(),
    management: {
      subscriptions: [...management.subscriptions.values()].map((s) => ({ ...s })),
      requests: management.requests,
      throttled: management.throttled,
    },
  });

  // Our routes live in their own encapsulated context: a JSON parser that accepts empty bodies
  // (POST subscriptions/start has none) and errors in the shape of the API that was called.
  void app.register(async (scope) => {
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, undefined);
      try {
        done(null, JSON.parse(text));
      } catch {
        const err = new Error('Invalid JSON in the request body.') as Error & { statusCode: number };
        err.statusCode = 400;
        done(err, undefined);
      }
    });
    scope.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      if (status >= 500) req.log.error({ err }, 'sim/events: request failed');
      const message = status >= 500 ? 'An internal error occurred.' : err.message;
      if (req.url.startsWith('/api/')) {
        return managementError(status, status >= 500 ? 'AF50000' : 'AF20002', message, reply);
      }
      return graphError(status, status >= 500 ? 'generalException' : 'BadRequest', message, reply);
    });
    registerSubscriptionRoutes(scope, runtime, subscriptions);
    management.register(scope);
    registerAdminRoutes(scope);
  });

  function registerAdminRoutes(scope: FastifyInstance): void {
    const isAdmin = (req: FastifyRequest, reply: FastifyReply): boolean => {
      const header = req.headers.authorization;
      const ok = runtime.verifyAdmin
        ? runtime.verifyAdmin(header)
        : options.adminSecret !== undefined && header === `Bearer ${options.adminSecret}`;
      if (!ok)
        void reply
          .code(401)
          .send({ error: { code: 'unauthorized', message: 'Admin bearer token required.' } });
      return ok;
    };

    scope.get('/_sim/events/stats', async (req, reply) => {
      if (!isAdmin(req, reply)) return reply;
      return reply.send(stats());
    });

    scope.post('/_sim/events/flush', async (req, reply) => {
      if (!isAdmin(req, reply)) return reply;
      tick();
      await deliverer.flush();
      return reply.send({ ok: true });
    });

    scope.post('/_sim/events/lifecycle', async (req, reply) => {
      if (!isAdmin(req, reply)) return reply;
      const body = (req.body ?? {}) as { subscriptionId?: unknown; event?: unknown; copies?: unknown };
      // Graph may deliver an event more than once: `copies` sends it that many times at once.
      const copies = Number.isInteger(body.copies) ? Math.min(10, Math.max(1, body.copies as number)) : 1;
      if (
        typeof body.subscriptionId !== 'string' ||
        !lifecycleEvents.includes(body.event as LifecycleEvent)
      ) {
        return reply.code(400).send({
          error: {
            code: 'badRequest',
            message: `Body must be {subscriptionId, event} with event one of ${lifecycleEvents.join(', ')}.`,
          },
        });
      }
      const result = subscriptions.triggerLifecycle(
        body.subscriptionId,
        body.event as LifecycleEvent,
        copies,
      );
      if (result === 'notFound') {
        return reply
          .code(404)
          .send({ error: { code: 'notFound', message: `No subscription '${body.subscriptionId}'.` } });
      }
      if (result === 'noLifecycleUrl') {
        return reply.code(400).send({
          error: {
            code: 'badRequest',
            message: `Subscription '${body.subscriptionId}' has no lifecycleNotificationUrl.`,
          },
        });
      }
      return reply.code(202).send({ ok: true });
    });
  }

  let closed = false;
  const handle: EventsHandle = {
    options,
    async close() {
      if (closed) return;
      closed = true;
      live.delete(entry);
      clearInterval(timer);
      unsubscribeChange();
      unsubscribeAdvance();
      await deliverer.close();
    },
    triggerLifecycle: (id, event, copies) => subscriptions.triggerLifecycle(id, event, copies),
    flush: () => deliverer.flush(),
    tick,
    stats,
  };
  const entry = { handle, owns: (id: string) => subscriptions.has(id) };
  live.add(entry);
  return handle;
}
