/**
 * Secrets in API answers: the service against the simulator as the demo runs it (an
 * integration with a client secret, a full collection, live webhook subscriptions), plus
 * webhook, Slack, Teams and e-mail channels; then every GET route the server registers
 * (enumerated from a server instance, as all-routes.test.ts does), each parameter filled with
 * every id the store holds, is called as an admin and each answer searched for the client
 * secret, the channel URLs and secrets, and the subscriptions' client states (taken from
 * Graph: the store keeps only their digests). None may appear in clear (nor base64).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simCredentials } from '../../sim/connection.ts';
import { ChannelRepository } from '../../src/alerts/channel-repo.ts';
import { parseChannelConfig } from '../../src/alerts/channels/config.ts';
import type { AppContext } from '../../src/app/context.ts';
import { syncOnce } from '../../src/app/sync-once.ts';
import { issueToken } from '../../src/auth/api-tokens.ts';
import { createUser } from '../../src/auth/principals.ts';
import { type RouteAccess, routeAccessTable } from '../../src/server/api/access.ts';
import { startService } from '../../src/server/service.ts';
import { WebhookReceiver } from '../../src/server/webhooks/receiver.ts';
import { SubscriptionCache } from '../../src/store/subscription-cache.ts';
import { startTestApi } from '../support/api.ts';
import { quietLogger } from '../support/logger.ts';
import { waitFor } from '../support/wait.ts';
import { openServedTenant } from './served-tenant.ts';

export interface ApiSecretsReport {
  routes: number;
  requests: number;
  /** Secrets searched for (client secret, channel URLs and secrets, client states). */
  needles: number;
  /** "GET /path: <which secret>" for every answer holding one in clear. */
  leaks: string[];
  /** Answers 200, and answers naming the tenant id (the scan reads real answers, as an admin). */
  ok: number;
  namingTenant: number;
}

/** Every GET route of the whole server (REST API, web app, review page, health, docs). */
async function getRoutes(): Promise<RouteAccess[]> {
  const webDir = mkdtempSync(join(tmpdir(), 'dw-chaos-web-'));
  let receiver: WebhookReceiver | undefined;
  const api = await startTestApi({
    dialect: 'sqlite',
    api: { webDir },
    server: (db) => {
      receiver = new WebhookReceiver({
        db,
        cache: new SubscriptionCache(db),
        logger: quietLogger,
        flushIntervalMs: 60_000,
      });
      return { receiver, reviews: { db, key: randomBytes(32), decide: async () => ({}) as never } };
    },
  });
  try {
    return routeAccessTable(api.server).filter((r) => r.method === 'GET');
  } finally {
    await receiver?.close();
    await api.close();
    rmSync(webDir, { recursive: true, force: true });
  }
}

export async function apiSecretsScan(): Promise<ApiSecretsReport> {
  const routes = await getRoutes();
  const served = await openServedTenant('api-secrets', { seed: 43, users: 6, items: 200 });
  const { sim, port, app } = served;
  let service: Awaited<ReturnType<typeof startService>> | undefined;
  const report: ApiSecretsReport = {
    routes: routes.length,
    requests: 0,
    needles: 0,
    leaks: [],
    ok: 0,
    namingTenant: 0,
  };
  try {
    const integration = await app.integrations.create({
      name: 'secrets',
      ...simCredentials(sim),
      verifiedDomains: sim.verifiedDomains,
    });
    await syncOnce(app, { integration: integration.id, full: true, activity: false });
    // Channels whose URLs are secrets (Slack/Teams/webhook URLs carry their token in the path).
    const tag = randomBytes(8).toString('hex');
    const secrets: Record<string, string> = {
      'client secret': sim.clientSecret,
      'webhook URL': `https://hooks.example.com/in/${tag}-webhook-path`,
      'webhook signing secret': `whsec_${randomBytes(32).toString('base64')}`,
      'Slack URL': `https://hooks.slack.com/services/T0000/B0000/${tag}slack`,
      'Teams URL': `https://contoso.webhook.office.com/webhookb2/${tag}-teams`,
      'SMTP password': `smtp-pass-${tag}`,
    };
    const channels = new ChannelRepository(app.store, app.secrets);
    await channels.add(
      'hook',
      parseChannelConfig('webhook', {
        url: secrets['webhook URL'],
        secret: secrets['webhook signing secret'],
      }),
    );
    await channels.add('slack', parseChannelConfig('slack', { url: secrets['Slack URL'] }));
    await channels.add('teams', parseChannelConfig('teams', { url: secrets['Teams URL'] }));
    await channels.add(
      'mail',
      parseChannelConfig('email', {
        host: 'smtp.example.com',
        port: 587,
        security: 'starttls',
        user: 'alerts',
        password: secrets['SMTP password'],
        from: 'dw@example.com',
        to: ['sec@example.com'],
      }),
    );
    service = await startService(app, { listen: { host: '127.0.0.1', port } });
    await service.ready;
    // Live subscriptions: their client states as Graph holds them.
    const client = app.graphClientFor(await app.integrations.getWithCredentials(integration.id));
    try {
      const states = await waitFor(
        'live subscriptions',
        async () => {
          const listed = await client.request<{ value: Array<{ clientState?: string | null }> }>({
            url: '/subscriptions',
            resource: 'subscriptions',
          });
          const s = listed.body.value.map((x) => x.clientState).filter((x): x is string => !!x);
          return s.length > 0 ? s : undefined;
        },
        { timeoutMs: 30_000 },
      );
      states.forEach((s, i) => {
        secrets[`client state ${i + 1}`] = s;
      });
    } finally {
      await client.close();
    }
    const needles = Object.entries(secrets).flatMap(([what, v]) => [
      [what, v],
      [`${what} (base64)`, Buffer.from(v).toString('base64')],
    ]);
    report.needles = Object.keys(secrets).length;

    const admin = await createUser(app.store.db, { username: 'scanner', password: null, role: 'admin' });
    const { token } = await issueToken(app.store.db, {
      userId: admin.id,
      name: 'secrets scan',
      role: 'admin',
    });
    const ids = await idsInStore(app.store.db, integration.id);
    const base = `http://127.0.0.1:${port}`;
    for (const route of routes) {
      for (const path of pathsOf(route.url, ids)) {
        report.requests++;
        const { status, text } = await readAnswer(`${base}${path}`, token);
        if (status === 200) report.ok++;
        if (text.includes(sim.tenantId)) report.namingTenant++;
        for (const [what, v] of needles) if (text.includes(v)) report.leaks.push(`GET ${path}: ${what}`);
      }
    }
    return report;
  } finally {
    await served.close(service);
  }
}

/** Every id a route parameter could name: integrations, channels, policies, subscriptions, findings, users… */
async function idsInStore(db: AppContext['store']['db'], integrationId: string) {
  const first = async (table: string, column = 'id') =>
    (
      (await db
        // biome-ignore lint/suspicious/noExplicitAny: any table of the schema
        .selectFrom(table as any)
        .select(`${column} as v` as never)
        .limit(3)
        .execute()) as Array<{ v: unknown }>
    ).map((r) => String(r.v));
  return [
    ...new Set([
      integrationId,
      'secrets',
      '1',
      ...(await first('alert_channels')),
      ...(await first('alert_channels', 'name')),
      ...(await first('alert_policies')),
      ...(await first('graph_subscriptions')),
      ...(await first('findings')),
      ...(await first('drives')),
      ...(await first('drive_items')),
      ...(await first('permissions')),
      ...(await first('users')),
      ...(await first('groups')),
      ...(await first('app_users')),
    ]),
  ];
}

/** Concrete paths for a route pattern: each parameter tried with every id (one parameter routes), else the first. */
function pathsOf(url: string, ids: string[]): string[] {
  const params = url.match(/:[A-Za-z0-9_]+(\([^)]*\))?/g) ?? [];
  const fill = (id: string) =>
    url.replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, encodeURIComponent(id)).replace(/\*$/, encodeURIComponent(id));
  if (params.length === 0 && !url.endsWith('*')) return [url];
  return ids.map(fill);
}

/** The answer's text; a stream (SSE) is read for 2 s then cut. */
async function readAnswer(url: string, token: string): Promise<{ status: number; text: string }> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 2_000);
  let text = '';
  let status = 0;
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    status = res.status;
    const reader = res.body?.getReader();
    const decoder = new TextDecoder();
    while (reader) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch (err) {
    if (!abort.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
  }
  return { status, text };
}
