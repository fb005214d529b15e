import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { testChannel } from '../../alerts/channel-test.ts';
import { CHANNEL_KINDS, type ChannelConfig, parseChannelConfig } from '../../alerts/channels/config.ts';
import { withAlerts } from '../../app/alerts.ts';
import { withApp } from '../../app/context.ts';

interface AddOptions {
  type: string;
  url?: string;
  urlFile?: string;
  secretFile?: string;
  header: string[];
  smtpHost?: string;
  smtpPort?: string;
  smtpSecurity: string;
  smtpUser?: string;
  smtpPasswordFile?: string;
  from?: string;
  to: string[];
  caFile?: string;
}

const repeat = (v: string, acc: string[]) => [...acc, v];

function readSecretFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** `Name: value` → [name, value]. */
function header(text: string): [string, string] {
  const i = text.indexOf(':');
  if (i <= 0) throw new Error(`--header "${text}" must be "Name: value"`);
  return [text.slice(0, i).trim(), text.slice(i + 1).trim()];
}

const DEFAULT_SMTP_PORT: Record<string, number> = { starttls: 587, tls: 465, none: 25 };

/** The channel configuration from flags, files and DW_CHANNEL_URL / DW_WEBHOOK_SECRET / DW_SMTP_PASSWORD. */
function channelFromOptions(opts: AddOptions): { channel: ChannelConfig; generatedSecret?: string } {
  const url =
    opts.url ??
    (opts.urlFile ? readSecretFile(opts.urlFile, 'URL file') : undefined) ??
    process.env.DW_CHANNEL_URL;
  switch (opts.type) {
    case 'slack':
    case 'teams':
      return { channel: parseChannelConfig(opts.type, { url }) };
    case 'webhook': {
      const given = opts.secretFile
        ? readSecretFile(opts.secretFile, 'secret file')
        : process.env.DW_WEBHOOK_SECRET;
      const secret = given ?? `whsec_${randomBytes(32).toString('base64')}`;
      const headers = Object.fromEntries(opts.header.map(header));
      return {
        channel: parseChannelConfig('webhook', { url, secret, headers }),
        ...(given ? {} : { generatedSecret: secret }),
      };
    }
    case 'email': {
      const password = opts.smtpPasswordFile
        ? readSecretFile(opts.smtpPasswordFile, 'SMTP password file')
        : process.env.DW_SMTP_PASSWORD;
      return {
        channel: parseChannelConfig('email', {
          host: opts.smtpHost,
          port: opts.smtpPort ? Number(opts.smtpPort) : DEFAULT_SMTP_PORT[opts.smtpSecurity],
          security: opts.smtpSecurity,
          ...(opts.smtpUser ? { user: opts.smtpUser } : {}),
          ...(password ? { password } : {}),
          from: opts.from,
          to: opts.to,
          ...(opts.caFile ? { caPem: readSecretFile(opts.caFile, 'CA file') } : {}),
        }),
      };
    }
    default:
      throw new Error(`--type must be one of ${CHANNEL_KINDS.join(', ')}`);
  }
}

export function registerChannels(program: Command): void {
  const cmd = program
    .command('channels')
    .description('where alerts go: Slack, Microsoft Teams, e-mail, webhooks');

  cmd
    .command('add <name>')
    .description('add a channel; URLs and secrets are encrypted at rest and never shown again in full')
    .requiredOption('--type <type>', `one of ${CHANNEL_KINDS.join(', ')}`)
    .option('--url <url>', 'webhook URL (it is a credential: prefer --url-file or DW_CHANNEL_URL)')
    .option('--url-file <file>', 'file holding the webhook URL')
    .option(
      '--secret-file <file>',
      'webhook: signing secret (whsec_…; DW_WEBHOOK_SECRET); default: generated',
    )
    .option('--header <"Name: value">', 'webhook: a custom header (repeatable)', repeat, [])
    .option('--smtp-host <host>', 'e-mail: SMTP server')
    .option('--smtp-port <port>', 'e-mail: SMTP port (default 587, 465 with tls, 25 with none)')
    .option('--smtp-security <mode>', 'e-mail: starttls (required), tls or none', 'starttls')
    .option('--smtp-user <user>', 'e-mail: SMTP user')
    .option('--smtp-password-file <file>', 'e-mail: file holding the SMTP password (DW_SMTP_PASSWORD)')
    .option('--from <address>', 'e-mail: sender')
    .option('--to <address>', 'e-mail: recipient (repeatable)', repeat, [])
    .option('--ca-file <pem-file>', 'e-mail: extra CA certificate to trust for the SMTP server')
    .action(async (name: string, opts: AddOptions) => {
      const { channel, generatedSecret } = channelFromOptions(opts);
      await withApp((app) =>
        withAlerts(app, async (alerts) => {
          const added = await alerts.channels.add(name, channel);
          console.log(`added ${added.kind} channel "${added.name}" → ${added.target}`);
          if (generatedSecret) {
            console.log(
              `signing secret (shown once; receivers verify webhook-signature with it):\n${generatedSecret}`,
            );
          }
        }),
      );
    });

  cmd
    .command('list')
    .description('list channels (targets masked)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withApp((app) =>
        withAlerts(app, async (alerts) => {
          const list = await alerts.channels.list();
          if (opts.json) return console.log(JSON.stringify(list, null, 2));
          if (list.length === 0) return console.log('no channels: add one with `drivewarden channels add`');
          for (const c of list) console.log(`${c.name}\t${c.kind}\t${c.target}`);
        }),
      );
    });

  cmd
    .command('test <name>')
    .description('send a test alert to a channel now')
    .action(async (name: string) => {
      await withApp((app) =>
        withAlerts(app, async (alerts) => {
          const result = await testChannel(alerts.channels, alerts.guard, name, {
            timeoutMs: app.config.alerts.timeoutMs,
            appUrl: app.config.alerts.webAppUrl ?? app.config.server.publicUrl ?? null,
          });
          if (!result.ok)
            throw new Error(`test alert to "${name}" failed after ${result.ms} ms: ${result.error}`);
          console.log(`test alert delivered to "${name}": ${result.status} in ${result.ms} ms`);
        }),
      );
    });

  cmd
    .command('remove <name>')
    .description('remove a channel no policy uses')
    .action(async (name: string) => {
      await withApp((app) =>
        withAlerts(app, async (alerts) => {
          const removed = await alerts.channels.remove(name);
          console.log(`removed channel "${removed.name}"`);
        }),
      );
    });
}
