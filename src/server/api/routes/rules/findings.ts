import { sql } from 'kysely';
import { z } from 'zod';
import { DETECTOR_IDS } from '../../../../anomalies/types.ts';
import { loadCatalog } from '../../../../rules/catalog.ts';
import { decodeValue } from '../../../../store/codec.ts';
import { actorOf } from '../../access.ts';
import type { ApiDeps } from '../../deps.ts';
import { ApiError, notFound } from '../../errors.ts';
import { afterCursor, listQuerySchema, orderByKeys, pageSchema, sortKeys, toPage } from '../../pagination.ts';
import { csv, integrationFilter, severitySchema } from '../../schemas.ts';
import type { ZodApp } from '../../zod-app.ts';
import { loadPacksOnce } from './packs-data.ts';

/** /findings: what the rules and the anomaly detectors found, with suppressions and history. */

const suppressionSchema = z.object({
  id: z.number().int(),
  reason: z.string(),
  actor: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  ruleWide: z.boolean().describe("True when a rule's suppression holds it, not one of this finding"),
});

const findingSchema = z.object({
  id: z.number().int(),
  ruleId: z.string(),
  ruleTitle: z.string(),
  source: z.enum(['rule', 'detector']).describe('A rule, or an anomaly detector (rule id = detector id)'),
  severity: severitySchema,
  status: z.enum(['open', 'resolved', 'suppressed']),
  result: z.enum(['alarm', 'error']).describe('alarm: a violation; error: the rule could not see its data'),
  integrationId: z.string(),
  resourceType: z.string(),
  resourceId: z.string(),
  driveId: z.string().nullable(),
  itemId: z.string().nullable(),
  resourceName: z.string().nullable(),
  resourcePath: z.string().nullable(),
  resourceOwner: z.string().nullable(),
  message: z.string().describe("The rule's reason"),
  firstSeenAt: z.string(),
  lastSeenAt: z.string(),
  resolvedAt: z.string().nullable(),
  suppression: suppressionSchema.nullable(),
});

const eventSchema = z.object({
  id: z.number().int(),
  at: z.string(),
  event: z.enum(['opened', 'resolved', 'reopened', 'suppressed', 'unsuppressed', 'changed']),
  result: z.string(),
  severity: z.string(),
  reason: z.string(),
  actor: z.string().nullable(),
});

const findingParams = z.object({ id: z.coerce.number().int().positive().describe('Finding id') });

const detectors: readonly string[] = DETECTOR_IDS;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** findings f left join suppressions s, as the API's rows. */
function findingsQuery(deps: ApiDeps) {
  return deps.db
    .selectFrom('findings as f')
    .leftJoin('suppressions as s', 's.id', 'f.suppression_id')
    .select([
      'f.id',
      'f.rule_id',
      'f.severity',
      'f.status',
      'f.result',
      'f.integration_id',
      'f.resource_type',
      'f.resource_id',
      'f.drive_id',
      'f.item_id',
      'f.resource_name',
      'f.resource_path',
      'f.resource_owner',
      'f.reason',
      'f.first_seen',
      'f.last_seen',
      'f.resolved_at',
      'f.details',
      's.id as s_id',
      's.reason as s_reason',
      's.actor as s_actor',
      's.created_at as s_created_at',
      's.expires_at as s_expires_at',
      's.finding_id as s_finding_id',
    ]);
}

type FindingRow = Awaited<ReturnType<ReturnType<typeof findingsQuery>['execute']>>[number];

function toFinding(r: FindingRow, titles: Map<string, string>): z.infer<typeof findingSchema> {
  const detector = detectors.includes(r.rule_id);
  return {
    id: Number(r.id),
    ruleId: r.rule_id,
    ruleTitle: titles.get(r.rule_id) ?? (detector ? `Anomaly: ${r.rule_id.replaceAll('_', ' ')}` : r.rule_id),
    source: detector ? 'detector' : 'rule',
    severity: r.severity as z.infer<typeof severitySchema>,
    status: r.status,
    result: r.result,
    integrationId: r.integration_id,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    driveId: r.drive_id,
    itemId: r.item_id,
    resourceName: r.resource_name,
    resourcePath: r.resource_path,
    resourceOwner: r.resource_owner,
    message: r.reason,
    firstSeenAt: r.first_seen,
    lastSeenAt: r.last_seen,
    resolvedAt: r.resolved_at,
    suppression:
      r.status === 'suppressed' && r.s_id !== null
        ? {
            id: Number(r.s_id),
            reason: r.s_reason ?? '',
            actor: r.s_actor ?? '',
            createdAt: r.s_created_at ?? '',
            expiresAt: r.s_expires_at ?? null,
            ruleWide: r.s_finding_id === null,
          }
        : null,
  };
}

const SEVERITY_RANK = sql<number>`case f.severity when 'critical' then 5 when 'high' then 4 when 'medium' then 3 when 'low' then 2 else 1 end`;

export async function findingsRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const titles = async () =>
    new Map((await loadCatalog(deps.db, { folders: deps.config.rules.folders })).map((r) => [r.id, r.title]));

  app.get(
    '/findings',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['findings'],
        summary: 'Findings of rules and anomaly detectors',
        querystring: listQuerySchema.extend({
          status: csv(['open', 'resolved', 'suppressed']).optional().describe('Default: every status'),
          severity: csv(['critical', 'high', 'medium', 'low', 'info']).optional(),
          ruleId: z.string().max(200).optional(),
          pack: z.string().max(100).optional().describe("Findings of the pack's rules"),
          integrationId: integrationFilter,
          q: z.string().max(400).optional().describe("Part of the resource's path, name or id"),
          source: z.enum(['rule', 'detector']).optional(),
          sort: z
            .string()
            .max(64)
            .optional()
            .describe('lastSeen, firstSeen, severity or id; - for descending (default -lastSeen)'),
        }),
        response: { 200: pageSchema(findingSchema) },
      },
    },
    async (request) => {
      const query = request.query;
      const { keys } = sortKeys(
        query.sort,
        { lastSeen: sql`f.last_seen`, firstSeen: sql`f.first_seen`, severity: SEVERITY_RANK, id: sql`f.id` },
        '-lastSeen',
        [sql`f.id`],
      );
      const sortName = (query.sort ?? '-lastSeen').replace(/^-/, '');
      if (sortName === 'id') keys.pop(); // the id needs no tie-breaker
      let q = findingsQuery(deps);
      if (query.status?.length) q = q.where('f.status', 'in', query.status);
      if (query.severity?.length) q = q.where('f.severity', 'in', query.severity);
      if (query.ruleId) q = q.where('f.rule_id', '=', query.ruleId);
      if (query.integrationId) q = q.where('f.integration_id', '=', query.integrationId);
      if (query.source === 'detector') q = q.where('f.rule_id', 'in', [...detectors]);
      if (query.source === 'rule') q = q.where('f.rule_id', 'not in', [...detectors]);
      if (query.pack) {
        const pack = loadPacksOnce().find((p) => p.id === query.pack);
        if (!pack) throw new ApiError(400, 'invalid_request', `pack: no pack "${query.pack}"`);
        const ids = [...new Set(pack.controls.flatMap((c) => c.rules))];
        q = ids.length ? q.where('f.rule_id', 'in', ids) : q.where(sql<boolean>`1 = 0`);
      }
      if (query.q) {
        const like = `%${escapeLike(query.q.toLowerCase())}%`;
        q = q.where(
          sql<boolean>`(lower(coalesce(f.resource_path, '')) like ${like} escape '\\'
            or lower(coalesce(f.resource_name, '')) like ${like} escape '\\'
            or lower(f.resource_id) like ${like} escape '\\')`,
        );
      }
      if (query.cursor) q = q.where(afterCursor(keys, query.cursor));
      const rows = await q
        .orderBy(orderByKeys(keys))
        .limit(query.limit + 1)
        .execute();
      const byTitle = await titles();
      const page = toPage(rows, query.limit, (r) =>
        [
          sortName === 'firstSeen'
            ? r.first_seen
            : sortName === 'severity'
              ? rankOf(r.severity)
              : sortName === 'id'
                ? Number(r.id)
                : r.last_seen,
          Number(r.id),
        ].slice(0, keys.length),
      );
      return { items: page.items.map((r) => toFinding(r, byTitle)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/findings/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['findings'],
        summary: 'A finding with every transition it went through and its evidence',
        params: findingParams,
        response: {
          200: findingSchema.extend({
            evidence: z
              .record(z.string(), z.unknown())
              .describe('Extra columns the rule or detector returned'),
            events: z.array(eventSchema),
          }),
        },
      },
    },
    async (request) => {
      const row = await findingsQuery(deps).where('f.id', '=', request.params.id).executeTakeFirst();
      if (!row) throw notFound(`finding ${request.params.id}`);
      const events = await deps.db
        .selectFrom('finding_events')
        .select(['id', 'at', 'event', 'result', 'severity', 'reason', 'actor'])
        .where('finding_id', '=', request.params.id)
        .orderBy('id')
        .execute();
      const evidence = (decodeValue('json', row.details) as Record<string, unknown> | null) ?? {};
      return {
        ...toFinding(row, await titles()),
        evidence,
        events: events.map((e) => ({ ...e, id: Number(e.id) })),
      };
    },
  );

  app.post(
    '/findings/:id/suppress',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['findings'],
        summary: 'Suppress a finding with a reason (and optionally until a time)',
        params: findingParams,
        body: z.object({
          reason: z.string().trim().min(1, 'a suppression needs a reason').max(2000),
          until: z.iso.datetime({ offset: true }).optional().describe('When the suppression ends (ISO 8601)'),
        }),
        response: {
          200: z.object({
            suppressionId: z.number().int(),
            findingId: z.number().int(),
            expiresAt: z.string().nullable(),
          }),
        },
      },
    },
    async (request) =>
      deps.commands.run(
        'rules.suppress',
        { findingId: request.params.id, ...request.body },
        actorOf(request),
      ),
  );

  app.delete(
    '/findings/:id/suppression',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['findings'],
        summary: "Lift the finding's own suppression (it opens again while the rule alarms)",
        params: findingParams,
        response: {
          200: z.object({
            findingId: z.number().int(),
            lifted: z.array(z.number().int()),
            unsuppressed: z.number().int(),
          }),
        },
      },
    },
    async (request) =>
      deps.commands.run('rules.unsuppress', { findingId: request.params.id }, actorOf(request)),
  );
}

function rankOf(severity: string): number {
  return { critical: 5, high: 4, medium: 3, low: 2 }[severity] ?? 1;
}
