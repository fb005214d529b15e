import { z } from 'zod';
import { QueryError } from '../../query/run-query.ts';
import { SavedQueries } from '../../query/saved-queries.ts';
import { AutoRemediationError, parseGrace } from '../../remediate/auto.ts';
import {
  addSchedule,
  type ReviewSchedule,
  ReviewScheduleError,
  removeSchedule,
} from '../../remediate/review-schedules.ts';
import { type CampaignSettings, createCampaign, type ReviewDelivery } from '../../remediate/reviews.ts';
import { planForRule } from '../../remediate/targets.ts';
import { withAlerts } from '../alerts.ts';
import type { AppContext } from '../context.ts';
import { answerReview } from '../remediate.ts';
import { linkUrl, planForSavedQuery, reviewBaseUrl, sendOwnerLinks } from '../review-campaigns.ts';
import { openReviewSender } from '../review-delivery.ts';
import { reviewLinkKey } from '../review-key.ts';
import { actorName, refusal, requireIntegration, scope } from './remediation.ts';
import { CommandError, defineCommand } from './types.ts';

/**
 * Access reviews by owners: campaigns over a rule's alarms or a saved query's rows, scheduled
 * campaigns, and the owners' decisions from the review page.
 */

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

export const reviewCommands = {
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
          reviewLinkKey(app.config.dataDir, app.config.reviewLinksKey),
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
          reviewLinkKey(app.config.dataDir, app.config.reviewLinksKey),
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
