import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TruthRecord } from '../../sim/contracts.ts';
import { mimeParts, type SmtpReceiver, startSmtpReceiver } from '../../test/support/alert-receivers.ts';
import { simClient } from '../../test/support/collector.ts';
import { quietLogger } from '../../test/support/logger.ts';
import { startTestSim, type TestSim } from '../../test/support/simulator.ts';
import { openTestStore, type TestStore } from '../../test/support/store.ts';
import { ChannelRepository } from '../alerts/channel-repo.ts';
import { parseChannelConfig } from '../alerts/channels/config.ts';
import { loadConfig } from '../config/config.ts';
import { type AppContext, assembleApp } from './context.ts';
import { openReviewSender, type ReviewSender } from './review-delivery.ts';

type Notification = Extract<TruthRecord, { kind: 'activityNotification' }>;
const TOKEN = 'xoxb-1234-5678-abcdef';

/** A local HTTP server answering like Slack's Web API (form-encoded calls, `{ok, …}` answers). */
async function startFakeSlack(known: Record<string, string>) {
  const calls: Array<{
    method: string;
    path: string;
    auth: string | undefined;
    form: Record<string, string>;
  }> = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    calls.push({ method: req.method ?? '', path: req.url ?? '', auth: req.headers.authorization, form });
    res.setHeader('content-type', 'application/json');
    if (req.headers.authorization !== `Bearer ${TOKEN}`)
      return res.end(JSON.stringify({ ok: false, error: 'invalid_auth' }));
    if (req.url === '/api/users.lookupByEmail') {
      const id = known[form.email];
      return res.end(
        JSON.stringify(id ? { ok: true, user: { id } } : { ok: false, error: 'users_not_found' }),
      );
    }
    if (req.url === '/api/chat.postMessage')
      return res.end(JSON.stringify({ ok: true, channel: `D${form.channel}`, ts: '1700000000.000100' }));
    res.end(JSON.stringify({ ok: false, error: 'unknown_method' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    calls,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Review messages to people: a Slack direct message (users.lookupByEmail, then
 * chat.postMessage to that user) against a server that behaves like Slack's Web API; a Teams
 * activity notification the simulator records in its ground truth; and the e-mail fallback
 * for a person the chat cannot reach, reported as such.
 */
describe('review messages by Slack and Teams', () => {
  let ts: TestSim;
  let t: TestStore;
  let app: AppContext;
  let smtp: SmtpReceiver;
  let slack: Awaited<ReturnType<typeof startFakeSlack>>;
  let dir: string;
  let sender: ReviewSender;
  let client: ReturnType<typeof simClient>;
  let ids: { slack: string; mail: string };
  before(async () => {
    ts = await startTestSim({ users: 6, items: 100 });
    t = await openTestStore('sqlite');
    smtp = await startSmtpReceiver({});
    slack = await startFakeSlack({ 'ada@contoso.test': 'U0ADA' });
    dir = mkdtempSync(join(tmpdir(), 'dw-review-chat-'));
    app = assembleApp(
      loadConfig({}, { dataDir: dir, logLevel: 'silent', 'alerts.allowPrivateTargets': true }),
      quietLogger,
      t.store,
    );
    const channels = new ChannelRepository(t.store, app.secrets);
    const bot = await channels.add(
      'owners-slack',
      parseChannelConfig('slack', { botToken: TOKEN, apiUrl: slack.url }),
    );
    const mail = await channels.add(
      'owners-mail',
      parseChannelConfig('email', {
        host: '127.0.0.1',
        port: smtp.port,
        security: 'none',
        from: 'dw@example.com',
        to: ['unused@example.com'],
      }),
    );
    ids = { slack: bot.id, mail: mail.id };
    client = simClient(ts.sim);
    sender = openReviewSender(app, async () => client);
  });
  after(async () => {
    await sender?.close();
    await client?.close();
    await slack?.close();
    await smtp?.close();
    await t?.cleanup();
    await ts?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const notice = (to: string) => ({
    campaign: 'q1',
    to,
    owner: to,
    items: 3,
    url: `https://dw.example.test/review?t=${to.length}.sig`,
  });

  test('Slack: the owner found by address gets a direct message with their link; exact requests', async () => {
    const out = await sender.person(
      { channel: ids.slack, fallbackChannel: ids.mail },
      'int-sim',
      notice('ada@contoso.test'),
    );
    assert.deepEqual(out, { ok: true, via: 'slack', status: 200, error: null, note: null });
    assert.deepEqual(
      slack.calls.map((c) => [c.method, c.path, c.auth]),
      [
        ['POST', '/api/users.lookupByEmail', `Bearer ${TOKEN}`],
        ['POST', '/api/chat.postMessage', `Bearer ${TOKEN}`],
      ],
    );
    assert.equal(slack.calls[0].form.email, 'ada@contoso.test');
    const post = slack.calls[1].form;
    assert.equal(post.channel, 'U0ADA', 'to that user');
    assert.match(post.text, /Review the sharing of your files/);
    assert.ok(post.text.includes('https://dw.example.test/review?t=16.sig'));
    const blocks = JSON.parse(post.blocks);
    assert.equal(
      blocks[1].elements[0].url,
      'https://dw.example.test/review?t=16.sig',
      'the button opens their link',
    );
    assert.equal(post.unfurl_links, 'false');
    assert.equal(smtp.mails.length, 0);
  });

  test('Slack: an address Slack does not know falls back to e-mail, and says so', async () => {
    slack.calls.length = 0;
    const out = await sender.person(
      { channel: ids.slack, fallbackChannel: ids.mail },
      'int-sim',
      notice('bob@contoso.test'),
    );
    assert.equal(out.ok, true);
    assert.equal(out.via, 'email');
    assert.match(out.note ?? '', /^Slack: no Slack user with the address bob@contoso\.test; sent by e-mail$/);
    assert.deepEqual(
      slack.calls.map((c) => c.path),
      ['/api/users.lookupByEmail'],
      'no message posted',
    );
    const mail = smtp.mails.find((m) => m.to.length === 1 && m.to[0] === 'bob@contoso.test');
    assert.ok(mail, 'mailed to that person only');
    assert.ok(mimeParts(mail.raw)['text/plain'].includes('https://dw.example.test/review?t=16.sig'));
    const noFallback = await sender.person({ channel: ids.slack }, 'int-sim', notice('bob@contoso.test'));
    assert.equal(noFallback.ok, false);
    assert.equal(noFallback.error, 'no e-mail channel to fall back on');
  });

  test('Teams: an activity notification the owner received (ground truth); without the app, e-mail', async () => {
    const users = (await ts.admin.truthArray()).filter(
      (r): r is Extract<TruthRecord, { kind: 'user' }> =>
        r.kind === 'user' && r.userType === 'Member' && r.accountEnabled,
    );
    const [reached, notInstalled] = users;
    await ts.admin.mutate({ op: 'setTeamsApp', userId: notInstalled.id, installed: false });

    const ok = await sender.person(
      { teams: true, fallbackChannel: ids.mail },
      'int-sim',
      notice(reached.userPrincipalName),
    );
    assert.deepEqual(ok, { ok: true, via: 'teams', status: 204, error: null, note: null });
    const got = (await ts.admin.truthArray()).filter(
      (r): r is Notification => r.kind === 'activityNotification',
    );
    assert.equal(got.length, 1);
    assert.equal(got[0].userId, reached.id);
    assert.equal(got[0].activityType, 'reviewRequested');
    assert.deepEqual(got[0].topic, {
      source: 'text',
      value: 'Review the sharing of your files',
      webUrl: notice(reached.userPrincipalName).url,
    });
    assert.deepEqual(got[0].templateParameters, [{ name: 'count', value: '3' }]);

    const fallback = await sender.person(
      { teams: true, fallbackChannel: ids.mail },
      'int-sim',
      notice(notInstalled.userPrincipalName),
    );
    assert.equal(fallback.ok, true);
    assert.equal(fallback.via, 'email');
    assert.match(
      fallback.note ?? '',
      /^Teams: Teams refused \(Forbidden\): the drivewarden Teams app is not installed/,
    );
    assert.ok(
      smtp.mails.some((m) => m.to.length === 1 && m.to[0] === notInstalled.userPrincipalName.toLowerCase()),
    );
    const after = (await ts.admin.truthArray()).filter((r) => r.kind === 'activityNotification');
    assert.equal(after.length, 1, 'nothing delivered to the one without the app');
  });
});
