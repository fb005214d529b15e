import { z } from 'zod';
import { findRule, RuleCatalogError } from '../../rules/catalog.ts';
import { removeCustomRule, saveCustomRuleTexts } from '../../rules/custom-rules.ts';
import { RuleValidationError } from '../../rules/definition.ts';
import { RuleRunError } from '../../rules/run-rule.ts';
import { readSettings, setRuleEnabled, setRuleParams } from '../../rules/settings.ts';
import { liftSuppression, SuppressionError, suppressFinding } from '../../rules/suppressions.ts';
import { appFileRules, appRules } from '../rules.ts';
import type { CommandContext } from './types.ts';
import { CommandError, defineCommand } from './types.ts';

/**
 * Commands of the rules area of the REST API (server/api/routes/rules.ts): rule settings,
 * custom rules and suppressions. Each wraps the function the CLI calls (cli/commands/rules.ts,
 * findings.ts) and tells the service that what rules read changed.
 */

/** Domain refusals as command errors: what people asked is wrong (422) or absent (404). */
async function refusing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof RuleValidationError || err instanceof RuleRunError)
      throw new CommandError('invalid_rule', err.message, 422);
    if (err instanceof RuleCatalogError) {
      const status = /^no (saved )?rule /.test(err.message) ? 404 : 422;
      throw new CommandError(status === 404 ? 'not_found' : 'invalid_rule', err.message, status);
    }
    if (err instanceof SuppressionError) {
      const status = /^no (finding|suppression) /.test(err.message) ? 404 : 422;
      throw new CommandError(status === 404 ? 'not_found' : 'invalid_suppression', err.message, status);
    }
    throw err;
  }
}

/** The integrations a setting applies to: the one named, or every one. */
async function targetIntegrations(ctx: CommandContext, integrationId: string | undefined): Promise<string[]> {
  const all = await ctx.app.integrations.list();
  if (integrationId === undefined) return all.map((i) => i.id);
  const found = all.find((i) => i.id === integrationId);
  if (!found) throw new CommandError('not_found', `integration ${integrationId} not found`, 404);
  return [found.id];
}

const parameterValue = z.union([z.number(), z.string(), z.boolean(), z.array(z.string()), z.null()]);

export const rulesCommands = {
  'rules.update': defineCommand({
    role: 'admin',
    input: z.object({
      ruleId: z.string().min(1),
      integrationId: z.string().min(1).optional(),
      enabled: z.boolean().optional(),
      /** Values by name; null puts a parameter back to its default. */
      parameters: z.record(z.string(), parameterValue).optional(),
    }),
    async run(ctx, input) {
      return refusing(async () => {
        const rule = findRule(await appRules(ctx.app), input.ruleId);
        const targets = await targetIntegrations(ctx, input.integrationId);
        if (targets.length === 0)
          throw new CommandError('conflict', 'no integration yet: settings are per integration', 409);
        const actor = ctx.actor.username;
        const set = Object.fromEntries(Object.entries(input.parameters ?? {}).filter(([, v]) => v !== null));
        const unset = Object.entries(input.parameters ?? {})
          .filter(([, v]) => v === null)
          .map(([k]) => k);
        const out: Array<{ integrationId: string; enabled: boolean; parameters: Record<string, unknown> }> =
          [];
        for (const integrationId of targets) {
          let params: Record<string, unknown> | undefined;
          if (input.parameters)
            params = await setRuleParams(ctx.app.store, integrationId, rule, { set, unset }, actor);
          if (input.enabled !== undefined)
            await setRuleEnabled(ctx.app.store, integrationId, rule, input.enabled, actor);
          const stored = (await readSettings(ctx.app.store.db, integrationId)).get(rule.id);
          out.push({
            integrationId,
            enabled: stored?.enabled ?? true,
            parameters: params ?? { ...stored?.overrides },
          });
          ctx.hooks.changed(integrationId);
        }
        return { ruleId: rule.id, settings: out };
      });
    },
  }),

  'rules.saveCustom': defineCommand({
    role: 'admin',
    input: z.object({ yaml: z.string().min(1), sql: z.string().min(1), replace: z.boolean().default(false) }),
    async run(ctx, input) {
      return refusing(async () => {
        const { rule, checks, replaced } = await saveCustomRuleTexts(
          ctx.app.store,
          { yaml: input.yaml, sql: input.sql },
          { actor: ctx.actor.username, fileRules: appFileRules(ctx.app), replace: input.replace },
        );
        ctx.hooks.changed();
        return {
          id: rule.id,
          replaced,
          checks: checks.map((c) => ({
            integrationId: c.integrationId,
            ok: c.ok,
            alarm: c.alarm,
            error: c.error,
            samples: c.samples.map((s) => ({
              status: s.status,
              resourceId: s.resource_id,
              resourceName: s.resource_name ?? null,
              resourcePath: s.resource_path ?? null,
              reason: s.reason,
            })),
          })),
        };
      });
    },
  }),

  'rules.deleteCustom': defineCommand({
    role: 'admin',
    input: z.object({ ruleId: z.string().min(1) }),
    async run(ctx, input) {
      return refusing(async () => {
        await removeCustomRule(ctx.app.store, input.ruleId, appFileRules(ctx.app));
        ctx.hooks.changed();
        return { id: input.ruleId };
      });
    },
  }),

  'rules.suppress': defineCommand({
    role: 'admin',
    input: z.object({
      findingId: z.number().int().positive(),
      reason: z.string().trim().min(1),
      until: z.string().optional(),
    }),
    async run(ctx, input) {
      return refusing(async () => {
        const s = await suppressFinding(ctx.app.store, input.findingId, {
          reason: input.reason,
          actor: ctx.actor.username,
          until: input.until,
        });
        if (s.integration_id) ctx.hooks.changed(s.integration_id);
        return { suppressionId: s.id, findingId: input.findingId, expiresAt: s.expires_at };
      });
    },
  }),

  'rules.unsuppress': defineCommand({
    role: 'admin',
    input: z.object({ findingId: z.number().int().positive() }),
    async run(ctx, input) {
      return refusing(async () => {
        const db = ctx.app.store.db;
        const finding = await db
          .selectFrom('findings')
          .select(['id', 'integration_id', 'suppression_id'])
          .where('id', '=', input.findingId)
          .executeTakeFirst();
        if (!finding) throw new CommandError('not_found', `finding ${input.findingId} not found`, 404);
        // The finding's own suppressions; a rule-wide one is lifted as such, not from one finding.
        const own = await db
          .selectFrom('suppressions')
          .select('id')
          .where('finding_id', '=', input.findingId)
          .where('lifted_at', 'is', null)
          .execute();
        if (own.length === 0) {
          const held = finding.suppression_id === null ? null : Number(finding.suppression_id);
          throw new CommandError(
            'conflict',
            held === null
              ? `finding ${input.findingId} is not suppressed`
              : `finding ${input.findingId} is held by the rule-wide suppression ${held}; lift that one (drivewarden findings unsuppress ${held})`,
            409,
          );
        }
        let unsuppressed = 0;
        for (const s of own)
          unsuppressed += (await liftSuppression(ctx.app.store, Number(s.id), ctx.actor.username))
            .unsuppressed;
        ctx.hooks.changed(finding.integration_id);
        return { findingId: input.findingId, lifted: own.map((s) => Number(s.id)), unsuppressed };
      });
    },
  }),
};
