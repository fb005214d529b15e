import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { z } from 'zod';
import type { ChannelInfo } from '../../alerts/channel-repo.ts';
import { testChannel } from '../../alerts/channel-test.ts';
import { type ChannelConfig, type ChannelKind, channelConfigs } from '../../alerts/channels/config.ts';
import { OutboundRefusedError } from '../../alerts/outbound-guard.ts';
import type { Policy } from '../../alerts/policy-repo.ts';
import { quietHoursSchema, rateLimitSchema } from '../../alerts/policy-schema.ts';
import { type Alerts, loadRuleInfo, savedQueryExists, withAlerts } from '../alerts.ts';
import type { AppContext } from '../context.ts';
import { CommandError, defineCommand } from './types.ts';

/**
 * Commands of the alerts area (server/api/routes/alerts.ts): channels added (validated per
 * kind like `drivewarden channels add`, the outbound guard applied), tested and removed;
 * policies added and removed (like `drivewarden alerts policies`).
 */

export const CHANNEL_KIND_VALUES = ['slack', 'teams', 'email', 'webhook'] as const;
const DEFAULT_SMTP_PORT: Record<string, number> = { starttls: 587, tls: 465, none: 25 };

/**
 * The repositories throw plain errors with a message for people; the ones a caller can act
 * on become refusals with a status (missing → 404, a name taken or a channel in use → 409).
 */
export function refusalOf(err: unknown): never {
  if (err instanceof CommandError) throw err;
  if (err instanceof OutboundRefusedError) throw new CommandError('outbound_refused', err.message, 400);
  const message = err instanceof Error ? err.message : String(err);
  if (/^no (channel|alert policy|integration) /.test(message))
    throw new CommandError('not_found', message, 404);
  if (/already exists|is used by the policies/.test(message))
    throw new CommandError('conflict', message, 409);
  if (err instanceof Error && err.constructor === Error)
    throw new CommandError('invalid_request', message, 400);
  throw err;
}

export const channelAddInput = z.object({
  name: z.string().min(1).max(64).describe('Unique name (letters, digits, dots, dashes, underscores)'),
  kind: z.enum(CHANNEL_KIND_VALUES),
  config: z
    .record(z.string(), z.unknown())
    .describe(
      'slack/teams: {url}; webhook: {url, secret? (whsec_…, generated when absent), headers?}; ' +
        'email: {host, port?, security? (starttls|tls|none), user?, password?, from, to: [..], caPem?}',
    ),
});

/** The kind's configuration, validated by the same schemas as the CLI's; errors name `config.<field>`. */
function channelConfigOf(
  kind: ChannelKind,
  raw: Record<string, unknown>,
): { channel: ChannelConfig; generatedSecret?: string } {
  const input = { ...raw };
  let generatedSecret: string | undefined;
  if (kind === 'webhook' && input.secret === undefined) {
    generatedSecret = `whsec_${randomBytes(32).toString('base64')}`;
    input.secret = generatedSecret;
  }
  if (kind === 'email') {
    input.security ??= 'starttls';
    if (input.port === undefined && typeof input.security === 'string')
      input.port = DEFAULT_SMTP_PORT[input.security];
  }
  const parsed = channelConfigs[kind].safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `config${i.path.length ? `.${i.path.join('.')}` : ''}: ${i.message}`,
    );
    throw new CommandError('invalid_request', problems.join('; '), 400);
  }
  return { channel: { kind, config: parsed.data } as ChannelConfig, generatedSecret };
}

/** The outbound guard at the door: a literal address it refuses is refused now, not at the first alert. */
function checkTarget(alerts: Alerts, channel: ChannelConfig): void {
  if (channel.kind === 'email') {
    if (isIP(channel.config.host)) alerts.guard.checkAddress(channel.config.host);
    return;
  }
  if (channel.kind === 'slack') {
    if (channel.config.url) alerts.guard.checkUrl(channel.config.url);
    if (channel.config.apiUrl) alerts.guard.checkUrl(channel.config.apiUrl);
    return;
  }
  alerts.guard.checkUrl(channel.config.url);
}

export interface PolicyView {
  id: string;
  name: string;
  kind: string;
  channelIds: string[];
  filter: Record<string, unknown>;
  severity: string;
  digestThreshold: number;
  rateLimit: { max: number; perSeconds: number } | null;
  quietHours: { start: string; end: string; timeZone: string } | null;
  enabled: boolean;
  createdAt: string;
}

/** A policy as plain JSON (the parsed change condition stays behind: `filter.where` has its text). */
export function policyView(p: Policy): PolicyView {
  return {
    id: p.id,
    name: p.name,
    kind: p.kind,
    channelIds: p.channelIds,
    filter: p.filter as Record<string, unknown>,
    severity: p.severity,
    digestThreshold: p.digestThreshold,
    rateLimit: p.rateLimit,
    quietHours: p.quietHours,
    enabled: p.enabled,
    createdAt: p.createdAt,
  };
}

export const policyAddInput = z.object({
  name: z.string().min(1).max(64),
  kind: z
    .string()
    .min(1)
    .max(32)
    .describe('rule (finding events), change (inventory changes) or compliance (pack scores)'),
  channels: z.array(z.string().min(1)).min(1).describe('Channel names or ids'),
  filter: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "The kind's filter, e.g. rule: {events, rules, severities, minSeverity, tags, packs, integrations}",
    ),
  severity: z
    .enum(['info', 'low', 'medium', 'high', 'critical'])
    .optional()
    .describe('Of change and compliance alerts'),
  digestThreshold: z.number().int().min(2).optional(),
  rateLimit: rateLimitSchema.nullable().optional(),
  quietHours: quietHoursSchema.nullable().optional(),
});

const channelRef = z.object({ channel: z.string().min(1).max(200).describe('Channel id or name') });
const policyRef = z.object({ policy: z.string().min(1).max(200).describe('Policy id or name') });

const testOptions = (app: AppContext) => ({
  timeoutMs: app.config.alerts.timeoutMs,
  appUrl: app.config.alerts.webAppUrl ?? app.config.server.publicUrl ?? null,
});

export const alertsCommands = {
  'alerts.channel-add': defineCommand({
    role: 'admin',
    input: channelAddInput,
    async run({ app }, input): Promise<{ channel: ChannelInfo; secret?: string }> {
      const { channel, generatedSecret } = channelConfigOf(input.kind, input.config);
      return withAlerts(app, async (alerts) => {
        try {
          checkTarget(alerts, channel);
          const added = await alerts.channels.add(input.name, channel);
          return { channel: added, ...(generatedSecret ? { secret: generatedSecret } : {}) };
        } catch (err) {
          return refusalOf(err);
        }
      });
    },
  }),

  'alerts.channel-test': defineCommand({
    role: 'admin',
    input: channelRef,
    async run({ app }, input) {
      return withAlerts(app, (alerts) =>
        testChannel(alerts.channels, alerts.guard, input.channel, testOptions(app)).catch(refusalOf),
      );
    },
  }),

  'alerts.channel-remove': defineCommand({
    role: 'admin',
    input: channelRef,
    async run({ app }, input): Promise<ChannelInfo> {
      return withAlerts(app, (alerts) => alerts.channels.remove(input.channel).catch(refusalOf));
    },
  }),

  'alerts.policy-add': defineCommand({
    role: 'admin',
    input: policyAddInput,
    async run({ app, hooks }, input): Promise<PolicyView> {
      const known = await loadRuleInfo(app);
      const policy = await withAlerts(app, (alerts) =>
        alerts.policies
          .add(
            {
              name: input.name,
              kind: input.kind as Policy['kind'],
              channels: input.channels,
              filter: input.filter,
              severity: input.severity,
              digestThreshold: input.digestThreshold,
              rateLimit: input.rateLimit ?? null,
              quietHours: input.quietHours ?? null,
            },
            {
              ...(known.rules.size ? { ruleExists: (id: string) => known.rules.has(id) } : {}),
              packExists: (id: string) => known.packs.has(id),
              queryExists: (name: string) => savedQueryExists(app, name),
            },
          )
          .catch(refusalOf),
      );
      hooks.changed();
      return policyView(policy);
    },
  }),

  'alerts.policy-remove': defineCommand({
    role: 'admin',
    input: policyRef,
    async run({ app }, input): Promise<PolicyView> {
      return withAlerts(app, async (alerts) =>
        policyView(await alerts.policies.remove(input.policy).catch(refusalOf)),
      );
    },
  }),
};
