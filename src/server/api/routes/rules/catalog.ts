import { z } from 'zod';
import { loadCatalog } from '../../../../rules/catalog.ts';
import type { RuleDefinition } from '../../../../rules/definition.ts';
import { effectiveSetting, readSettings } from '../../../../rules/settings.ts';
import { actorOf } from '../../access.ts';
import type { ApiDeps } from '../../deps.ts';
import { ApiError, notFound } from '../../errors.ts';
import { decodeCursor, encodeCursor, listQuerySchema, pageSchema } from '../../pagination.ts';
import { csv, integrationFilter, severitySchema } from '../../schemas.ts';
import type { ZodApp } from '../../zod-app.ts';
import { loadPacksOnce, packsOfRule } from './packs-data.ts';

/** /rules: the catalog (built-in, folder and saved rules) with settings and open findings. */

const frameworkSchema = z.object({
  packId: z.string(),
  packTitle: z.string(),
  controlId: z.string(),
  controlTitle: z.string(),
});

const ruleSummary = z.object({
  id: z.string(),
  title: z.string(),
  severity: severitySchema,
  resourceType: z.string(),
  tags: z.array(z.string()),
  frameworks: z.array(frameworkSchema).describe('Pack controls this rule helps decide'),
  enabled: z
    .boolean()
    .describe(
      'For integrationId when given; else false only when the rule is disabled for every integration',
    ),
  disabledFor: z.array(z.string()).describe('Integrations the rule is disabled for'),
  openFindings: z.number().int(),
  source: z.enum(['builtin', 'folder', 'saved']).describe('Where the rule comes from'),
});

const parameterSchema = z.object({
  name: z.string(),
  type: z.enum(['integer', 'number', 'string', 'boolean', 'string_list']),
  description: z.string(),
  default: z.unknown(),
  min: z.number().optional(),
  max: z.number().optional(),
  value: z.unknown().describe('The value in effect for integrationId (the default when none is given)'),
});

const ruleDetail = ruleSummary.extend({
  description: z.string(),
  risk: z.string(),
  remediation: z.string(),
  requires: z.array(z.string()),
  sql: z.string(),
  yaml: z.string().nullable().describe('rule.yaml of a saved custom rule (for the editor); null otherwise'),
  parameters: z.array(parameterSchema),
  settings: z
    .array(
      z.object({
        integrationId: z.string(),
        enabled: z.boolean(),
        parameters: z.record(z.string(), z.unknown()),
      }),
    )
    .describe('Per integration: enabled and the parameter values in effect'),
  findings: z.object({ open: z.number().int(), suppressed: z.number().int(), resolved: z.number().int() }),
});

const ruleParams = z.object({ id: z.string().min(1).max(200) });

const parameterValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.string()), z.null()]);

async function integrationIds(deps: ApiDeps): Promise<string[]> {
  return (await deps.db.selectFrom('integrations').select('id').orderBy('name').execute()).map((r) => r.id);
}

/** rule id → integrations it is disabled for. */
async function disabledRules(deps: ApiDeps): Promise<Map<string, string[]>> {
  const rows = await deps.db
    .selectFrom('rule_settings')
    .select(['rule_id', 'integration_id', 'enabled'])
    .execute();
  const out = new Map<string, string[]>();
  for (const r of rows) if (!r.enabled) out.set(r.rule_id, [...(out.get(r.rule_id) ?? []), r.integration_id]);
  return out;
}

async function findingCounts(
  deps: ApiDeps,
  ruleId?: string,
  integrationId?: string,
): Promise<Map<string, Record<string, number>>> {
  let q = deps.db
    .selectFrom('findings')
    .select(['rule_id', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy(['rule_id', 'status']);
  if (ruleId) q = q.where('rule_id', '=', ruleId);
  if (integrationId) q = q.where('integration_id', '=', integrationId);
  const out = new Map<string, Record<string, number>>();
  for (const r of await q.execute()) out.set(r.rule_id, { ...out.get(r.rule_id), [r.status]: Number(r.n) });
  return out;
}

function summaryOf(
  rule: RuleDefinition,
  disabledFor: string[],
  integrations: string[],
  integrationId: string | undefined,
  open: number,
): z.infer<typeof ruleSummary> {
  const enabled = integrationId
    ? !disabledFor.includes(integrationId)
    : integrations.length === 0 || integrations.some((i) => !disabledFor.includes(i));
  return {
    id: rule.id,
    title: rule.title,
    severity: rule.severity,
    resourceType: rule.resource_type,
    tags: rule.tags,
    frameworks: packsOfRule(rule.id),
    enabled,
    disabledFor,
    openFindings: open,
    source: rule.origin,
  };
}

export async function catalogRoutes(app: ZodApp, deps: ApiDeps): Promise<void> {
  const rules = () => loadCatalog(deps.db, { folders: deps.config.rules.folders });

  app.get(
    '/rules',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['rules'],
        summary: 'Every rule with its state and open findings',
        querystring: listQuerySchema.extend({
          q: z.string().max(200).optional().describe('Part of the id, title or a tag'),
          severity: csv(['critical', 'high', 'medium', 'low', 'info']).optional(),
          pack: z.string().max(100).optional().describe('Only rules of this pack'),
          enabled: z.enum(['true', 'false']).optional(),
          source: csv(['builtin', 'folder', 'saved']).optional(),
          integrationId: integrationFilter,
        }),
        response: { 200: pageSchema(ruleSummary) },
      },
    },
    async (request) => {
      const query = request.query;
      if (query.sort !== undefined && query.sort !== 'id')
        throw new ApiError(400, 'invalid_request', `sort: "${query.sort}" is not one of id`);
      const [all, disabled, integrations, counts] = await Promise.all([
        rules(),
        disabledRules(deps),
        integrationIds(deps),
        findingCounts(deps, undefined, query.integrationId),
      ]);
      const packRules = query.pack ? packRuleIds(query.pack) : undefined;
      const q = query.q?.toLowerCase();
      const after = query.cursor ? String(decodeCursor(query.cursor, 1)[0]) : undefined;
      const matching = all
        .map((r) =>
          summaryOf(
            r,
            disabled.get(r.id) ?? [],
            integrations,
            query.integrationId,
            counts.get(r.id)?.open ?? 0,
          ),
        )
        .filter(
          (r) =>
            (!q ||
              r.id.includes(q) ||
              r.title.toLowerCase().includes(q) ||
              r.tags.some((t) => t.toLowerCase().includes(q))) &&
            (!query.severity?.length || query.severity.includes(r.severity)) &&
            (!packRules || packRules.has(r.id)) &&
            (!query.source?.length || query.source.includes(r.source)) &&
            (query.enabled === undefined || String(r.enabled) === query.enabled) &&
            (after === undefined || r.id > after),
        );
      // The catalog is files and a small table, sorted by id: pages are cut in memory, by id.
      const items = matching.slice(0, query.limit);
      const nextCursor = matching.length > query.limit ? encodeCursor([items[items.length - 1].id]) : null;
      return { items, nextCursor };
    },
  );

  app.get(
    '/rules/:id',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['rules'],
        summary: "A rule: its text, SQL, parameters (with an integration's values) and findings",
        params: ruleParams,
        querystring: z.object({ integrationId: integrationFilter }),
        response: { 200: ruleDetail },
      },
    },
    async (request) => {
      const rule = (await rules()).find((r) => r.id === request.params.id);
      if (!rule) throw notFound(`rule ${request.params.id}`);
      const { integrationId } = request.query;
      const integrations = await integrationIds(deps);
      const settings = [];
      for (const id of integrations) {
        const effective = effectiveSettingOrDefault(rule, (await readSettings(deps.db, id)).get(rule.id));
        settings.push({ integrationId: id, ...effective });
      }
      const mine = integrationId ? settings.find((s) => s.integrationId === integrationId) : undefined;
      if (integrationId && !mine) throw notFound(`integration ${integrationId}`);
      const counts = (await findingCounts(deps, rule.id, integrationId)).get(rule.id) ?? {};
      const saved =
        rule.origin === 'saved'
          ? await deps.db
              .selectFrom('custom_rules')
              .select('yaml')
              .where('id', '=', rule.id)
              .executeTakeFirst()
          : undefined;
      const disabledFor = settings.filter((s) => !s.enabled).map((s) => s.integrationId);
      return {
        ...summaryOf(rule, disabledFor, integrations, integrationId, counts.open ?? 0),
        description: rule.description.trim(),
        risk: rule.risk.trim(),
        remediation: rule.remediation.trim(),
        requires: rule.requires,
        sql: rule.sql,
        yaml: saved?.yaml ?? null,
        parameters: Object.entries(rule.parameters).map(([name, p]) => ({
          name,
          ...p,
          value: mine ? mine.parameters[name] : p.default,
        })),
        settings,
        findings: {
          open: counts.open ?? 0,
          suppressed: counts.suppressed ?? 0,
          resolved: counts.resolved ?? 0,
        },
      };
    },
  );

  app.patch(
    '/rules/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['rules'],
        summary: 'Enable, disable or set parameters of a rule (for one integration, or every one)',
        params: ruleParams,
        body: z
          .object({
            integrationId: z
              .string()
              .min(1)
              .max(200)
              .optional()
              .describe('Only this integration (default every one)'),
            enabled: z.boolean().optional(),
            parameters: z
              .record(z.string(), parameterValue)
              .optional()
              .describe('Values by parameter name, typed as the rule declares; null = back to the default'),
          })
          .refine((b) => b.enabled !== undefined || b.parameters !== undefined, {
            message: 'give enabled or parameters',
            path: ['enabled'],
          }),
        response: {
          200: z.object({
            ruleId: z.string(),
            settings: z.array(
              z.object({
                integrationId: z.string(),
                enabled: z.boolean(),
                parameters: z.record(z.string(), z.unknown()),
              }),
            ),
          }),
        },
      },
    },
    async (request) =>
      deps.commands.run('rules.update', { ruleId: request.params.id, ...request.body }, actorOf(request)),
  );

  app.post(
    '/rules/custom',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['rules'],
        summary: 'Save a custom rule (rule.yaml + rule.sql), validated and dry-run on the inventory first',
        description:
          'Answers 422 naming the problem: the YAML field, an undeclared parameter, an id clash, ' +
          "the guard's refusal of the SQL, or the row of the dry run that broke the rule's conventions.",
        body: z.object({
          yaml: z.string().min(1).max(100_000).describe('rule.yaml'),
          sql: z.string().min(1).max(100_000).describe('rule.sql'),
          replace: z.boolean().default(false).describe('Replace a saved rule of the same id'),
        }),
        response: {
          201: z.object({
            id: z.string(),
            replaced: z.boolean(),
            checks: z.array(
              z.object({
                integrationId: z.string().nullable(),
                ok: z.number(),
                alarm: z.number(),
                error: z.number(),
                samples: z.array(
                  z.object({
                    status: z.string(),
                    resourceId: z.string(),
                    resourceName: z.string().nullable(),
                    resourcePath: z.string().nullable(),
                    reason: z.string(),
                  }),
                ),
              }),
            ),
          }),
        },
      },
    },
    async (request, reply) => {
      const saved = await deps.commands.run('rules.saveCustom', request.body, actorOf(request));
      return reply.code(201).send(saved);
    },
  );

  app.delete(
    '/rules/custom/:id',
    {
      config: { access: 'admin' },
      schema: {
        tags: ['rules'],
        summary: 'Remove a saved custom rule (its findings stay)',
        params: ruleParams,
        response: { 200: z.object({ id: z.string() }) },
      },
    },
    async (request) =>
      deps.commands.run('rules.deleteCustom', { ruleId: request.params.id }, actorOf(request)),
  );
}

function effectiveSettingOrDefault(
  rule: RuleDefinition,
  stored: Parameters<typeof effectiveSetting>[1],
): { enabled: boolean; parameters: Record<string, unknown> } {
  try {
    const s = effectiveSetting(rule, stored);
    return { enabled: s.enabled, parameters: s.params };
  } catch {
    // Stored overrides the rule no longer accepts: shown as stored (the evaluation reports them).
    return { enabled: stored?.enabled ?? true, parameters: { ...stored?.overrides } };
  }
}

function packRuleIds(packId: string): Set<string> {
  const pack = loadPacksOnce().find((p) => p.id === packId);
  if (!pack) throw new ApiError(400, 'invalid_request', `pack: no pack "${packId}"`);
  return new Set(pack.controls.flatMap((c) => c.rules));
}
