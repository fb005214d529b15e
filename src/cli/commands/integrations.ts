import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { withApp } from '../../app/context.ts';
import { addIntegration } from '../../app/integration-add.ts';
import { deleteIntegration, describeRemoval, disableIntegration } from '../../app/integration-lifecycle.ts';
import { refuseWhileServiceWrites } from '../../app/service-guard.ts';
import type { GraphClientOptions } from '../../graph/types.ts';
import type { ProbeResult } from '../../integrations/probe.ts';

interface AddOptions {
  name?: string;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  clientSecretFile?: string;
  certificate?: string;
  graphUrl?: string;
  authorityUrl?: string;
  managementUrl?: string;
  caFile?: string;
  domain: string[];
  simInfo?: string;
  probe: boolean;
}

function readFile(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** Builds the credentials from flags, env (DW_CLIENT_SECRET) or a simulator's connection JSON. */
export function credentialsFromOptions(opts: AddOptions): GraphClientOptions & { verifiedDomains: string[] } {
  let base: Partial<GraphClientOptions> & { verifiedDomains?: string[] } = {};
  if (opts.simInfo) {
    const info = JSON.parse(readFile(opts.simInfo, 'simulator connection file')) as Record<string, unknown>;
    base = {
      tenantId: info.tenantId as string,
      clientId: info.clientId as string,
      clientSecret: info.clientSecret as string,
      graphBaseUrl: info.graphBaseUrl as string,
      authorityUrl: info.authorityUrl as string,
      managementBaseUrl: info.managementBaseUrl as string,
      caPem: readFile(info.caCertPath as string, 'CA certificate'),
    };
  }
  if (opts.clientSecret)
    process.stderr.write(
      'warning: --client-secret puts the secret in the process list and your shell history; ' +
        'use --client-secret-file or DW_CLIENT_SECRET\n',
    );
  const secret =
    opts.clientSecret ??
    (opts.clientSecretFile ? readFile(opts.clientSecretFile, 'client secret file').trim() : undefined) ??
    process.env.DW_CLIENT_SECRET;
  const merged = {
    ...base,
    ...(opts.tenantId ? { tenantId: opts.tenantId } : {}),
    ...(opts.clientId ? { clientId: opts.clientId } : {}),
    ...(secret ? { clientSecret: secret } : {}),
    ...(opts.certificate
      ? { certificatePem: readFile(opts.certificate, 'certificate'), clientSecret: undefined }
      : {}),
    ...(opts.graphUrl ? { graphBaseUrl: opts.graphUrl } : {}),
    ...(opts.authorityUrl ? { authorityUrl: opts.authorityUrl } : {}),
    ...(opts.managementUrl ? { managementBaseUrl: opts.managementUrl } : {}),
    ...(opts.caFile ? { caPem: readFile(opts.caFile, 'CA file') } : {}),
  };
  const problems: string[] = [];
  if (!merged.tenantId) problems.push('--tenant-id is required');
  if (!merged.clientId) problems.push('--client-id is required');
  if (!merged.clientSecret && !merged.certificatePem)
    problems.push('a client secret (--client-secret-file, DW_CLIENT_SECRET) or --certificate is required');
  if (problems.length) throw new Error(problems.join('; '));
  return { ...(merged as GraphClientOptions), verifiedDomains: opts.domain.map((d) => d.toLowerCase()) };
}

export function formatProbe(results: ProbeResult[]): string {
  const rows = results.map((r) =>
    [r.status.padEnd(8), r.capability.padEnd(15), r.permission.padEnd(44), r.detail ?? r.neededFor].join(' '),
  );
  return rows.join('\n');
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function registerIntegrations(program: Command): void {
  const cmd = program.command('integrations').description('connect and manage Microsoft 365 tenants');

  cmd
    .command('add')
    .description('connect a tenant: validates the credentials and probes every permission drivewarden uses')
    .option('--name <name>', 'a name for this integration (default: the tenant id)')
    .option('--tenant-id <id>', 'Entra ID tenant id (GUID)')
    .option('--client-id <id>', 'application (client) id of the app registration')
    .option('--client-secret <secret>', 'client secret (prefer --client-secret-file or DW_CLIENT_SECRET)')
    .option('--client-secret-file <file>', 'file holding the client secret')
    .option('--certificate <pem-file>', 'PEM with the private key and certificate, instead of a secret')
    .option('--graph-url <url>', 'Graph base URL (national clouds, the simulator)')
    .option('--authority-url <url>', 'login authority URL (national clouds, the simulator)')
    .option('--management-url <url>', 'Office 365 Management API base URL')
    .option('--ca-file <pem-file>', 'extra CA certificate to trust (the simulator, a TLS proxy)')
    .option(
      '--domain <domain>',
      "one of the tenant's own domains (repeatable)",
      (v, acc: string[]) => [...acc, v],
      [],
    )
    .option('--sim-info <json-file>', 'take everything from the JSON line `drivewarden sim` printed')
    .option('--no-probe', 'store without validating (not recommended)')
    .action(async (opts: AddOptions) => {
      const creds = credentialsFromOptions(opts);
      await withApp(async (app) => {
        const domains = creds.verifiedDomains;
        const { integration: created, probe } = await addIntegration(
          app,
          { ...creds, name: opts.name, verifiedDomains: domains },
          { probe: opts.probe },
        );
        console.log(`added integration "${created.name}" (${created.id}) for tenant ${created.tenantId}`);
        console.log(
          `tenant domains: ${domains.join(', ') || 'taken from /organization or member accounts on the first sync'}`,
        );
        if (probe) console.log(formatProbe(probe));
      });
    });

  cmd
    .command('list')
    .description('list integrations (never shows secrets)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withApp(async (app) => {
        const list = await app.integrations.list();
        if (opts.json) return console.log(JSON.stringify(list, null, 2));
        if (list.length === 0)
          return console.log('no integrations: add one with `drivewarden integrations add`');
        for (const i of list) {
          const probe = i.probe
            ? Object.entries(i.probe)
                .filter(([, s]) => s !== 'granted')
                .map(([k, s]) => `${k}:${s}`)
                .join(' ')
            : 'not probed';
          console.log(
            `${i.name}\t${i.enabled ? 'enabled' : 'disabled'}\ttenant ${i.tenantId}\t${i.authKind}\t${probe || 'all permissions granted'}`,
          );
        }
      });
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    cmd
      .command(`${name} <integration>`)
      .description(enabled ? 'resume collection' : 'pause all collection and webhooks; the data stays')
      .action(async (integration: string) => {
        await withApp(async (app) => {
          if (enabled) {
            await app.integrations.setEnabled(integration, true);
            console.log(`${integration}: enabled`);
          } else {
            console.log(
              `${integration}: disabled; ${describeRemoval(await disableIntegration(app, integration))}`,
            );
          }
        });
      });
  }

  cmd
    .command('delete <integration>')
    .description('stop everything, delete its Graph subscriptions and purge all its data')
    .option('--yes', 'do not ask for confirmation')
    .action(async (integration: string, opts: { yes?: boolean }) => {
      await withApp(async (app) => {
        const info = await app.integrations.get(integration);
        if (!info) throw new Error(`no integration "${integration}"`);
        await refuseWhileServiceWrites(
          app,
          `integrations delete ${info.name}`,
          `delete it through the service instead (DELETE /api/v1/integrations/${info.id}?confirm=<name>, or the web app), or stop it first`,
        );
        if (!opts.yes && !(await confirm(`Delete "${info.name}" and purge all of its data?`))) {
          throw new Error('not deleted: confirm with --yes (or answer y)');
        }
        const result = await deleteIntegration(app, info.id);
        console.log(
          `deleted "${info.name}": ${describeRemoval(result.subscriptions)}; ${result.rowsPurged} rows purged`,
        );
      });
    });
}
