import { z } from 'zod';
import {
  AutoRemediationError,
  allowRule,
  disallowRule,
  parseGrace,
  setDailyCap,
} from '../../remediate/auto.ts';
import { describeStep, type RemovalPlan, type RemovalStep } from '../../remediate/plan.ts';
import { ReviewLinkError } from '../../remediate/review-links.ts';
import { loadPlan, PLAN_TTL_MS, savePlan } from '../../remediate/saved-plans.ts';
import {
  parseAssignments,
  planSettings,
  type SettingsChange,
  SettingsFixError,
  type SettingsPlan,
} from '../../remediate/settings.ts';
import {
  planForFinding,
  planForItem,
  planForPermission,
  planForRule,
  RemediationTargetError,
} from '../../remediate/targets.ts';
import { WriteAccessError } from '../../remediate/write-access.ts';
import type { AppContext } from '../context.ts';
import { fixSettingsAndReread, removeAndReread } from '../remediate.ts';
import { type CommandActor, type CommandContext, CommandError, defineCommand } from './types.ts';

/**
 * Commands of the remediation area (server/api/routes/remediation.ts), the same guard rails as
 * `drivewarden remediate`: a dry run lists exactly what would change and keeps the plan under
 * its id; applying names that id and executes exactly those steps, each re-checked against the
 * inventory (a permission changed since the dry run is skipped), then the inventory re-read
 * from Graph. Plus auto-remediation settings, review campaigns and the owners' decisions.
 */

export const scope = z.enum(['public', 'external']);
const settingValue = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.array(z.string()),
  z.record(z.string(), z.unknown()),
]);

export const remediationTarget = z
  .discriminatedUnion('kind', [
    z.object({
      kind: z.literal('permission'),
      permissionId: z.string().min(1).max(400),
      driveId: z.string().min(1).max(400).optional().describe('When the id is listed in several drives'),
    }),
    z.object({
      kind: z.literal('item'),
      itemId: z.string().min(1).max(400),
      driveId: z.string().min(1).max(400).optional(),
      scope: scope
        .default('public')
        .describe('public: Anyone links; external: also guests and outside people'),
      subtree: z.boolean().default(false).describe('Also every item below a folder'),
    }),
    z.object({
      kind: z.literal('finding'),
      findingId: z.number().int().positive(),
      scope: scope.default('external').describe('For item findings'),
    }),
    z.object({
      kind: z.literal('rule'),
      ruleId: z.string().min(1).max(200).describe('Every open alarm of the rule'),
      scope: scope.default('external').describe('For item findings'),
    }),
    z.object({
      kind: z.literal('settings'),
      set: z
        .record(z.string(), settingValue)
        .describe(
          'sharepointSettings properties and their values, e.g. {"sharingCapability": "existingExternalUserSharingOnly"}',
        ),
    }),
  ])
  .describe('What to remediate');

export const planInput = z.object({
  integrationId: z.string().min(1).max(200),
  target: remediationTarget,
});

export const applyInput = z.object({
  planId: z
    .string()
    .regex(/^[0-9a-f]{12}$/, 'must be the planId a dry run (POST /remediation/plan) gave')
    .describe('The plan of a dry run: exactly its actions are executed'),
});

/** A removal step as the API lists it. */
export interface ActionView extends RemovalStep {
  description: string;
}

export interface PlanView {
  planId: string;
  integrationId: string;
  kind: 'removal' | 'settings';
  origin: string;
  /** Permission removals (removal plans). */
  actions: ActionView[];
  /** Setting changes, before → after (settings plans). */
  changes: SettingsChange[];
  notes: string[];
  createdAt: string;
}

export const actorName = (actor: CommandActor) => `api:${actor.username}`;

/** Domain refusals → command refusals with a status. */
export function refusal(err: unknown): never {
  if (err instanceof CommandError) throw err;
  if (err instanceof RemediationTargetError) {
    const missing = /^no (live )?(permission|item|finding)/.test(err.message);
    throw new CommandError(missing ? 'not_found' : 'unprocessable', err.message, missing ? 404 : 422);
  }
  if (err instanceof SettingsFixError || err instanceof AutoRemediationError)
    throw new CommandError('invalid_request', err.message, 400);
  if (err instanceof WriteAccessError) throw new CommandError('graph_permission_missing', err.message, 422);
  if (err instanceof ReviewLinkError) throw new CommandError('review_link_refused', err.message, 403);
  throw err;
}

/** `{name: value}` → the CLI's `name=value` assignments, so both are checked by parseAssignments. */
function assignments(set: Record<string, z.infer<typeof settingValue>>): string[] {
  return Object.entries(set).map(([name, v]) => {
    const text = Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v);
    return `${name}=${text}`;
  });
}

async function removalPlan(app: AppContext, input: z.infer<typeof planInput>): Promise<RemovalPlan> {
  const db = app.store.db;
  const t = input.target;
  switch (t.kind) {
    case 'permission':
      return planForPermission(db, input.integrationId, t.permissionId, t.driveId);
    case 'item':
      return planForItem(db, input.integrationId, t.itemId, {
        scope: t.scope,
        subtree: t.subtree,
        driveId: t.driveId,
      });
    case 'finding':
      return planForFinding(db, input.integrationId, t.findingId, t.scope);
    case 'rule':
      return planForRule(db, input.integrationId, t.ruleId, t.scope);
    case 'settings':
      throw new Error('settings plans are read from Graph');
  }
}

function viewOf(kind: 'removal' | 'settings', plan: RemovalPlan | SettingsPlan, createdAt: string): PlanView {
  if (kind === 'removal') {
    const p = plan as RemovalPlan;
    return {
      planId: p.id,
      integrationId: p.integrationId,
      kind,
      origin: p.origin,
      actions: p.steps.map((s) => ({ ...s, description: describeStep(s) })),
      changes: [],
      notes: p.notes,
      createdAt,
    };
  }
  const p = plan as SettingsPlan;
  return {
    planId: p.id,
    integrationId: p.integrationId,
    kind,
    origin: 'settings',
    actions: [],
    changes: p.changes,
    notes: p.unchanged.map((u) => `${u}: already set`),
    createdAt,
  };
}

export async function requireIntegration(app: AppContext, id: string): Promise<void> {
  const row = await app.store.db
    .selectFrom('integrations')
    .select('id')
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new CommandError('not_found', `integration ${id} not found`, 404);
}

async function plan(
  { app, hooks, actor }: CommandContext,
  input: z.infer<typeof planInput>,
): Promise<PlanView> {
  await requireIntegration(app, input.integrationId);
  const now = new Date();
  try {
    if (input.target.kind === 'settings') {
      const desired = parseAssignments(assignments(input.target.set));
      const settings = await hooks.withSyncContext(input.integrationId, (ctx) =>
        planSettings(ctx.client, input.integrationId, desired),
      );
      await savePlan(
        app.store.db,
        app.store.dialect,
        { kind: 'settings', plan: settings },
        actorName(actor),
        now,
      );
      return viewOf('settings', settings, now.toISOString());
    }
    const removal = await removalPlan(app, input);
    await savePlan(
      app.store.db,
      app.store.dialect,
      { kind: 'removal', plan: removal },
      actorName(actor),
      now,
    );
    return viewOf('removal', removal, now.toISOString());
  } catch (err) {
    return refusal(err);
  }
}

export interface ActionResult {
  action: 'remove_permission' | 'update_tenant_settings';
  driveId: string | null;
  itemId: string | null;
  permissionId: string | null;
  itemPath: string | null;
  result: 'done' | 'already_gone' | 'skipped' | 'failed';
  httpStatus: number | null;
  requestId: string | null;
  error: string | null;
  trailId: number | null;
}

export interface ApplyView {
  planId: string;
  integrationId: string;
  results: ActionResult[];
  /** Settings plans: the values Graph answered after the change. */
  settingsAfter: Record<string, unknown> | null;
  /** Drives whose re-read failed (the inventory may lag until the next sync). */
  rereadErrors: Array<{ driveId: string | null; error: string }>;
  /** Permissions Graph said it removed that the re-read inventory still lists. */
  unconfirmed: string[];
}

async function apply(
  { app, hooks, actor }: CommandContext,
  input: z.infer<typeof applyInput>,
): Promise<ApplyView> {
  const saved = await loadPlan(app.store.db, input.planId);
  if (!saved)
    throw new CommandError(
      'not_found',
      `plan ${input.planId} not found: make a dry run first (POST /remediation/plan)`,
      404,
    );
  if (Date.now() - Date.parse(saved.createdAt) > PLAN_TTL_MS)
    throw new CommandError(
      'plan_expired',
      `plan ${input.planId} is from ${saved.createdAt}, more than a day ago: make the dry run again`,
      409,
    );
  const integrationId = saved.plan.integrationId;
  try {
    if (saved.kind === 'settings') {
      const out = await hooks.withSyncContext(integrationId, (ctx) =>
        fixSettingsAndReread(ctx, saved.plan, actorName(actor)),
      );
      hooks.changed(integrationId);
      return {
        planId: saved.plan.id,
        integrationId,
        results: [
          {
            action: 'update_tenant_settings',
            driveId: null,
            itemId: null,
            permissionId: null,
            itemPath: null,
            result: out.result,
            httpStatus: null,
            requestId: out.requestId,
            error: out.error,
            trailId: out.trailId,
          },
        ],
        settingsAfter: out.after,
        rereadErrors: out.rereadError ? [{ driveId: null, error: out.rereadError }] : [],
        unconfirmed: [],
      };
    }
    const plan = saved.plan;
    if (plan.steps.length === 0)
      return {
        planId: plan.id,
        integrationId,
        results: [],
        settingsAfter: null,
        rereadErrors: [],
        unconfirmed: [],
      };
    const run = await hooks.withSyncContext(integrationId, (ctx) =>
      removeAndReread(ctx, plan, actorName(actor)),
    );
    hooks.changed(integrationId);
    return {
      planId: plan.id,
      integrationId,
      results: run.outcomes.map((o) => ({
        action: 'remove_permission',
        driveId: o.step.driveId,
        itemId: o.step.itemId,
        permissionId: o.step.permissionId,
        itemPath: o.step.itemPath,
        result: o.result,
        httpStatus: o.httpStatus,
        requestId: o.requestId,
        error: o.error,
        trailId: o.trailId,
      })),
      settingsAfter: null,
      rereadErrors: run.rereadErrors,
      unconfirmed: run.unconfirmed,
    };
  } catch (err) {
    return refusal(err);
  }
}

export const autoAllowInput = z.object({
  integrationId: z.string().min(1).max(200),
  ruleId: z.string().min(1).max(200),
  grace: z
    .string()
    .max(20)
    .default('24h')
    .describe('How long the owner has to object (suppress): 24h, 30m, 2d, 0'),
  scope: scope.default('public').describe('For item findings'),
});

export const remediationCommands = {
  'remediation.plan': defineCommand({ role: 'admin', input: planInput, run: plan }),
  'remediation.apply': defineCommand({ role: 'admin', input: applyInput, run: apply }),

  'remediation.auto-allow': defineCommand({
    role: 'admin',
    input: autoAllowInput,
    async run({ app, actor }, input) {
      await requireIntegration(app, input.integrationId);
      try {
        const graceSeconds = parseGrace(input.grace);
        await allowRule(app.store.db, {
          integrationId: input.integrationId,
          ruleId: input.ruleId,
          graceSeconds,
          scope: input.scope,
          actor: actorName(actor),
          now: new Date(),
        });
        return { ruleId: input.ruleId, graceSeconds, scope: input.scope };
      } catch (err) {
        return refusal(err);
      }
    },
  }),

  'remediation.auto-disallow': defineCommand({
    role: 'admin',
    input: z.object({ integrationId: z.string().min(1).max(200), ruleId: z.string().min(1).max(200) }),
    async run({ app }, input) {
      const was = await disallowRule(app.store.db, input.integrationId, input.ruleId);
      if (!was) throw new CommandError('not_found', `${input.ruleId} is not allowed to auto-remediate`, 404);
      return { ruleId: input.ruleId };
    },
  }),

  'remediation.auto-cap': defineCommand({
    role: 'admin',
    input: z.object({
      integrationId: z.string().min(1).max(200),
      dailyCap: z
        .number()
        .int()
        .min(0)
        .max(100_000)
        .describe('Automatic removals per UTC day (0 stops them)'),
    }),
    async run({ app, actor }, input) {
      await requireIntegration(app, input.integrationId);
      await setDailyCap(app.store.db, input.integrationId, input.dailyCap, actorName(actor), new Date());
      return { dailyCap: input.dailyCap };
    },
  }),
};
