import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { SimAdminClient } from '../sim/admin-client.ts';
import type { SimHandle } from '../sim/contracts.ts';
import { startSimulator } from '../sim/index.ts';
import { createCerts } from '../sim/server/certs.ts';
import { adaptiveCardProblems } from '../src/alerts/channels/adaptive-card.ts';
import { parseChannelConfig } from '../src/alerts/channels/config.ts';
import { type AppContext, openApp } from '../src/app/context.ts';
import { type Service, startService } from '../src/server/service.ts';
import {
  type HttpReceiver,
  mailHeader,
  mimeParts,
  type SmtpReceiver,
  startHttpReceiver,
  startSmtpReceiver,
} from './support/alert-receivers.ts';
import { freePort } from './support/ports.ts';
import { waitFor } from './support/wait.ts';

/**
 * Alerts end to end: the real service (collector, webhook receiver, subscriptions, alert
 * router and delivery worker) against the simulator, with a real receiver per channel. A
 * mutation in the tenant reaches every channel once, naming the file's path and owner.
 */
describe('alerts: a simulator mutation reaches every channel once', () => {
  let sim: SimHandle;
  let admin: SimAdminClient;
  let app: AppContext;
  let service: Service;
  let slack: HttpReceiver;
  let teams: HttpReceiver;
  let hook: HttpReceiver;
  let smtp: SmtpReceiver;
  let certDir: string;
  const secret = `whsec_${randomBytes(24).toString('base64')}`;

  before(async () => {
    sim = await startSimulator({ seed: 17, users: 6, items: 200, allowHttpNotifications: true });
    admin = new SimAdminClient(sim);
    certDir = mkdtempSync(join(tmpdir(), 'dw-alerts-e2e-'));
    const certs = await createCerts(join(certDir, 'smtp'));
    [slack, teams, hook, smtp] = await Promise.all([
      startHttpReceiver(),
      startHttpReceiver({ answer: { status: 202 } }),
      startHttpReceiver({ dedupe: true }),
      startSmtpReceiver({
        tls: { key: certs.serverKey, cert: certs.serverCert },
        auth: { user: 'dw', pass: 'pw' },
      }),
    ]);
    const port = await freePort();
    app = await openApp({
      dataDir: join(certDir, 'data'),
      logLevel: 'silent',
      'server.port': port,
      'server.publicUrl': `http://127.0.0.1:${port}`,
      'sync.pollIntervalSeconds': 3600,
      'sync.directoryIntervalSeconds': 3600,
      'sync.debounceMs': 50,
      'alerts.allowPrivateTargets': ['127.0.0.1/32'],
      'alerts.webAppUrl': 'https://dw.example.test',
      // Only the kick after each collection run routes within the test's time.
      'alerts.routeIntervalMs': 3_600_000,
    });
    await app.integrations.create({
      name: 'contoso',
      tenantId: sim.tenantId,
      clientId: sim.clientId,
      clientSecret: sim.clientSecret,
      graphBaseUrl: sim.graphBaseUrl,
      authorityUrl: sim.authorityUrl,
      caPem: readFileSync(sim.caCertPath, 'utf8'),
      verifiedDomains: sim.verifiedDomains,
    });
    service = await startService(app, { listen: { host: '127.0.0.1', port } });
    await service.ready;
    const alerts = service.alerts;
    assert.ok(alerts);
    await alerts.channels.add('slack', parseChannelConfig('slack', { url: slack.url }));
    await alerts.channels.add('teams', parseChannelConfig('teams', { url: teams.url }));
    await alerts.channels.add('siem', parseChannelConfig('webhook', { url: hook.url, secret }));
    await alerts.channels.add(
      'mail',
      parseChannelConfig('email', {
        host: '127.0.0.1',
        port: smtp.port,
        security: 'starttls',
        user: 'dw',
        password: 'pw',
        from: 'drivewarden@contoso.com',
        to: ['secops@contoso.com'],
        caPem: certs.caPem,
      }),
    );
  });

  after(async () => {
    await service?.close();
    await app?.close();
    await admin?.close();
    await sim?.close();
    await Promise.all([slack?.close(), teams?.close(), hook?.close(), smtp?.close()]);
    rmSync(certDir, { recursive: true, force: true });
  });

  /** An unshared file of the tenant and its drive's owner. */
  async function unsharedFile() {
    for (const d of await admin.drives()) {
      const file = (await admin.items(d.id)).find((i) => !i.isFolder && !i.deleted && i.sharedScope === null);
      if (file) return { driveId: d.id, itemId: file.id, owner: d.ownerUserPrincipalName.toLowerCase() };
    }
    throw new Error('no unshared file in the tenant');
  }

  /** Every channel got exactly `n` messages since `from`, each naming the path and the owner. */
  async function assertOnceEverywhere(
    from: { slack: number; teams: number; hook: number; mail: number },
    target: { driveId: string; itemId: string; owner: string },
    subject: RegExp,
  ) {
    await waitFor(
      'one delivery per channel',
      () =>
        slack.requests.length > from.slack &&
        teams.requests.length > from.teams &&
        hook.processed.size > from.hook &&
        smtp.mails.length > from.mail,
      { timeoutMs: 30_000 },
    );
    const item = await app.store.db
      .selectFrom('drive_items')
      .select('path')
      .where('drive_id', '=', target.driveId)
      .where('id', '=', target.itemId)
      .executeTakeFirstOrThrow();
    const path = item.path ?? '';
    assert.ok(path.length > 1);
    const slackBody = JSON.stringify(slack.requests[from.slack].json);
    assert.ok(slackBody.includes(path) && slackBody.includes(target.owner), 'Slack names the path and owner');
    const card = (teams.requests[from.teams].json as { attachments: Array<{ content: unknown }> })
      .attachments[0].content;
    assert.deepEqual(adaptiveCardProblems(card), []);
    assert.ok(JSON.stringify(card).includes(path) && JSON.stringify(card).includes(target.owner), 'Teams');
    const mail = smtp.mails[from.mail];
    const text = mimeParts(mail.raw)['text/plain'];
    assert.ok(text.includes(path) && text.includes(target.owner), 'e-mail');
    assert.match(mailHeader(mail.raw, 'Subject') ?? '', subject);
    const req = hook.requests[from.hook];
    const verified = new Webhook(secret).verify(req.body, req.headers as Record<string, string>) as {
      data: { items: Array<{ resourcePath: string; owner: string; appUrl: string }> };
    };
    assert.equal(verified.data.items[0].resourcePath, path);
    assert.equal(verified.data.items[0].owner, target.owner);

    // Once: another routing pass and delivery round send nothing more.
    const alerts = service.alerts;
    assert.ok(alerts);
    await alerts.kick();
    await alerts.worker.deliverDue();
    assert.deepEqual(
      [
        slack.requests.length - from.slack,
        teams.requests.length - from.teams,
        hook.requests.length - from.hook,
        smtp.mails.length - from.mail,
      ],
      [1, 1, 1, 1],
    );
    return verified.data.items[0];
  }

  const counts = () => ({
    slack: slack.requests.length,
    teams: teams.requests.length,
    hook: hook.requests.length,
    mail: smtp.mails.length,
  });

  it('rule policy: an Anyone link on a file → one Slack message, one Teams card, one e-mail, one signed webhook', async () => {
    const alerts = service.alerts;
    assert.ok(alerts);
    // The start-up evaluation's findings are history: the policy alerts from now on.
    await service.jobs.queue.idle();
    const policy = await alerts.policies.add({
      name: 'anyone-link-findings',
      kind: 'rule',
      channels: ['slack', 'teams', 'siem', 'mail'],
      filter: { rules: ['permission_anonymous_link_absent'] },
    });
    const from = counts();
    const target = await unsharedFile();
    await admin.mutate({
      op: 'share',
      driveId: target.driveId,
      itemId: target.itemId,
      kind: 'anonymous',
      linkType: 'view',
    });
    const item = await assertOnceEverywhere(
      from,
      target,
      /Finding opened: No item is shared with an "Anyone" link/,
    );
    assert.match(item.appUrl, /^https:\/\/dw\.example\.test\/findings\/\d+$/);
    await alerts.policies.remove(policy.id);
  });

  it('change policy: an Anyone link on a file → one Slack message, one Teams card, one e-mail, one signed webhook', async () => {
    const alerts = service.alerts;
    assert.ok(alerts);
    const policy = await alerts.policies.add({
      name: 'anyone-links',
      kind: 'change',
      channels: ['slack', 'teams', 'siem', 'mail'],
      severity: 'high',
      filter: { resourceTypes: ['permission'], changeTypes: ['added'], where: 'link_scope = anonymous' },
    });
    const from = counts();
    const target = await unsharedFile();
    await admin.mutate({
      op: 'share',
      driveId: target.driveId,
      itemId: target.itemId,
      kind: 'anonymous',
      linkType: 'view',
    });
    const item = await assertOnceEverywhere(from, target, /High: Permission added/);
    assert.match(item.appUrl, /^https:\/\/dw\.example\.test\/changes\/\d+$/);
    await alerts.policies.remove(policy.id);
  });
});
