import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { GraphError } from '../../graph/errors.ts';
import type { GraphClient, GraphRequest } from '../../graph/types.ts';
import type { Database } from '../../store/schema.ts';
import { clientStateDigest, type SubscriptionCache } from '../../store/subscription-cache.ts';
import type { GraphSubscriptionsTable } from '../../store/tables/realtime.ts';
import type { Logger } from '../../util/logger.ts';
import type { LifecycleHandler } from './inbox-worker.ts';
import { driveRootResource, errorMessage, iso, targetFromResource } from './types.ts';

/**
 * POSTs a subscription once. When the answer is lost (timeout, reset, 5xx: the POST may have
 * been carried out), Graph's list of the app's subscriptions says: the one with this
 * resource, notification URL and our clientState (compared by digest, as the store keeps
 * it) is ours, adopted as if the answer had come; any further such copy is deleted. None:
 * the original error stands (the next ensure creates it).
 */
async function createOnce(
  client: GraphClient,
  resource: string,
  notificationUrl: string,
  clientState: string,
  request: GraphRequest,
): Promise<{ body: GraphSubscription }> {
  try {
    return await client.request<GraphSubscription>(request);
  } catch (err) {
    if (!(err instanceof GraphError && err.outcomeUnknown)) throw err;
    const digest = clientStateDigest(clientState);
    const ours: GraphSubscription[] = [];
    for await (const page of client.pages<ListedSubscription>({
      url: '/subscriptions',
      resource: 'subscriptions',
    }))
      for (const s of page.value)
        if (
          sameResource(s.resource, resource) &&
          s.notificationUrl === notificationUrl &&
          typeof s.clientState === 'string' &&
          clientStateDigest(s.clientState) === digest
        )
          ours.push(s);
    const [adopted, ...copies] = ours;
    if (!adopted) throw err;
    for (const copy of copies)
      await client.request({
        method: 'DELETE',
        url: `/subscriptions/${encodeURIComponent(copy.id)}`,
        resource: 'subscriptions',
      });
    return { body: adopted };
  }
}

interface ListedSubscription extends GraphSubscription {
  resource?: string;
  notificationUrl?: string;
  clientState?: string | null;
}

const sameResource = (a: string | undefined, b: string) =>
  (a ?? '').replace(/^\/+/, '').toLowerCase() === b.replace(/^\/+/, '').toLowerCase();

/** Graph's maximum subscription lifetimes (minutes), per docs/graph-behaviour.md. */
export const MAX_LIFETIME_MINUTES = { driveRoot: 42_300, users: 41_760 } as const;

export interface SubscriptionManagerOptions {
  db: Kysely<Database>;
  cache: SubscriptionCache;
  logger: Logger;
  /** https URL Graph reaches this server at (config.server.publicUrl); unset = webhooks off. */
  publicUrl?: string;
  /** For the "webhooks off" message. */
  pollIntervalSeconds: number;
  graphClientFor(integrationId: string): GraphClient | Promise<GraphClient>;
  now?: () => number;
  /** Requested expiry = max lifetime minus this margin (minutes, default 60). */
  marginMinutes?: number;
  /** Renew when less than this share of the lifetime remains (default 1/3). */
  renewWhenRemaining?: number;
}

export interface IntegrationRef {
  id: string;
  tenantId: string;
}

export interface EnsureReport {
  integrationId: string;
  webhooks: 'on' | 'off';
  message?: string;
  created: string[];
  renewed: string[];
  deleted: string[];
  errors: Array<{ resource: string; error: string }>;
}

type SubscriptionRow = Selectable<GraphSubscriptionsTable>;

interface GraphSubscription {
  id: string;
  expirationDateTime?: string;
}

/**
 * Keeps one Graph subscription per drive root (`updated`) and one for `users`
 * (`updated,deleted`) per integration: creates, renews well before expiry, re-creates and
 * deletes them. Graph's refusals (403 without Files.ReadWrite.All, 400) are recorded on
 * the subscription row and reported, never thrown: polling covers what webhooks do not.
 */
export class SubscriptionManager implements LifecycleHandler {
  private readonly now: () => number;
  private readonly publicUrl?: string;
  private offLogged = false;
  /** The tail of each resource's queue of subscription work (serial()). */
  private readonly locks = new Map<string, Promise<void>>();

  constructor(private readonly options: SubscriptionManagerOptions) {
    this.now = options.now ?? Date.now;
    this.publicUrl = options.publicUrl?.replace(/\/+$/, '');
  }

  get webhooksEnabled(): boolean {
    return this.publicUrl !== undefined && this.publicUrl !== '';
  }

  /** Why there are no webhooks, or undefined when there are. */
  get offMessage(): string | undefined {
    if (this.webhooksEnabled) return undefined;
    const minutes = Math.round((this.options.pollIntervalSeconds / 60) * 10) / 10;
    return `webhooks off: DW_PUBLIC_URL not set, relying on polling every ${minutes} min`;
  }

  get notificationUrl(): string | undefined {
    return this.webhooksEnabled ? `${this.publicUrl}/webhooks/graph` : undefined;
  }

  get lifecycleNotificationUrl(): string | undefined {
    return this.webhooksEnabled ? `${this.publicUrl}/webhooks/graph/lifecycle` : undefined;
  }

  /**
   * Makes the integration's subscriptions match `driveIds` + users: creates missing or
   * failed ones, renews those due, deletes those of drives no longer listed.
   */
  async ensure(integration: IntegrationRef, driveIds: string[]): Promise<EnsureReport> {
    const report: EnsureReport = {
      integrationId: integration.id,
      webhooks: this.webhooksEnabled ? 'on' : 'off',
      created: [],
      renewed: [],
      deleted: [],
      errors: [],
    };
    if (!this.webhooksEnabled) {
      report.message = this.offMessage;
      if (!this.offLogged) {
        this.offLogged = true;
        this.options.logger.warn(this.offMessage);
      }
      return report;
    }
    const desired = new Set([...driveIds.map(driveRootResource), 'users']);
    const rows = await this.rows(integration.id);
    const now = this.now();
    const byResource = new Map<string, SubscriptionRow[]>();
    for (const row of rows) {
      const list = byResource.get(row.resource) ?? [];
      list.push(row);
      byResource.set(row.resource, list);
    }
    // Subscriptions of drives that are gone.
    for (const [resource, list] of byResource) {
      if (desired.has(resource)) continue;
      for (const row of list) {
        await this.deleteOne(integration.id, row);
        report.deleted.push(row.id);
      }
    }
    for (const resource of desired) {
      // Under the resource's lock, from the rows as they are now: a lifecycle re-creation
      // may have run since the rows above were read.
      await this.serial(integration.id, resource, async () => {
        const list = (await this.rows(integration.id))
          .filter((r) => r.resource === resource)
          .sort((a, b) => b.expiration.localeCompare(a.expiration));
        const live = list.filter((r) => r.status === 'active' && Date.parse(r.expiration) > now);
        const [keep, ...extra] = live;
        for (const row of extra) {
          await this.deleteOne(integration.id, row);
          report.deleted.push(row.id);
        }
        if (keep) {
          if (this.isDue(keep, now)) {
            const ok = await this.renew(integration.id, keep);
            if (ok) report.renewed.push(keep.id);
            else {
              const latest = await this.row(keep.id);
              if (latest?.last_error) report.errors.push({ resource, error: latest.last_error });
            }
          }
          return;
        }
        const result = await this.create(integration, resource);
        if (result.ok) report.created.push(result.id);
        else report.errors.push({ resource, error: result.error });
      });
    }
    return report;
  }

  /** Renews every active subscription (of one integration, or all) with less than the renewal share of its lifetime left. */
  async renewDue(integrationId?: string): Promise<{ renewed: string[]; failed: string[] }> {
    const result = { renewed: [] as string[], failed: [] as string[] };
    if (!this.webhooksEnabled) return result;
    let query = this.options.db.selectFrom('graph_subscriptions').selectAll().where('status', '=', 'active');
    if (integrationId) query = query.where('integration_id', '=', integrationId);
    const now = this.now();
    for (const row of await query.execute()) {
      if (!this.isDue(row, now)) continue;
      const renewed = await this.serial(row.integration_id, row.resource, () =>
        this.renew(row.integration_id, row),
      );
      if (renewed) result.renewed.push(row.id);
      else result.failed.push(row.id);
    }
    return result;
  }

  /**
   * Lifecycle `reauthorizationRequired`: renewing (PATCH) reauthorizes the subscription.
   * Duplicates of the event (Graph repeats them; several can arrive together) wait for the
   * first under the resource's lock and then find the subscription renewed or gone.
   */
  async reauthorize(integrationId: string, subscriptionId: string): Promise<void> {
    const first = await this.row(subscriptionId);
    if (!first || first.integration_id !== integrationId) return;
    await this.serial(integrationId, first.resource, async () => {
      const row = await this.row(subscriptionId);
      if (!row || row.integration_id !== integrationId) return;
      await this.renew(integrationId, row, { throwTransient: true });
    });
  }

  /**
   * Lifecycle `subscriptionRemoved`: a new subscription for the same resource replaces it.
   * One re-creation per resource at a time: a duplicate event waits for the first, then
   * finds the removed subscription forgotten and does nothing.
   */
  async recreate(integrationId: string, subscriptionId: string): Promise<void> {
    const first = await this.row(subscriptionId);
    if (!first || first.integration_id !== integrationId) return;
    await this.serial(integrationId, first.resource, () => this.recreateNow(integrationId, subscriptionId));
  }

  /**
   * Runs `fn` after every earlier call for the same integration and resource has settled
   * (single flight per resource in this process: lifecycle events, ensure, renewals).
   */
  private serial<T>(integrationId: string, resource: string, fn: () => Promise<T>): Promise<T> {
    const key = `${integrationId}\u0000${resource}`;
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return run;
  }

  private async recreateNow(integrationId: string, subscriptionId: string): Promise<void> {
    const row = await this.row(subscriptionId);
    if (!row || row.integration_id !== integrationId) return;
    if (!this.webhooksEnabled) return;
    // Subscribe again first (a transient failure throws and leaves the old row for the
    // retry), then forget the one Graph removed.
    const result = await this.create({ id: row.integration_id, tenantId: row.tenant_id }, row.resource, {
      throwTransient: true,
    });
    await this.forget(row.id);
    if (!result.ok)
      this.options.logger.warn(
        { resource: row.resource, error: result.error },
        'could not re-create subscription',
      );
  }

  /** Deletes every subscription of an integration (disabled or deleted), on Graph and here. */
  async removeAll(
    integrationId: string,
  ): Promise<{ deleted: string[]; errors: Array<{ id: string; error: string }> }> {
    const result = { deleted: [] as string[], errors: [] as Array<{ id: string; error: string }> };
    for (const row of await this.rows(integrationId)) {
      const error = await this.deleteOne(integrationId, row);
      if (error) result.errors.push({ id: row.id, error });
      result.deleted.push(row.id);
    }
    return result;
  }

  private lifetimeMinutes(resource: string): number {
    const max =
      targetFromResource('', resource)?.kind === 'users'
        ? MAX_LIFETIME_MINUTES.users
        : MAX_LIFETIME_MINUTES.driveRoot;
    return max - (this.options.marginMinutes ?? 60);
  }

  private changeType(resource: string): string {
    return resource === 'users' ? 'updated,deleted' : 'updated';
  }

  private isDue(row: SubscriptionRow, now: number): boolean {
    const lifetimeMs = this.lifetimeMinutes(row.resource) * 60_000;
    return Date.parse(row.expiration) - now < lifetimeMs * (this.options.renewWhenRemaining ?? 1 / 3);
  }

  private async rows(integrationId: string): Promise<SubscriptionRow[]> {
    return this.options.db
      .selectFrom('graph_subscriptions')
      .selectAll()
      .where('integration_id', '=', integrationId)
      .execute();
  }

  private async row(id: string): Promise<SubscriptionRow | undefined> {
    return this.options.db
      .selectFrom('graph_subscriptions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
  }

  private async create(
    integration: IntegrationRef,
    resource: string,
    opts: { throwTransient?: boolean } = {},
  ): Promise<{ ok: true; id: string } | { ok: false; error: string }> {
    const { db, cache, logger } = this.options;
    const now = this.now();
    const clientState = randomBytes(32).toString('base64url');
    const changeType = this.changeType(resource);
    const expiration = iso(now + this.lifetimeMinutes(resource) * 60_000);
    const notificationUrl = this.notificationUrl as string;
    let created: GraphSubscription;
    try {
      const client = await this.options.graphClientFor(integration.id);
      const response = await createOnce(client, resource, notificationUrl, clientState, {
        method: 'POST',
        url: '/subscriptions',
        resource: 'subscriptions',
        // Never sent twice by the client: a lost answer is reconciled by createOnce.
        idempotent: false,
        body: {
          changeType,
          notificationUrl,
          lifecycleNotificationUrl: this.lifecycleNotificationUrl,
          resource,
          expirationDateTime: expiration,
          clientState,
        },
      });
      created = response.body;
      if (!created || typeof created.id !== 'string')
        throw new Error('Graph answered without a subscription id');
    } catch (err) {
      if (opts.throwTransient && isTransient(err)) throw err;
      const message = describeError(err, resource);
      logger.warn(
        { integrationId: integration.id, resource, error: message },
        'could not create Graph subscription',
      );
      // One error row per resource: the latest refusal.
      await db.transaction().execute(async (trx) => {
        await trx
          .deleteFrom('graph_subscriptions')
          .where('integration_id', '=', integration.id)
          .where('resource', '=', resource)
          .where('status', '=', 'error')
          .execute();
        await trx
          .insertInto('graph_subscriptions')
          .values({
            id: `failed:${randomUUID()}`,
            integration_id: integration.id,
            tenant_id: integration.tenantId,
            resource,
            change_type: changeType,
            client_state: '',
            notification_url: notificationUrl,
            expiration,
            created_at: iso(now),
            last_renewed_at: null,
            status: 'error',
            last_error: message,
            last_error_at: iso(now),
          })
          .execute();
      });
      return { ok: false, error: message };
    }
    const row: SubscriptionRow = {
      id: created.id,
      integration_id: integration.id,
      tenant_id: integration.tenantId,
      resource,
      change_type: changeType,
      client_state: clientStateDigest(clientState),
      notification_url: notificationUrl,
      expiration: normaliseTime(created.expirationDateTime) ?? expiration,
      created_at: iso(now),
      last_renewed_at: null,
      status: 'active',
      last_error: null,
      last_error_at: null,
    };
    cache.set(row); // before the commit: Graph may notify at once
    await db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('graph_subscriptions')
        .where('integration_id', '=', integration.id)
        .where('resource', '=', resource)
        .where((eb) => eb.or([eb('status', '!=', 'active'), eb('expiration', '<=', iso(now))]))
        .execute();
      await trx.insertInto('graph_subscriptions').values(row).execute();
    });
    logger.info(
      { integrationId: integration.id, resource, subscriptionId: row.id, expiration: row.expiration },
      'Graph subscription created',
    );
    return { ok: true, id: row.id };
  }

  /** PATCHes a later expiry. 404 → the subscription is gone: re-create it. Returns success. */
  private async renew(
    integrationId: string,
    row: SubscriptionRow,
    opts: { throwTransient?: boolean } = {},
  ): Promise<boolean> {
    const { db, logger } = this.options;
    const now = this.now();
    const expiration = iso(now + this.lifetimeMinutes(row.resource) * 60_000);
    try {
      const client = await this.options.graphClientFor(integrationId);
      const response = await client.request<GraphSubscription>({
        method: 'PATCH',
        url: `/subscriptions/${encodeURIComponent(row.id)}`,
        resource: 'subscriptions',
        body: { expirationDateTime: expiration },
      });
      await db
        .updateTable('graph_subscriptions')
        .set({
          expiration: normaliseTime(response.body?.expirationDateTime) ?? expiration,
          last_renewed_at: iso(now),
          status: 'active',
          last_error: null,
          last_error_at: null,
        })
        .where('id', '=', row.id)
        .execute();
      return true;
    } catch (err) {
      if (err instanceof GraphError && err.isNotFound) {
        logger.info(
          { subscriptionId: row.id, resource: row.resource },
          'subscription gone on renewal; re-creating',
        );
        const result = await this.create({ id: integrationId, tenantId: row.tenant_id }, row.resource, opts);
        await this.forget(row.id);
        return result.ok;
      }
      if (opts.throwTransient && isTransient(err)) throw err;
      const message = describeError(err, row.resource);
      logger.warn(
        { subscriptionId: row.id, resource: row.resource, error: message },
        'could not renew Graph subscription',
      );
      const expired = Date.parse(row.expiration) <= now;
      await db
        .updateTable('graph_subscriptions')
        .set({ last_error: message, last_error_at: iso(now), status: expired ? 'error' : row.status })
        .where('id', '=', row.id)
        .execute();
      if (expired) this.options.cache.delete(row.id);
      return false;
    }
  }

  /** DELETE on Graph (404 is fine), then forget here. Returns the error message, if any. */
  private async deleteOne(integrationId: string, row: SubscriptionRow): Promise<string | undefined> {
    let error: string | undefined;
    if (row.status !== 'error' && !row.id.startsWith('failed:')) {
      try {
        const client = await this.options.graphClientFor(integrationId);
        await client.request({
          method: 'DELETE',
          url: `/subscriptions/${encodeURIComponent(row.id)}`,
          resource: 'subscriptions',
        });
      } catch (err) {
        if (!(err instanceof GraphError && err.isNotFound)) {
          error = describeError(err, row.resource);
          this.options.logger.warn(
            { subscriptionId: row.id, error },
            'could not delete Graph subscription (forgotten anyway: its notifications will be rejected)',
          );
        }
      }
    }
    await this.forget(row.id);
    return error;
  }

  private async forget(id: string): Promise<void> {
    this.options.cache.delete(id);
    await this.options.db.deleteFrom('graph_subscriptions').where('id', '=', id).execute();
  }
}

function normaliseTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : iso(ms);
}

/** Network errors, throttling and 5xx: worth a retry. Graph's 4xx refusals are not. */
function isTransient(err: unknown): boolean {
  if (err instanceof GraphError) return err.status === 429 || err.status >= 500 || err.status === 0;
  return true;
}

function describeError(err: unknown, resource: string): string {
  if (err instanceof GraphError && err.isAccessDenied) {
    const needs = resource === 'users' ? 'User.Read.All' : 'Files.ReadWrite.All';
    return `${err.status} ${err.code}: Graph refused the subscription; the app needs the ${needs} application permission (${err.message})`.slice(
      0,
      1000,
    );
  }
  return errorMessage(err);
}
