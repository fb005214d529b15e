import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { createCerts } from '../../../sim/server/certs.ts';
import {
  mailHeader,
  mimeParts,
  startHttpReceiver,
  startSmtpReceiver,
} from '../../../test/support/alert-receivers.ts';
import { DeliveryError } from '../delivery-error.ts';
import { OutboundGuard } from '../outbound-guard.ts';
import { sampleDigest, sampleMessage } from '../test-support.ts';
import { adaptiveCardProblems } from './adaptive-card.ts';
import { parseChannelConfig } from './config.ts';
import { sendEmail } from './email.ts';
import { sendSlack } from './slack.ts';
import { sendTeams } from './teams.ts';
import type { SendContext } from './types.ts';
import { sendWebhook } from './webhook.ts';

const guard = new OutboundGuard(true);
const ctx = (over: Partial<SendContext> = {}): SendContext => ({
  guard,
  timeoutMs: 5_000,
  idempotencyKey: 'msg_test-key-1',
  now: new Date(),
  ...over,
});

after(() => guard.close());

const everyText = (value: unknown): string => JSON.stringify(value);

describe('Slack channel', () => {
  it('posts a Block Kit message naming severity, rule, path, owner, actor and a link into the web app', async () => {
    const receiver = await startHttpReceiver();
    try {
      const res = await sendSlack(sampleMessage(), { url: receiver.url }, ctx());
      assert.equal(res.status, 200);
      assert.equal(receiver.requests.length, 1);
      const body = receiver.requests[0].json as { text: string; blocks: Array<Record<string, unknown>> };
      assert.equal(body.blocks[0].type, 'header');
      assert.match(everyText(body.blocks[0]), /Finding opened: No Anyone links/);
      const all = everyText(body.blocks);
      // mrkdwn control characters are escaped, the path is linked to OneDrive
      assert.match(all, /Finance\/Budget &lt;2026&gt;\.xlsx/);
      assert.match(all, /alice@contoso\.com/);
      assert.match(all, /bob@contoso\.com/);
      assert.match(all, /\*Severity\*\\nHigh/);
      assert.match(all, /permission_anonymous_link_absent/);
      const actions = body.blocks.find((b) => b.type === 'actions') as { elements: Array<{ url: string }> };
      assert.equal(actions.elements[0].url, 'https://dw.example.test/findings/7');
      assert.match(body.text, /High: Finding opened/);
    } finally {
      await receiver.close();
    }
  });

  it('posts a digest with the count and the top items', async () => {
    const receiver = await startHttpReceiver();
    try {
      await sendSlack(sampleDigest(1000), { url: receiver.url }, ctx());
      const all = everyText(receiver.requests[0].json);
      assert.match(all, /1000 finding events for sharing/);
      assert.match(all, /\*1000 events:\* 1 critical, 999 high/);
      assert.match(all, /file-1\.docx/);
      assert.match(all, /file-10\.docx/);
      assert.match(all, /… and 990 more/);
    } finally {
      await receiver.close();
    }
  });

  it('reports an HTTP error with its status and Retry-After', async () => {
    const receiver = await startHttpReceiver();
    receiver.script({ status: 429, headers: { 'retry-after': '7' }, body: 'rate_limited' });
    try {
      await assert.rejects(
        sendSlack(sampleMessage(), { url: receiver.url }, ctx()),
        (err: DeliveryError) =>
          err instanceof DeliveryError && err.status === 429 && err.retryable && err.retryAfterMs === 7000,
      );
      receiver.script({ status: 404, body: 'no_service' });
      await assert.rejects(
        sendSlack(sampleMessage(), { url: receiver.url }, ctx()),
        (err: DeliveryError) => err.status === 404 && !err.retryable && /no_service/.test(err.message),
      );
    } finally {
      await receiver.close();
    }
  });
});

describe('Teams channel', () => {
  it('posts a Workflows message whose Adaptive Card validates, naming path and owner', async () => {
    const receiver = await startHttpReceiver({ answer: { status: 202 } });
    try {
      for (const message of [sampleMessage(), sampleDigest(1000)]) {
        const res = await sendTeams(message, { url: receiver.url }, ctx());
        assert.equal(res.status, 202);
      }
      for (const req of receiver.requests) {
        const body = req.json as {
          type: string;
          attachments: Array<{ contentType: string; content: unknown }>;
        };
        assert.equal(body.type, 'message');
        assert.equal(body.attachments[0].contentType, 'application/vnd.microsoft.card.adaptive');
        assert.deepEqual(adaptiveCardProblems(body.attachments[0].content), []);
      }
      const card = everyText(receiver.requests[0].json);
      assert.match(card, /\/Finance\/Budget <2026>\.xlsx/);
      assert.match(card, /alice@contoso\.com/);
      assert.match(card, /Action\.OpenUrl/);
      assert.match(everyText(receiver.requests[1].json), /… and 990 more/);
    } finally {
      await receiver.close();
    }
  });

  it('the validator rejects what Teams would not render', () => {
    const problems = adaptiveCardProblems({
      type: 'AdaptiveCard',
      version: '1.4',
      body: [{ type: 'Bogus' }, { type: 'FactSet', facts: [] }],
      actions: [{ type: 'Action.OpenUrl', title: 'x' }],
    });
    assert.ok(
      problems.some((p) => /Bogus/.test(p)),
      problems.join('\n'),
    );
    assert.ok(problems.length >= 2, problems.join('\n'));
  });
});

describe('e-mail channel', () => {
  let certDir: string;
  let tls: { key: string; cert: string; ca: string };

  before(async () => {
    certDir = mkdtempSync(join(tmpdir(), 'dw-smtp-'));
    const certs = await createCerts(certDir);
    tls = { key: certs.serverKey, cert: certs.serverCert, ca: certs.caPem };
  });
  after(() => rmSync(certDir, { recursive: true, force: true }));

  it('sends text and HTML over STARTTLS with authentication, Message-ID = the idempotency key', async () => {
    const smtp = await startSmtpReceiver({ tls, auth: { user: 'alerts', pass: 's3cret' } });
    try {
      const config = parseChannelConfig('email', {
        host: '127.0.0.1',
        port: smtp.port,
        security: 'starttls',
        user: 'alerts',
        password: 's3cret',
        from: 'drivewarden@contoso.com',
        to: ['secops@contoso.com', 'it@contoso.com'],
        caPem: tls.ca,
      });
      assert.equal(config.kind, 'email');
      if (config.kind !== 'email') return;
      const res = await sendEmail(sampleMessage(), config.config, ctx());
      assert.equal(res.status, 250);
      assert.equal(smtp.mails.length, 1);
      const mail = smtp.mails[0];
      assert.equal(mail.secure, true, 'upgraded with STARTTLS');
      assert.equal(mail.user, 'alerts');
      assert.deepEqual(mail.to, ['secops@contoso.com', 'it@contoso.com']);
      assert.match(mail.raw, /Message-ID: <msg_test-key-1@drivewarden>/i);
      assert.equal(
        mailHeader(mail.raw, 'Subject'),
        '[drivewarden] High: Finding opened: No Anyone links — /Finance/Budget <2026>.xlsx',
      );
      const parts = mimeParts(mail.raw);
      assert.match(parts['text/plain'], /Resource: \/Finance\/Budget <2026>\.xlsx/);
      assert.match(parts['text/plain'], /Owner: alice@contoso\.com/);
      assert.match(parts['text/html'], /\/Finance\/Budget &lt;2026&gt;\.xlsx/);
      assert.match(parts['text/html'], /href="https:\/\/dw\.example\.test\/findings\/7"/);
    } finally {
      await smtp.close();
    }
  });

  it('never falls back to plain text when STARTTLS is required', async () => {
    const smtp = await startSmtpReceiver({});
    try {
      await assert.rejects(
        sendEmail(
          sampleMessage(),
          {
            host: '127.0.0.1',
            port: smtp.port,
            security: 'starttls',
            from: 'a@contoso.com',
            to: ['b@contoso.com'],
          },
          ctx(),
        ),
        DeliveryError,
      );
      assert.equal(smtp.mails.length, 0);
    } finally {
      await smtp.close();
    }
  });

  it('a wrong password is a permanent failure', async () => {
    const smtp = await startSmtpReceiver({ tls, auth: { user: 'alerts', pass: 's3cret' } });
    try {
      await assert.rejects(
        sendEmail(
          sampleMessage(),
          {
            host: '127.0.0.1',
            port: smtp.port,
            security: 'starttls',
            user: 'alerts',
            password: 'wrong',
            from: 'a@contoso.com',
            to: ['b@contoso.com'],
            caPem: tls.ca,
          },
          ctx(),
        ),
        (err: DeliveryError) => err instanceof DeliveryError && !err.retryable,
      );
    } finally {
      await smtp.close();
    }
  });
});

describe('webhook channel', () => {
  const secret = `whsec_${randomBytes(24).toString('base64')}`;

  it('posts JSON signed the Standard Webhooks way, with custom headers', async () => {
    const receiver = await startHttpReceiver();
    try {
      await sendWebhook(
        sampleMessage(),
        { url: receiver.url, secret, headers: { 'X-Tenant': 'contoso', Authorization: 'Bearer abc' } },
        ctx(),
      );
      const req = receiver.requests[0];
      assert.equal(req.headers['x-tenant'], 'contoso');
      assert.equal(req.headers.authorization, 'Bearer abc');
      assert.equal(req.headers['content-type'], 'application/json');
      assert.equal(req.headers['webhook-id'], 'msg_test-key-1');
      const headers = {
        'webhook-id': String(req.headers['webhook-id']),
        'webhook-timestamp': String(req.headers['webhook-timestamp']),
        'webhook-signature': String(req.headers['webhook-signature']),
      };
      // The receiver's side: the standardwebhooks package verifies …
      const payload = new Webhook(secret).verify(req.body, headers) as {
        type: string;
        data: { items: Array<{ resourcePath: string; owner: string }> };
      };
      assert.equal(payload.type, 'drivewarden.alert');
      assert.equal(payload.data.items[0].resourcePath, '/Finance/Budget <2026>.xlsx');
      assert.equal(payload.data.items[0].owner, 'alice@contoso.com');
      // … and so does the documented algorithm by hand: HMAC-SHA256 over id.timestamp.body.
      const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
      const expected = createHmac('sha256', key)
        .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${req.body}`)
        .digest('base64');
      assert.equal(headers['webhook-signature'], `v1,${expected}`);
      // A changed body or a replay far from its timestamp is rejected.
      assert.throws(() => new Webhook(secret).verify(req.body.replace('alice', 'mallory'), headers));
      const old = Math.floor(Date.now() / 1000) - 3600;
      const replayed = { ...headers, 'webhook-timestamp': String(old) };
      assert.throws(() => new Webhook(secret).verify(req.body, replayed));
    } finally {
      await receiver.close();
    }
  });

  it('refuses a custom header drivewarden sets itself, and a malformed secret', () => {
    assert.throws(
      () =>
        parseChannelConfig('webhook', {
          url: 'https://h.example/x',
          secret,
          headers: { 'Webhook-Signature': 'x' },
        }),
      /headers\.Webhook-Signature: is set by drivewarden itself/,
    );
    assert.throws(
      () => parseChannelConfig('webhook', { url: 'https://h.example/x', secret: 'hunter2' }),
      /secret: must be whsec_/,
    );
    assert.throws(
      () => parseChannelConfig('slack', { url: 'ftp://h.example/x' }),
      /url: must be an http or https URL/,
    );
    assert.throws(() => parseChannelConfig('pager', {}), /unknown channel type "pager"/);
  });
});
