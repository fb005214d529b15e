import { sql } from 'kysely';
import { z } from 'zod';
import { parsePolicy } from '../../../alerts/policy-repo.ts';
import {
  CHANNEL_KIND_VALUES,
  channelAddInput,
  policyAddInput,
  policyView,
} from '../../../app/commands/alerts.ts';
import { deliveryLogQuery } from '../../../queue/alert-outbox.ts';
import { actorOf } from '../access.ts';
import type { ApiDeps } from '../deps.ts';
import { notFound } from '../errors.ts';
import { afterCursor, listQuerySchema, orderByKeys, pageSchema, sortKeys, toPage } from '../pagination.ts';
import { csv } from '../schemas.ts';
import type { ZodApp } from '../zod-app.ts';

/**
 * Alerts: channels (targets masked, never a secret; add, send a test, remove), policies
 * (list, add, remove) and the delivery log. Reads go to the read-only db; changes are commands.
 */

const tags = ['alerts'];

const channelSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(CHANNEL_KIND_VALUES),
  target: z.string().describe('What it points at, masked: never the full URL or a secret'),
  createdAt: z.string(),
  updatedAt: z.string(),
});

const policySchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.string(),
  channelIds: z.array(z.string()),
  channels: z.array(z.string()).describe('Channel names (in the order of channelIds)'),
  filter: z.record(z.string(), z.unknown()),
  severity: z.string(),
  digestThreshold: z.number(),
  rateLimit: z.object({ max: z.number(), perSeconds: z.number() }).nullable(),
  quietHours: z.object({ start: z.string(), end: z.string(), timeZone: z.string() }).nullable(),
  enabled: z.boolean(),
  createdAt: z.string(),
});

const deliverySchema = z.object({
  id: z.number(),
  alertId: z.string(),
  policyId: z.string(),
  policy: z.string().describe('Policy name ("(removed …)" once removed)'),
  channelId: z.string(),
  channel: z.string(),
  kind: z.enum(['alert', 'digest']),
  title: z.string(),
  severity: z.string(),
  itemCount: z.number(),
  status: z.enum(['pending', 'delivered', 'dead']),
  attempts: z.number().describe('Attempts made (the delivering one included)'),
  lastError: z.string().nullable(),
  responseStatus: z.number().nullable().describe("The receiver's HTTP status or SMTP reply code"),
  latencyMs: z.number().nullable(),
  createdAt: z.string(),
  deliveredAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
});

const channelParams = z.object({ id: z.string().min(1).max(200).describe('Channel id or name') });
const policyParams = z.object({ id: z.string().min(1).max(200).describe('Policy id or name') });

export async function alertsRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const { db } = deps;

  /** A channel's or policy's id from its id or name (filters take either). */
  const idOf = async (table: 'alert_channels' | 'alert_policies', ref: string, what: string) => {
    const row = await db
      .selectFrom(table)
      .select('id')
      .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref)]))
      .executeTakeFirst();
    if (!row) throw notFound(`${what} "${ref}"`);
    return row.id;
  };

  app.get(
    '/alerts/channels',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Notification channels (targets masked)',
        querystring: listQuerySchema.extend({ kind: csv(CHANNEL_KIND_VALUES).optional() }),
        response: { 200: pageSchema(channelSchema) },
      },
    },
    async (req) => {
      const { limit, cursor, sort, kind } = req.query;
      const { keys } = sortKeys(sort, { name: sql`name` }, 'name', [sql`id`]);
      let q = db.selectFrom('alert_channels').selectAll();
      if (kind?.length) q = q.where('kind', 'in', kind);
      if (cursor) q = q.where(afterCursor(keys, cursor));
      const rows = await q
        .orderBy(orderByKeys(keys))
        .limit(limit + 1)
        .execute();
      return toPage(
        rows.map((r) => ({
          id: r.id,
          name: r.name,
          kind: r.kind,
          target: r.target,
          createdAt: r.created_at,
          updatedAt: r.updated_at,
        })),
        limit,
        (r) => [r.name, r.id],
      );
    },
  );

  app.post(
    '/alerts/channels',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Add a channel (validated per kind; the outbound guard applies)',
        body: channelAddInput,
        response: {
          201: z.object({
            channel: channelSchema,
            secret: z
              .string()
              .optional()
              .describe('webhook: the generated signing secret, shown this once (receivers verify with it)'),
          }),
        },
      },
    },
    async (req, reply) => {
      const added = await deps.commands.run('alerts.channel-add', req.body, actorOf(req));
      return reply.code(201).send(added);
    },
  );

  app.post(
    '/alerts/channels/:id/test',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Send a test alert to a channel now',
        params: channelParams,
        response: {
          200: z.object({
            ok: z.boolean(),
            status: z.number().nullable().describe("The receiver's HTTP status or SMTP reply code"),
            ms: z.number(),
            error: z.string().nullable(),
          }),
        },
      },
    },
    async (req) => deps.commands.run('alerts.channel-test', { channel: req.params.id }, actorOf(req)),
  );

  app.delete(
    '/alerts/channels/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Remove a channel no policy uses',
        params: channelParams,
        response: { 200: channelSchema },
      },
    },
    async (req) => deps.commands.run('alerts.channel-remove', { channel: req.params.id }, actorOf(req)),
  );

  const channelNames = async () =>
    new Map(
      (await db.selectFrom('alert_channels').select(['id', 'name']).execute()).map((c) => [c.id, c.name]),
    );

  app.get(
    '/alerts/policies',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Alert policies',
        querystring: listQuerySchema,
        response: { 200: pageSchema(policySchema) },
      },
    },
    async (req) => {
      const { limit, cursor, sort } = req.query;
      const { keys } = sortKeys(sort, { name: sql`name` }, 'name', [sql`id`]);
      let q = db.selectFrom('alert_policies').selectAll();
      if (cursor) q = q.where(afterCursor(keys, cursor));
      const rows = await q
        .orderBy(orderByKeys(keys))
        .limit(limit + 1)
        .execute();
      const names = await channelNames();
      const items = rows.map((r) => {
        const p = policyView(parsePolicy(r));
        return { ...p, channels: p.channelIds.map((id) => names.get(id) ?? id) };
      });
      return toPage(items, limit, (p) => [p.name, p.id]);
    },
  );

  app.post(
    '/alerts/policies',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Add a policy (it alerts on events from now on)',
        body: policyAddInput,
        response: { 201: policySchema },
      },
    },
    async (req, reply) => {
      const p = await deps.commands.run('alerts.policy-add', req.body, actorOf(req));
      const names = await channelNames();
      return reply.code(201).send({ ...p, channels: p.channelIds.map((id) => names.get(id) ?? id) });
    },
  );

  app.delete(
    '/alerts/policies/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Remove a policy (its delivery log stays)',
        params: policyParams,
        response: { 200: policySchema.omit({ channels: true }) },
      },
    },
    async (req) => deps.commands.run('alerts.policy-remove', { policy: req.params.id }, actorOf(req)),
  );

  app.get(
    '/alerts/deliveries',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'The delivery log, newest first: per alert and channel, status, attempts, last error',
        querystring: listQuerySchema.extend({
          status: csv(['pending', 'delivered', 'dead']).optional(),
          channel: z.string().min(1).max(200).optional().describe('Channel id or name'),
          policy: z.string().min(1).max(200).optional().describe('Policy id or name'),
        }),
        response: { 200: pageSchema(deliverySchema) },
      },
    },
    async (req) => {
      const { limit, cursor, sort, status, channel, policy } = req.query;
      const { keys } = sortKeys(sort, { id: sql`o.id` }, '-id', []);
      let q = deliveryLogQuery(db);
      if (status?.length) q = q.where('o.status', 'in', status);
      if (channel) q = q.where('o.channel_id', '=', await idOf('alert_channels', channel, 'channel'));
      if (policy) q = q.where('o.policy_id', '=', await idOf('alert_policies', policy, 'policy'));
      if (cursor) q = q.where(afterCursor(keys, cursor));
      const rows = await q
        .orderBy(orderByKeys(keys))
        .limit(limit + 1)
        .execute();
      const items = rows.map((r) => ({
        id: Number(r.id),
        alertId: r.alert_id,
        policyId: r.policy_id,
        policy: r.policy ?? `(removed ${r.policy_id.slice(0, 8)})`,
        channelId: r.channel_id,
        channel: r.channel ?? `(removed ${r.channel_id.slice(0, 8)})`,
        kind: r.kind,
        title: r.title,
        severity: r.severity,
        itemCount: Number(r.item_count),
        status: r.status,
        // The queue counts failed attempts; the log counts the delivering one too (as `alerts log`).
        attempts: Number(r.attempts) + (r.status === 'delivered' ? 1 : 0),
        lastError: r.last_error,
        responseStatus: r.response_status === null ? null : Number(r.response_status),
        latencyMs: r.latency_ms === null ? null : Number(r.latency_ms),
        createdAt: r.created_at,
        deliveredAt: r.delivered_at,
        nextAttemptAt: r.next_attempt_at,
      }));
      return toPage(items, limit, (r) => [r.id]);
    },
  );
}
