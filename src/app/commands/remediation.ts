import { z } from 'zod';
import { QueryError } from '../../query/run-query.ts';
import { SavedQueries } from '../../query/saved-queries.ts';
import {
  AutoRemediationError,
  allowRule,
  disallowRule,
  parseGrace,
  setDailyCap,
} from '../../remediate/auto.ts';
import { describeStep, type RemovalPlan, type RemovalStep } from '../../remediate/plan.ts';
import { ReviewLinkError } from '../../remediate/review-links.ts';
import {
  addSchedule,
  type ReviewSchedule,
  ReviewScheduleError,
  removeSchedule,
} from '../../remediate/review-schedules.ts';
import { type CampaignSettings, createCampaign, type ReviewDelivery } from '../../remediate/reviews.ts';
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
import { withAlerts } from '../alerts.ts';
import type { AppContext } from '../context.ts';
import { answerReview, fixSettingsAndReread, removeAndReread } from '../remediate.ts';
import { linkUrl, planForSavedQuery, reviewBaseUrl, sendOwnerLinks } from '../review-campaigns.ts';
import { openReviewSender } from '../review-delivery.ts';
import { reviewLinkKey } from '../review-key.ts';
import { type CommandActor, type CommandContext, CommandError, defineCommand } from './types.ts';

/**
 * Commands of the remediation area (server/api/routes/remediation.ts), the same guard rails as
 * `drivewarden remediate`: a dry run lists exactly what would change and keeps the plan under
 * its id; applying names that id and executes exactly those steps, each re-checked against the
 * inventory (a permission changed since the dry run is skipped), then the inventory re-read
 * from Graph. Plus auto-remediation settings, review campaigns and the owners' decisions.
 */

const scope = z.enum(['public', 'external']);
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

const actorName = (actor: CommandActor) => `api:${actor.username}`;

/** Domain refusals → command refusals with a status. */
function refusal(err: unknown): never {
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

async function requireIntegration(app: AppContext, id: string): Promise<void> {
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

/** How a campaign reaches people and escalates (shared by campaigns and scheduled campaigns). */
export const reviewDeliveryInput = z.object({
  channel: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'An e-mail channel (each person gets their own link at their own address) or a Slack channel with a bot token (a direct message)',
    ),
  teams: z
    .boolean()
    .default(false)
    .describe(
      "A Teams activity notification through the integration's Graph app (TeamsActivity.Send) instead",
    ),
  fallbackChannel: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('An e-mail channel for people Slack or Teams cannot reach'),
  escalateAfterDays: z
    .number()
    .int()
    .min(0)
    .max(365)
    .default(7)
    .describe(
      "Unanswered items go to the owner's manager after this many days, then to the admins (0: never)",
    ),
  escalationChannel: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe(
      'The alert channel (any kind) the admins are told on when an owner and their manager did not answer',
    ),
});

export const reviewCreateInput = reviewDeliveryInput.extend({
  integrationId: z.string().min(1).max(200),
  ruleId: z.string().min(1).max(200).optional().describe("The campaign covers the rule's open alarms"),
  query: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Or a saved query whose rows name drive_id and item_id (or permission_id)'),
  params: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe("The saved query's parameters"),
  name: z.string().min(1).max(200).default('access review'),
  expires: z.string().max(20).default('14d').describe('How long the links work: 14d, 48h'),
  scope: scope.default('external').describe('For item findings and item rows'),
  baseUrl: z
    .string()
    .url()
    .optional()
    .describe(
      'Where drivewarden serves /review (default alerts.webAppUrl, server.publicUrl, then host:port)',
    ),
});

/** The delivery input checked against the channels: ids stored, refusals naming what is wrong. */
export async function resolveDelivery(
  app: AppContext,
  input: z.infer<typeof reviewDeliveryInput>,
): Promise<CampaignSettings> {
  return withAlerts(app, async (alerts) => {
    const find = async (field: string, ref: string) => {
      const info = await alerts.channels.get(ref);
      if (!info) throw new CommandError('not_found', `${field}: no channel "${ref}"`, 404);
      return { info, config: await alerts.channels.config(info.id) };
    };
    const delivery: ReviewDelivery = {};
    if (input.channel) {
      const { info, config } = await find('channel', input.channel);
      const slackBot = config?.kind === 'slack' && Boolean(config.config.botToken);
      if (config?.kind !== 'email' && !slackBot)
        throw new CommandError(
          'invalid_request',
          `channel: "${info.name}" is a ${info.kind} channel${info.kind === 'slack' ? ' without a bot token' : ''}; review links go to each person only: an e-mail channel or a Slack channel with a bot token`,
          400,
        );
      delivery.channel = info.id;
    }
    if (input.teams) delivery.teams = true;
    if (input.teams && input.channel)
      throw new CommandError('invalid_request', 'teams and channel: choose one way to reach people', 400);
    if (input.fallbackChannel) {
      const { info, config } = await find('fallbackChannel', input.fallbackChannel);
      if (config?.kind !== 'email')
        throw new CommandError(
          'invalid_request',
          `fallbackChannel: "${info.name}" is not an e-mail channel`,
          400,
        );
      delivery.fallbackChannel = info.id;
    }
    let escalationChannel: string | null = null;
    if (input.escalationChannel)
      escalationChannel = (await find('escalationChannel', input.escalationChannel)).info.id;
    return {
      escalateAfterDays: input.escalateAfterDays > 0 ? input.escalateAfterDays : null,
      delivery: delivery.channel || delivery.teams ? delivery : null,
      escalationChannel,
    };
  });
}

export const reviewScheduleInput = reviewDeliveryInput.extend({
  integrationId: z.string().min(1).max(200),
  name: z.string().min(1).max(100).describe('Campaigns are named after it and the launch date'),
  ruleId: z.string().min(1).max(200).optional().describe("Each campaign covers the rule's open alarms then"),
  query: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Or a saved query whose rows name drive_id and item_id (or permission_id)'),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  scope: scope.default('external'),
  every: z.string().min(1).max(20).describe('weekly, monthly, quarterly, yearly or <n>d'),
  expiresDays: z.number().int().min(1).max(365).default(14).describe('How long each campaign’s links work'),
  start: z.string().datetime().optional().describe('The first launch (default: at once)'),
  baseUrl: z.string().url().optional(),
});

/** A scheduled campaign stored (checked: the source named once, the period, the channels). */
export async function addReviewSchedule(
  app: AppContext,
  input: z.infer<typeof reviewScheduleInput>,
  createdBy: string,
): Promise<ReviewSchedule> {
  await requireIntegration(app, input.integrationId);
  if (Boolean(input.ruleId) === Boolean(input.query))
    throw new CommandError('invalid_request', 'name a ruleId or a saved query (one of them)', 400);
  if (input.query && !(await new SavedQueries(app.store).list()).some((q) => q.name === input.query))
    throw new CommandError('not_found', `no saved query "${input.query}"`, 404);
  const settings = await resolveDelivery(app, input);
  const now = new Date();
  try {
    return await addSchedule(
      app.store.db,
      app.store.dialect,
      {
        integrationId: input.integrationId,
        name: input.name,
        source: input.ruleId
          ? { kind: 'rule', id: input.ruleId, params: {} }
          : { kind: 'query', id: input.query as string, params: input.params },
        scope: input.scope,
        every: input.every,
        expiresDays: input.expiresDays,
        escalateAfterDays: settings.escalateAfterDays,
        delivery: settings.delivery,
        escalationChannel: settings.escalationChannel,
        baseUrl: input.baseUrl ?? null,
        nextRunAt: input.start ?? now.toISOString(),
        createdBy,
      },
      now,
    );
  } catch (err) {
    if (err instanceof ReviewScheduleError) throw new CommandError('invalid_request', err.message, 400);
    throw err;
  }
}

export const reviewDecideInput = z.object({
  token: z.string().min(1).max(4000),
  decisions: z
    .array(
      z.object({
        itemId: z.number().int().positive(),
        decision: z.enum(['keep', 'revoke']),
        justification: z.string().max(500).optional(),
      }),
    )
    .min(1),
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

  'remediation.review-create': defineCommand({
    role: 'admin',
    input: reviewCreateInput,
    async run({ app, actor, hooks }, input) {
      await requireIntegration(app, input.integrationId);
      const now = new Date();
      const base = reviewBaseUrl(app, input.baseUrl);
      try {
        if (Boolean(input.ruleId) === Boolean(input.query))
          throw new CommandError('invalid_request', 'name a ruleId or a saved query (one of them)', 400);
        const seconds = parseGrace(input.expires, 'expires');
        if (seconds <= 0) throw new AutoRemediationError('expires must be a positive duration');
        const settings = await resolveDelivery(app, input);
        const plan = input.ruleId
          ? await planForRule(app.store.db, input.integrationId, input.ruleId, input.scope)
          : await planForSavedQuery(
              app,
              input.integrationId,
              input.query as string,
              input.params ?? {},
              input.scope,
            );
        const campaign = await createCampaign(
          app.store.db,
          app.store.dialect,
          reviewLinkKey(app.config.dataDir),
          {
            integrationId: input.integrationId,
            name: input.name,
            plan,
            expiresAt: new Date(now.getTime() + seconds * 1000),
            actor: actorName(actor),
            now,
            settings,
          },
        );
        const links = campaign.links.map((l) => ({ ...l, url: linkUrl(base, l.token) }));
        let sent = null;
        if (settings.delivery) {
          const sender = openReviewSender(app, (id) => hooks.withSyncContext(id, async (ctx) => ctx.client));
          try {
            sent = await sendOwnerLinks(
              app,
              sender,
              {
                campaignId: campaign.campaignId,
                name: input.name,
                integrationId: input.integrationId,
                delivery: settings.delivery,
              },
              links,
            );
          } finally {
            await sender.close();
          }
        }
        return {
          campaignId: campaign.campaignId,
          links: links.map((l) => ({ owner: l.owner, items: l.items, url: l.url })),
          notes: campaign.notes,
          sent,
        };
      } catch (err) {
        if (err instanceof QueryError)
          throw new CommandError('invalid_request', `query: ${err.message}`, 400);
        return refusal(err);
      }
    },
  }),

  'remediation.review-schedule-add': defineCommand({
    role: 'admin',
    input: reviewScheduleInput,
    run: ({ app, actor }, input) => addReviewSchedule(app, input, actorName(actor)),
  }),

  'remediation.review-schedule-remove': defineCommand({
    role: 'admin',
    input: z.object({ id: z.string().min(1).max(100) }),
    async run({ app }, input) {
      const gone = await removeSchedule(app.store.db, input.id);
      if (!gone) throw new CommandError('not_found', `no scheduled campaign "${input.id}"`, 404);
      return { id: gone.id, name: gone.name };
    },
  }),

  /**
   * An owner's decisions from the review page (no account: the signed link is the credential,
   * checked here); the revoked grants are removed and re-read like any plan.
   */
  'remediation.review-decide': defineCommand({
    role: 'viewer',
    input: reviewDecideInput,
    async run({ app, hooks }, input) {
      try {
        const answer = await answerReview(
          app.store.db,
          reviewLinkKey(app.config.dataDir),
          (id, fn) => hooks.withSyncContext(id, fn),
          input.token,
          input.decisions,
          new Date(),
        );
        hooks.changed(answer.integrationId);
        return answer;
      } catch (err) {
        return refusal(err);
      }
    },
  }),
};
