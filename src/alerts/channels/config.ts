import { z } from 'zod';
import { maskUrl } from '../mask.ts';

/**
 * Each channel kind's configuration: validated when a channel is added, sealed as JSON in
 * alert_channels.config_enc (every field may be a secret: URLs of Slack and Teams carry
 * their credential).
 */

const httpUrl = z
  .string()
  .url('must be a URL')
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http or https URL');

const address = z.string().email('must be an e-mail address');

/** Headers drivewarden sets itself; a custom header may not replace them. */
const RESERVED_HEADERS = [
  'content-type',
  'content-length',
  'host',
  'user-agent',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
];

const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/** Custom headers: valid names, none that drivewarden sets itself, values without line breaks. */
const customHeaders = z.record(z.string(), z.string()).superRefine((headers, ctx) => {
  for (const [name, value] of Object.entries(headers)) {
    const problem = !HEADER_NAME.test(name)
      ? 'is not a valid header name'
      : RESERVED_HEADERS.includes(name.toLowerCase())
        ? 'is set by drivewarden itself'
        : /[\r\n]/.test(value)
          ? 'must be one line'
          : null;
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
  }
});

/**
 * Slack: an incoming webhook `url` (alerts to one channel) and/or a `botToken` (xoxb-…, scopes
 * users:read.email and chat:write) for access-review messages sent to each owner directly;
 * `apiUrl` replaces https://slack.com/api/ (a proxy, or a test server).
 */
export const slackConfig = z
  .strictObject({
    url: httpUrl.optional(),
    botToken: z
      .string()
      .regex(/^xoxb-[A-Za-z0-9-]+$/, 'must be a bot token (xoxb-…)')
      .optional(),
    apiUrl: httpUrl.optional(),
  })
  .refine((c) => c.url !== undefined || c.botToken !== undefined, {
    message: 'needs a webhook url (alerts) or a botToken (review messages), or both',
    path: ['url'],
  });
export const teamsConfig = z.strictObject({ url: httpUrl });

export const emailConfig = z
  .strictObject({
    host: z.string().min(1, 'is required'),
    port: z.number().int().min(1).max(65535),
    /** starttls: upgrade required (587); tls: TLS from the first byte (465); none: plain (tests, relays). */
    security: z.enum(['starttls', 'tls', 'none']),
    user: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    from: address,
    to: z.array(address).min(1, 'needs at least one recipient'),
    /** Extra CA certificate (PEM) to trust for the SMTP server. */
    caPem: z.string().optional(),
  })
  .refine((c) => (c.user === undefined) === (c.password === undefined), {
    message: 'user and password go together',
    path: ['password'],
  });

/** Standard Webhooks secret: `whsec_` + base64 of 24 to 64 random bytes. */
export const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{32,88}={0,2}$/;

export const webhookConfig = z.strictObject({
  url: httpUrl,
  secret: z.string().regex(WEBHOOK_SECRET, 'must be whsec_ followed by base64 of 24 to 64 bytes'),
  headers: customHeaders.default({}),
});

export type SlackConfig = z.infer<typeof slackConfig>;
export type TeamsConfig = z.infer<typeof teamsConfig>;
export type EmailConfig = z.infer<typeof emailConfig>;
export type WebhookConfig = z.infer<typeof webhookConfig>;

export const channelConfigs = {
  slack: slackConfig,
  teams: teamsConfig,
  email: emailConfig,
  webhook: webhookConfig,
} as const;

export type ChannelKind = keyof typeof channelConfigs;
export const CHANNEL_KINDS = Object.keys(channelConfigs) as ChannelKind[];

export type ChannelConfig =
  | { kind: 'slack'; config: SlackConfig }
  | { kind: 'teams'; config: TeamsConfig }
  | { kind: 'email'; config: EmailConfig }
  | { kind: 'webhook'; config: WebhookConfig };

/** Validates a kind's configuration; the error names every bad field. */
export function parseChannelConfig(kind: string, input: unknown): ChannelConfig {
  if (!(kind in channelConfigs))
    throw new Error(`unknown channel type "${kind}" (one of ${CHANNEL_KINDS.join(', ')})`);
  const parsed = channelConfigs[kind as ChannelKind].safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || kind}: ${i.message}`);
    throw new Error(`invalid ${kind} channel: ${problems.join('; ')}`);
  }
  return { kind, config: parsed.data } as ChannelConfig;
}

/** What a channel points at, for lists and logs: never a full URL or a secret. */
export function describeTarget(channel: ChannelConfig): string {
  switch (channel.kind) {
    case 'slack': {
      const c = channel.config;
      const parts = [c.url ? maskUrl(c.url) : null, c.botToken ? 'bot token (direct messages)' : null];
      return parts.filter(Boolean).join(' + ');
    }
    case 'teams':
      return maskUrl(channel.config.url);
    case 'webhook': {
      const n = Object.keys(channel.config.headers).length;
      return `${maskUrl(channel.config.url)} (signed${n ? `, ${n} custom header${n > 1 ? 's' : ''}` : ''})`;
    }
    case 'email': {
      const c = channel.config;
      const auth = c.user ? `${c.user}@` : '';
      return `smtp://${auth}${c.host}:${c.port} (${c.security}) → ${c.to.join(', ')}`;
    }
  }
}
