import { sql } from 'kysely';
import { z } from 'zod';
import { applyInput, autoAllowInput, planInput } from '../../../app/commands/remediation.ts';
import { reviewCreateInput, reviewScheduleInput } from '../../../app/commands/reviews.ts';
import { allowedRules, dailyCap, usedToday } from '../../../remediate/auto.ts';
import { listSchedules } from '../../../remediate/review-schedules.ts';
import { campaignReport, reportCsv } from '../../../remediate/reviews.ts';
import { decodeValue } from '../../../store/codec.ts';
import { actorOf } from '../access.ts';
import type { ApiDeps } from '../deps.ts';
import { notFound } from '../errors.ts';
import { afterCursor, listQuerySchema, orderByKeys, pageSchema, sortKeys, toPage } from '../pagination.ts';
import { csv } from '../schemas.ts';
import type { ZodApp } from '../zod-app.ts';

/**
 * Remediation: dry run (plan) and apply, the audit trail, auto-remediation settings and the
 * owners' access-review campaigns. Changes are commands run by the store's owner with the
 * guard rails of `drivewarden remediate`; reads go to the read-only db.
 */

const tags = ['remediation'];
const scope = z.enum(['public', 'external']);

const stepSchema = z.object({
  action: z.literal('remove_permission'),
  driveId: z.string(),
  itemId: z.string().describe('The item the permission is set on'),
  permissionId: z.string(),
  itemPath: z.string().nullable(),
  linkScope: z.string().nullable().describe('anonymous, organization, users… for links; null for a grant'),
  roles: z.array(z.string()),
  recipients: z.array(z.string()),
  reason: z.string(),
  description: z.string().describe('One line, as the CLI dry run prints it'),
});

const planSchema = z.object({
  planId: z.string().describe('Pass to POST /remediation/apply to execute exactly this plan'),
  integrationId: z.string(),
  kind: z.enum(['removal', 'settings']),
  origin: z.string(),
  actions: z.array(stepSchema).describe('Every permission removal the plan makes (nothing else changes)'),
  changes: z
    .array(z.object({ property: z.string(), before: z.unknown(), after: z.unknown() }))
    .describe('Settings plans: each property before → after'),
  notes: z.array(z.string()).describe('Targets the plan could not act on, and why'),
  createdAt: z.string(),
});

const resultSchema = z.object({
  action: z.enum(['remove_permission', 'update_tenant_settings']),
  driveId: z.string().nullable(),
  itemId: z.string().nullable(),
  permissionId: z.string().nullable(),
  itemPath: z.string().nullable(),
  result: z.enum(['done', 'already_gone', 'skipped', 'failed']),
  httpStatus: z.number().nullable(),
  requestId: z.string().nullable().describe("Graph's request-id"),
  error: z.string().nullable(),
  trailId: z.number().nullable(),
});

const applySchema = z.object({
  planId: z.string(),
  integrationId: z.string(),
  results: z.array(resultSchema),
  settingsAfter: z.record(z.string(), z.unknown()).nullable(),
  rereadErrors: z.array(z.object({ driveId: z.string().nullable(), error: z.string() })),
  unconfirmed: z.array(z.string()).describe('Removed per Graph, still listed by the re-read inventory'),
});

const trailSchema = z.object({
  id: z.number(),
  integrationId: z.string(),
  planId: z.string(),
  action: z.string(),
  origin: z.string(),
  driveId: z.string().nullable(),
  itemId: z.string().nullable(),
  permissionId: z.string().nullable(),
  itemPath: z.string().nullable(),
  reason: z.string(),
  before: z.unknown(),
  after: z.unknown(),
  actor: z.string().describe('api:<user>, cli:<user>, auto:<rule>, review:<owner>'),
  requestedAt: z.string(),
  finishedAt: z.string(),
  result: z.string(),
  httpStatus: z.number().nullable(),
  requestId: z.string().nullable(),
  error: z.string().nullable(),
});

const campaignSchema = z.object({
  id: z.number(),
  integrationId: z.string(),
  name: z.string(),
  origin: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string(),
  total: z.number(),
  answered: z.number(),
  kept: z.number(),
  revoked: z.number(),
  unanswered: z.number(),
  escalated: z.number().describe("Items whose owner's unanswered items went to the manager or the admins"),
});

const autoSchema = z.object({
  rules: z.array(
    z.object({
      ruleId: z.string(),
      graceSeconds: z.number(),
      scope,
      createdAt: z.string(),
      createdBy: z.string(),
    }),
  ),
  dailyCap: z.number(),
  usedToday: z.number(),
});

const iso = (v: unknown): string => (v instanceof Date ? v.toISOString() : String(v));
const integrationQuery = z.object({ integrationId: z.string().min(1).max(200) });

export async function remediationRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  app.post(
    '/remediation/plan',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Dry run: exactly what would change (nothing changes); the plan is kept under its id',
        body: planInput,
        response: { 200: planSchema },
      },
    },
    async (req) => deps.commands.run('remediation.plan', req.body, actorOf(req)),
  );

  app.post(
    '/remediation/apply',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Execute a dry run's plan: only its actions, each re-checked first; the inventory re-read",
        body: applyInput,
        response: { 200: applySchema },
      },
    },
    async (req) => deps.commands.run('remediation.apply', req.body, actorOf(req)),
  );

  app.get(
    '/remediation/actions',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'The audit trail, newest first: who, when, what, before/after, Graph request id, result',
        querystring: listQuerySchema.extend({
          integrationId: z.string().min(1).max(200).optional(),
          planId: z.string().min(1).max(64).optional(),
          permissionId: z.string().min(1).max(400).optional(),
          result: csv(['done', 'already_gone', 'skipped', 'failed']).optional(),
        }),
        response: { 200: pageSchema(trailSchema) },
      },
    },
    async (req) => {
      const { limit, cursor, sort, integrationId, planId, permissionId, result } = req.query;
      const { keys } = sortKeys(sort, { id: sql`id` }, '-id', []);
      let q = db.selectFrom('remediation_actions').selectAll();
      if (integrationId) q = q.where('integration_id', '=', integrationId);
      if (planId) q = q.where('plan_id', '=', planId);
      if (permissionId) q = q.where('permission_id', '=', permissionId);
      if (result?.length) q = q.where('result', 'in', result);
      if (cursor) q = q.where(afterCursor(keys, cursor));
      const rows = await q
        .orderBy(orderByKeys(keys))
        .limit(limit + 1)
        .execute();
      const items = rows.map((r) => ({
        id: Number(r.id),
        integrationId: r.integration_id,
        planId: r.plan_id,
        action: r.action,
        origin: r.origin,
        driveId: r.drive_id,
        itemId: r.item_id,
        permissionId: r.permission_id,
        itemPath: r.item_path,
        reason: r.reason,
        before: decodeValue('json', r.before),
        after: decodeValue('json', r.after),
        actor: r.actor,
        requestedAt: iso(r.requested_at),
        finishedAt: iso(r.finished_at),
        result: r.result,
        httpStatus: r.http_status === null ? null : Number(r.http_status),
        requestId: r.request_id,
        error: r.error,
      }));
      return toPage(items, limit, (r) => [r.id]);
    },
  );

  app.get(
    '/remediation/auto',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: "Auto-remediation of an integration: the allowed rules, the daily cap, today's use",
        querystring: integrationQuery,
        response: { 200: autoSchema },
      },
    },
    async (req) => {
      const { integrationId } = req.query;
      return {
        rules: await allowedRules(db, integrationId),
        dailyCap: await dailyCap(db, integrationId),
        usedToday: await usedToday(db, integrationId, now()),
      };
    },
  );

  app.put(
    '/remediation/auto/rules/:ruleId',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Let a rule's open alarms be remediated on their own after the grace period",
        params: z.object({ ruleId: z.string().min(1).max(200) }),
        body: autoAllowInput.omit({ ruleId: true }),
        response: { 200: z.object({ ruleId: z.string(), graceSeconds: z.number(), scope }) },
      },
    },
    async (req) =>
      deps.commands.run('remediation.auto-allow', { ...req.body, ruleId: req.params.ruleId }, actorOf(req)),
  );

  app.delete(
    '/remediation/auto/rules/:ruleId',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Stop a rule remediating on its own',
        params: z.object({ ruleId: z.string().min(1).max(200) }),
        querystring: integrationQuery,
        response: { 200: z.object({ ruleId: z.string() }) },
      },
    },
    async (req) =>
      deps.commands.run(
        'remediation.auto-disallow',
        {
          integrationId: req.query.integrationId,
          ruleId: req.params.ruleId,
        },
        actorOf(req),
      ),
  );

  app.put(
    '/remediation/auto/cap',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'At most this many automatic removals per integration per UTC day (0 stops them)',
        body: z.object({
          integrationId: z.string().min(1).max(200),
          dailyCap: z.number().int().min(0).max(100_000),
        }),
        response: { 200: z.object({ dailyCap: z.number() }) },
      },
    },
    async (req) => deps.commands.run('remediation.auto-cap', req.body, actorOf(req)),
  );

  /** Per campaign: items, kept, revoked, escalated (one grouped read of the page's campaigns). */
  type Counts = { total: number; kept: number; revoked: number; escalated: number };
  const counts = async (ids: number[]) => {
    if (ids.length === 0) return new Map<number, Counts>();
    const rows = await db
      .selectFrom('review_items as i')
      .select((eb) => [
        'i.campaign_id',
        eb.fn.countAll<number>().as('total'),
        sql<number>`sum(case when i.decision = 'keep' then 1 else 0 end)`.as('kept'),
        sql<number>`sum(case when i.decision = 'revoke' then 1 else 0 end)`.as('revoked'),
        // As in the report: an item counts once its owner was escalated (manager or admins).
        sql<number>`sum(case when exists (select 1 from review_notices n where n.campaign_id = i.campaign_id
          and n.owner_email = i.owner_email and n.step <> 'owner') then 1 else 0 end)`.as('escalated'),
      ])
      .where('i.campaign_id', 'in', ids)
      .groupBy('i.campaign_id')
      .execute();
    return new Map(
      rows.map((r) => [
        Number(r.campaign_id),
        {
          total: Number(r.total),
          kept: Number(r.kept ?? 0),
          revoked: Number(r.revoked ?? 0),
          escalated: Number(r.escalated ?? 0),
        },
      ]),
    );
  };

  app.get(
    '/remediation/reviews',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: 'Access-review campaigns, newest first, with their answers so far',
        querystring: listQuerySchema.extend({ integrationId: z.string().min(1).max(200).optional() }),
        response: { 200: pageSchema(campaignSchema) },
      },
    },
    async (req) => {
      const { limit, cursor, sort, integrationId } = req.query;
      const { keys } = sortKeys(sort, { id: sql`id` }, '-id', []);
      let q = db.selectFrom('review_campaigns').selectAll();
      if (integrationId) q = q.where('integration_id', '=', integrationId);
      if (cursor) q = q.where(afterCursor(keys, cursor));
      const rows = await q
        .orderBy(orderByKeys(keys))
        .limit(limit + 1)
        .execute();
      const byCampaign = await counts(rows.map((r) => Number(r.id)));
      const items = rows.map((r) => {
        const c = byCampaign.get(Number(r.id)) ?? { total: 0, kept: 0, revoked: 0, escalated: 0 };
        return {
          id: Number(r.id),
          integrationId: r.integration_id,
          name: r.name,
          origin: r.origin,
          createdAt: iso(r.created_at),
          createdBy: r.created_by,
          expiresAt: iso(r.expires_at),
          total: c.total,
          answered: c.kept + c.revoked,
          kept: c.kept,
          revoked: c.revoked,
          unanswered: c.total - c.kept - c.revoked,
          escalated: c.escalated,
        };
      });
      return toPage(items, limit, (r) => [r.id]);
    },
  );

  app.get(
    '/remediation/reviews/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags,
        summary: "A campaign's report: every grant with its owner's decision (format=csv for a download)",
        params: z.object({ id: z.coerce.number().int().positive() }),
        querystring: z.object({ format: z.enum(['json', 'csv']).default('json') }),
      },
    },
    async (req, reply) => {
      const campaign = await db
        .selectFrom('review_campaigns')
        .selectAll()
        .where('id', '=', req.params.id)
        .executeTakeFirst();
      if (!campaign) throw notFound(`campaign ${req.params.id}`);
      const report = await campaignReport(db, req.params.id);
      if (req.query.format === 'csv')
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="campaign-${req.params.id}.csv"`)
          .send(reportCsv(report));
      return {
        id: Number(campaign.id),
        integrationId: campaign.integration_id,
        name: campaign.name,
        origin: campaign.origin,
        createdAt: iso(campaign.created_at),
        createdBy: campaign.created_by,
        expiresAt: iso(campaign.expires_at),
        ...report,
      };
    },
  );

  app.post(
    '/remediation/reviews',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "A campaign over a rule's open alarms: one signed, expiring, single-use link per owner",
        body: reviewCreateInput,
        response: {
          201: z.object({
            campaignId: z.number(),
            links: z
              .array(z.object({ owner: z.string(), items: z.number(), url: z.string() }))
              .describe('Shown this once: each link goes to its owner only'),
            notes: z.array(z.string()),
            sent: z
              .array(
                z.object({
                  owner: z.string(),
                  ok: z.boolean(),
                  via: z.enum(['email', 'slack', 'teams']).nullable(),
                  status: z.number().nullable(),
                  error: z.string().nullable(),
                  note: z
                    .string()
                    .nullable()
                    .describe('E.g. no Slack account for the address: sent by e-mail'),
                }),
              )
              .nullable()
              .describe('With channel or teams: how each owner was reached, or why not'),
          }),
        },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await deps.commands.run('remediation.review-create', req.body, actorOf(req))),
  );

  const scheduleSchema = z.object({
    id: z.number(),
    integrationId: z.string(),
    name: z.string(),
    source: z.object({
      kind: z.enum(['rule', 'query']),
      id: z.string(),
      params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    }),
    scope,
    every: z.string(),
    expiresDays: z.number(),
    escalateAfterDays: z.number().nullable(),
    delivery: z
      .object({
        channel: z.string().optional(),
        teams: z.boolean().optional(),
        fallbackChannel: z.string().optional(),
      })
      .nullable(),
    escalationChannel: z.string().nullable(),
    baseUrl: z.string().nullable(),
    nextRunAt: z.string().describe('Stored: the service launches it once then, even across restarts'),
    lastRunAt: z.string().nullable(),
    lastCampaignId: z.number().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    createdBy: z.string(),
  });

  app.get(
    '/remediation/review-schedules',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Scheduled access-review campaigns and their next run',
        querystring: z.object({ integrationId: z.string().min(1).max(200).optional() }),
        response: { 200: z.object({ items: z.array(scheduleSchema) }) },
      },
    },
    async (req) => ({ items: await listSchedules(db, req.query.integrationId) }),
  );

  app.post(
    '/remediation/review-schedules',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'A campaign launched once per period by the service (e.g. outside shares, each quarter)',
        body: reviewScheduleInput,
        response: { 201: scheduleSchema },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(await deps.commands.run('remediation.review-schedule-add', req.body, actorOf(req))),
  );

  app.delete(
    '/remediation/review-schedules/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Stop a scheduled campaign (campaigns already launched stay)',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 200: z.object({ id: z.number(), name: z.string() }) },
      },
    },
    async (req) =>
      deps.commands.run('remediation.review-schedule-remove', { id: req.params.id }, actorOf(req)),
  );
}
