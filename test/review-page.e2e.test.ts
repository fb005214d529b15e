import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { simCredentials } from '../sim/connection.ts';
import type { TruthRecord } from '../sim/contracts.ts';
import { type AppContext, openApp } from '../src/app/context.ts';
import { escalateDue } from '../src/app/review-campaigns.ts';
import { openReviewSender } from '../src/app/review-delivery.ts';
import { reviewLinkKey } from '../src/app/review-key.ts';
import { createApiToken, createUser } from '../src/auth/principals.ts';
import { issueLink } from '../src/remediate/reviews.ts';
import { type Service, startService } from '../src/server/service.ts';
import { mimeParts, type SmtpReceiver, startSmtpReceiver } from './support/alert-receivers.ts';
import { type ApiClient, apiClient } from './support/api.ts';
import { ensureWebBuild, launchChromium, pageProblems, screenshot } from './support/browser.ts';
import { freePort } from './support/ports.ts';
import { startTestSim, type TestSim } from './support/simulator.ts';

/**
 * Issue 13's acceptance for access reviews, in headless Chromium against the real `serve`
 * (review page on its HTTP server thread, decisions run by the main thread) and the simulator:
 * a campaign over 24 outside shares of four owners, made through the API from a saved query,
 * its links e-mailed to a real SMTP receiver; three owners open their links, keep some grants
 * and revoke the others; the revoked grants are gone from the simulator's ground truth, the
 * kept ones stay; a forged, expired or replayed link, and a link used for another owner's
 * item, are refused; tenant data on the page is text, under the page's CSP, without console errors.
 */

type PermTruth = Extract<TruthRecord, { kind: 'permission' }>;

const OWNERS = 4;
const PER_OWNER = 6;
/** Graph (and the simulator) refuse < > " / in names; & and ' pass, and entity-like text must stay text. */
const ODD_NAME = "R&amp;D 'plans' &lt;img src=x onerror=alert(1)&gt;.docx";
/** An outside address with a quoted local part: tenant data with markup in it, shown on the page. */
const ODD_GUEST = '"<img src=x onerror=document.title=1>"@evil.example';

const PASSWORD = 'correct horse battery staple';

const OUTSIDE_SHARES_SQL = `select p.drive_id, p.item_id, p.id as permission_id
from permissions p
join drive_items i on i.integration_id = p.integration_id and i.drive_id = p.drive_id and i.id = p.item_id
where p.is_external = true and p.deleted_at is null and i.deleted_at is null and i.path like '%Outside/%'`;

interface Link {
  owner: string;
  items: number;
  url: string;
}

describe('owners review their sharing in Chromium', { timeout: 180_000 }, () => {
  let ts: TestSim;
  let dir: string;
  let app: AppContext;
  let service: Service;
  let smtp: SmtpReceiver;
  let admin: ApiClient;
  /** Where `serve` listens: the API, the review page and the web app. */
  let base = '';
  let integrationId: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[] = [];
  let campaignId = 0;
  let links: Link[] = [];
  /** Review item id → the decision taken in the browser. */
  const decided = new Map<number, 'keep' | 'revoke'>();

  before(async () => {
    ensureWebBuild();
    ts = await startTestSim({
      seed: 13,
      users: 8,
      items: 80,
      sharedRatio: 0,
      anonymousRatio: 0,
      deltaRepeatRate: 0,
    });
    // Four owners, six files each in an "Outside" folder, each shared with someone outside.
    const drives = (await ts.admin.drives()).slice(0, OWNERS);
    assert.equal(drives.length, OWNERS, 'the tenant has four OneDrives');
    for (const [d, drive] of drives.entries()) {
      const folder = await ts.admin.mutate<{ itemId: string }>({
        op: 'createItem',
        driveId: drive.id,
        parentId: drive.rootId,
        name: 'Outside',
        folder: true,
      });
      for (let k = 0; k < PER_OWNER; k++) {
        const name = d === 0 && k === 0 ? ODD_NAME : `contract-${d}-${k}.docx`;
        const file = await ts.admin.mutate<{ itemId: string }>({
          op: 'createItem',
          driveId: drive.id,
          parentId: folder.itemId,
          name,
          size: 2048,
        });
        await ts.admin.mutate({
          op: 'share',
          driveId: drive.id,
          itemId: file.itemId,
          kind: 'external',
          email: d === 1 && k === 0 ? ODD_GUEST : `partner-${d}-${k}@fabrikam.example`,
        });
      }
    }

    dir = mkdtempSync(join(tmpdir(), 'dw-review-web-'));
    const port = await freePort();
    app = await openApp({
      dataDir: dir,
      logLevel: 'silent',
      'server.port': port,
      'alerts.allowPrivateTargets': true,
    });
    integrationId = (
      await app.integrations.create({
        name: 'contoso',
        ...simCredentials(ts.sim),
        verifiedDomains: ts.sim.verifiedDomains,
      })
    ).id;
    const user = await createUser(app.store.db, { username: 'admin', password: PASSWORD, role: 'admin' });
    const { token } = await createApiToken(app.store.db, { userId: user.id, name: 'test', role: 'admin' });
    smtp = await startSmtpReceiver({});
    service = await startService(app, { listen: { host: '127.0.0.1', port }, rules: false, alerts: false });
    await service.ready;
    base = `http://127.0.0.1:${port}`;
    admin = apiClient(base, token);

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    problems = pageProblems(page);
  });

  after(async () => {
    await browser?.close();
    await service?.close();
    await app?.close();
    await smtp?.close();
    await ts?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const truthPermissionIds = async () =>
    new Set(
      (await ts.admin.truthArray())
        .filter((r): r is PermTruth => r.kind === 'permission' && !r.isOwner)
        .map((r) => r.id),
    );
  const itemsOf = async (owner: string) =>
    app.store.db
      .selectFrom('review_items')
      .select(['id', 'permission_id', 'decision', 'item_path'])
      .where('campaign_id', '=', campaignId)
      .where('owner_email', '=', owner)
      .orderBy('id')
      .execute();
  /** The review item ids the page offers (one keep/revoke pair each). */
  const offered = async (p: Page) =>
    (
      await p
        .locator('input[type=radio][value=keep]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('name')))
    )
      .map((n) => Number(String(n).slice(2)))
      .sort((a, b) => a - b);
  const refusal = async (url: string, why: RegExp) => {
    const res = await page.goto(url);
    assert.equal(res?.status(), 403);
    await page.getByRole('heading', { name: 'This review link cannot be used' }).waitFor();
    assert.match((await page.locator('p').textContent()) ?? '', why);
  };

  test('a campaign over a saved query: one link per owner, each e-mailed to its owner', async () => {
    const channel = await admin.post('/api/v1/alerts/channels', {
      name: 'owners-mail',
      kind: 'email',
      config: {
        host: '127.0.0.1',
        port: smtp.port,
        security: 'none',
        from: 'drivewarden@contoso.test',
        to: ['secops@contoso.test'],
      },
    });
    assert.equal(channel.status, 201, channel.text);
    const saved = await admin.post('/api/v1/saved-queries', {
      name: 'outside-shares',
      description: 'Files in an Outside folder shared with people outside the organisation',
      sql: OUTSIDE_SHARES_SQL,
    });
    assert.equal(saved.status, 201, saved.text);
    const created = await admin.post('/api/v1/remediation/reviews', {
      integrationId,
      query: 'outside-shares',
      name: 'Q1 outside shares',
      expires: '2d',
      channel: 'owners-mail',
      baseUrl: base,
    });
    assert.equal(created.status, 201, created.text);
    campaignId = created.body.campaignId;
    const apiLinks: Link[] = created.body.links;
    assert.equal(apiLinks.length, OWNERS);
    assert.ok(apiLinks.every((l) => l.items === PER_OWNER));
    assert.deepEqual(
      created.body.sent.map((s: { ok: boolean; via: string }) => [s.ok, s.via]),
      apiLinks.map(() => [true, 'email']),
    );
    // The links as the owners get them: from the e-mails the SMTP server received.
    assert.equal(smtp.mails.length, OWNERS);
    links = smtp.mails.map((m) => {
      const text = mimeParts(m.raw)['text/plain'] ?? '';
      const url = /https?:\/\/\S+\/review\?t=[A-Za-z0-9_.-]+/.exec(text)?.[0];
      assert.ok(url, `a review link in the mail to ${m.to.join(', ')}`);
      assert.equal(m.to.length, 1);
      return { owner: m.to[0].toLowerCase(), items: PER_OWNER, url };
    });
    assert.deepEqual(links.map((l) => [l.owner, l.url]).sort(), apiLinks.map((l) => [l.owner, l.url]).sort());
  });

  test("tenant data on the page is text, under the page's CSP, without console errors", async () => {
    const odd = await app.store.db
      .selectFrom('review_items')
      .select(['owner_email'])
      .where('campaign_id', '=', campaignId)
      .where('item_path', 'like', `%${ODD_NAME.slice(0, 12)}%`)
      .executeTakeFirstOrThrow();
    const guest = await app.store.db
      .selectFrom('review_items')
      .select(['owner_email'])
      .where('campaign_id', '=', campaignId)
      .where('description', 'like', '%<img src=x%')
      .executeTakeFirstOrThrow();
    for (const owner of [odd.owner_email, guest.owner_email]) {
      const link = links.find((l) => l.owner === owner) as Link;
      const res = await page.goto(link.url);
      assert.equal(res?.status(), 200);
      const csp = res?.headers()['content-security-policy'] ?? '';
      assert.match(csp, /default-src 'none'/);
      await page.getByRole('heading', { name: 'Review the sharing of your files' }).waitFor();
      assert.deepEqual(
        await offered(page),
        (await itemsOf(owner)).map((r) => Number(r.id)),
      );
      assert.equal(await page.locator('script, img').count(), 0, 'no markup from tenant data');
      assert.notEqual(await page.title(), '1', 'no handler from tenant data ran');
    }
    // The file name shown exactly as it is in OneDrive (entities not decoded), the address as text.
    await page.goto((links.find((l) => l.owner === odd.owner_email) as Link).url);
    await page.getByText(`Outside/${ODD_NAME}`).waitFor();
    await page.goto((links.find((l) => l.owner === guest.owner_email) as Link).url);
    await page.getByText(ODD_GUEST.toLowerCase()).waitFor();
    await screenshot(page, 'review-page');
    assert.deepEqual(problems, []);
  });

  test('three owners keep some grants and revoke the others; the revoked ones leave the tenant', async () => {
    const before = await truthPermissionIds();
    for (const link of links.slice(0, 3)) {
      await page.goto(link.url);
      const ids = await offered(page);
      assert.equal(ids.length, PER_OWNER);
      // Keep the first two, revoke the rest; every decision with a reason.
      for (const [n, id] of ids.entries()) {
        const decision = n < 2 ? 'keep' : 'revoke';
        await page.check(`input[name="d_${id}"][value="${decision}"]`);
        await page.fill(`input[name="j_${id}"]`, `${decision}: <b>reviewed</b> & checked`);
        decided.set(id, decision);
      }
      await page.getByRole('button', { name: 'Send my decisions' }).click();
      await page.getByRole('heading', { name: 'Thank you' }).waitFor();
      assert.match(
        (await page.locator('body').textContent()) ?? '',
        new RegExp(`Kept 2, revoked ${PER_OWNER - 2}\\.`),
      );
      assert.equal(await page.locator('li').count(), PER_OWNER - 2, 'each revocation with its result');
      for (const li of await page.locator('li').allTextContents()) assert.match(li, /: access removed$/);
    }
    await screenshot(page, 'review-answered');

    const after = await truthPermissionIds();
    const rows = await app.store.db
      .selectFrom('review_items')
      .select(['id', 'permission_id', 'decision', 'decided_by', 'justification'])
      .where('campaign_id', '=', campaignId)
      .execute();
    assert.equal(rows.length, OWNERS * PER_OWNER);
    for (const r of rows) {
      assert.ok(before.has(r.permission_id), `${r.permission_id} was live before`);
      const want = decided.get(Number(r.id)) ?? null;
      assert.equal(r.decision, want);
      if (want === 'revoke') assert.ok(!after.has(r.permission_id), `revoked ${r.permission_id} is gone`);
      else assert.ok(after.has(r.permission_id), `${r.permission_id} (${want ?? 'unanswered'}) stays`);
      if (want) assert.equal(r.justification, `${want}: <b>reviewed</b> & checked`);
    }
    const trail = await app.store.db
      .selectFrom('remediation_actions')
      .select(['actor', 'result'])
      .where(
        'permission_id',
        'in',
        rows.filter((r) => r.decision === 'revoke').map((r) => r.permission_id),
      )
      .execute();
    assert.equal(trail.length, 3 * (PER_OWNER - 2));
    assert.ok(trail.every((t) => t.result === 'done' && t.actor.startsWith('review:')));
    assert.deepEqual(problems, []);
  });

  test('a forged, expired or replayed link, or a link used for another owner’s item, is refused', async () => {
    const [answered, , third, unanswered] = links;
    // Forged: one character of the signed payload changed.
    const token = new URL(unanswered.url).searchParams.get('t') as string;
    const at = 8;
    const forged = new URL(unanswered.url);
    forged.searchParams.set(
      't',
      `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`,
    );
    await refusal(forged.href, /signature is not valid/);

    // Expired: a link issued by the campaign for that owner whose expiry has passed.
    const expired = await issueLink(app.store.db, reviewLinkKey(dir), {
      campaignId,
      owner: unanswered.owner,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const expiredUrl = new URL(unanswered.url);
    expiredUrl.searchParams.set('t', expired);
    await refusal(expiredUrl.href, /expired/);

    // Replayed: the used link opened again.
    await refusal(answered.url, /already used/);

    // A second link for the fourth owner (as a manager gets on escalation), open in two tabs.
    const fresh = await issueLink(app.store.db, reviewLinkKey(dir), {
      campaignId,
      owner: unanswered.owner,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    const freshUrl = new URL(unanswered.url);
    freshUrl.searchParams.set('t', fresh);
    const second = await context.newPage();
    try {
      await second.goto(freshUrl.href);
      await page.goto(freshUrl.href);
      // A tab in the background gets no animation frames, which Playwright's clicks wait for.
      await page.bringToFront();
      const ids = await offered(page);
      assert.equal(ids.length, PER_OWNER);
      const keepAll = async () => {
        for (const id of ids) await page.check(`input[name="d_${id}"][value="keep"]`);
      };
      const send = async (p: Page) =>
        (
          await Promise.all([
            p.waitForResponse((r) => r.request().method() === 'POST'),
            p.getByRole('button', { name: 'Send my decisions' }).click(),
          ])
        )[0];

      // Another owner's item slipped into the form: the decision POST with a foreign item id.
      await keepAll();
      const foreign = Number((await itemsOf(third.owner))[2].id);
      await page.locator(`input[name="d_${ids[0]}"]`).evaluateAll((els, name) => {
        for (const e of els) e.setAttribute('name', name);
      }, `d_${foreign}`);
      assert.equal((await send(page)).status(), 403);
      await page.getByRole('heading', { name: 'This review link cannot be used' }).waitFor();
      assert.match(
        (await page.locator('p').textContent()) ?? '',
        new RegExp(`item ${foreign} is not yours to decide`),
      );
      assert.equal(
        (await itemsOf(third.owner)).find((r) => Number(r.id) === foreign)?.decision,
        decided.get(foreign),
        'the other owner’s decision is untouched',
      );
      assert.ok(
        (await itemsOf(unanswered.owner)).every((r) => r.decision === null),
        'nothing decided',
      );

      // The refused form did not spend the link: back to it, every grant kept, not sent yet.
      await page.goBack();
      assert.deepEqual(await offered(page), ids);
      await keepAll();
      // Meanwhile the second tab revokes everything with the same link...
      await second.bringToFront();
      for (const id of ids) await second.check(`input[name="d_${id}"][value="revoke"]`);
      assert.equal((await send(second)).status(), 200);
      await second.getByRole('heading', { name: 'Thank you' }).waitFor();
      for (const id of ids) decided.set(id, 'revoke');
      // ...so the first tab's decisions are a replay of a spent link.
      await page.bringToFront();
      assert.equal((await send(page)).status(), 403);
      assert.match((await page.locator('p').textContent()) ?? '', /already used/);
      assert.ok((await itemsOf(unanswered.owner)).every((r) => r.decision === 'revoke'));
    } finally {
      await second.close();
    }
    // The owner's own (e-mailed) link: nothing left to decide, but still a valid link (not spent).
    await page.goto(unanswered.url);
    assert.deepEqual(await offered(page), []);
    // Chromium logs each refused page's 403 as a failed load; nothing else is expected.
    assert.deepEqual(
      problems.filter((p) => !/Failed to load resource: .* 403 \(Forbidden\)$/.test(p)),
      [],
    );
    assert.equal(problems.length, 5, problems.join('\n'));
  });

  test("the campaign report counts the owners' answers, lists who was asked, and downloads as CSV", async () => {
    const report = await admin.get(`/api/v1/remediation/reviews/${campaignId}`);
    assert.equal(report.status, 200, report.text);
    const revoked = [...decided.values()].filter((d) => d === 'revoke').length;
    const kept = [...decided.values()].filter((d) => d === 'keep').length;
    assert.deepEqual(
      {
        total: report.body.total,
        answered: report.body.answered,
        kept: report.body.kept,
        revoked: report.body.revoked,
        unanswered: report.body.unanswered,
      },
      { total: OWNERS * PER_OWNER, answered: kept + revoked, kept, revoked, unanswered: 0 },
    );
    assert.deepEqual(
      report.body.notices.map((n: { owner: string; step: string; via: string; status: string }) => [
        n.owner,
        n.step,
        n.via,
        n.status,
      ]),
      links.map((l) => [l.owner, 'owner', 'email', 'sent']),
    );
    const csv = await admin.get(`/api/v1/remediation/reviews/${campaignId}?format=csv`);
    assert.equal(csv.status, 200);
    assert.equal(csv.text.trim().split('\n').length, 1 + OWNERS * PER_OWNER);
  });
  test("the web app shows each campaign's counts, its report with who was asked, and the CSV", async () => {
    // A follow-up campaign over what is still shared (the kept grants), nobody answers, and the
    // service's escalation round runs a day later: each owner's items go to their manager or the admins.
    const followUp = await admin.post('/api/v1/remediation/reviews', {
      integrationId,
      query: 'outside-shares',
      name: 'Q2 follow-up',
      expires: '7d',
      channel: 'owners-mail',
      escalateAfterDays: 1,
      escalationChannel: 'owners-mail',
      baseUrl: base,
    });
    assert.equal(followUp.status, 201, followUp.text);
    const followUpId: number = followUp.body.campaignId;
    const kept = [...decided.values()].filter((d) => d === 'keep').length;
    const open = kept;
    const sender = openReviewSender(app, async () => {
      throw new Error('no chat in this test');
    });
    try {
      const round = await escalateDue(app, sender, new Date(Date.now() + 86_400_000 + 60_000));
      assert.equal(round.failed, 0);
      assert.equal(round.managers + round.admins, followUp.body.links.length);
    } finally {
      await sender.close();
    }

    const seen = problems.length;
    await page.goto(`${base}/`);
    await page.waitForURL(/\/sign-in/);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByRole('link', { name: 'Remediation' }).click();
    await page.getByRole('heading', { level: 1, name: 'Remediation trail' }).waitFor();
    const row = (name: string) => page.getByRole('row').filter({ hasText: name });
    const cells = async (name: string) => (await row(name).getByRole('cell').allTextContents()).slice(3);
    await row('Q1 outside shares').waitFor();
    const revoked = decided.size - kept;
    // Answered, kept, revoked, unanswered, escalated.
    assert.deepEqual(await cells('Q1 outside shares'), [
      `${decided.size} of ${OWNERS * PER_OWNER}`,
      String(kept),
      String(revoked),
      '0',
      '0',
    ]);
    assert.deepEqual(await cells('Q2 follow-up'), [`0 of ${open}`, '0', '0', String(open), String(open)]);

    await row('Q2 follow-up').getByRole('link', { name: 'Q2 follow-up' }).click();
    const report = page.getByRole('region', { name: 'campaign report' });
    await report.getByRole('heading', { name: 'Report: Q2 follow-up' }).waitFor();
    const count = (k: string) => report.locator(`dd[data-count="${k}"]`).textContent();
    assert.deepEqual(
      await Promise.all(['total', 'answered', 'kept', 'revoked', 'unanswered', 'escalated'].map(count)),
      [open, 0, 0, 0, open, open].map(String),
    );
    // Who was asked: each owner by e-mail, then their manager or the admins' channel.
    const notices = report.getByRole('table', { name: 'Who was asked' });
    const shown = await notices
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    // Step, for the files of, asked, how, grants, result.
    const table = shown.map((cells) => cells.slice(1));
    const owners: string[] = followUp.body.links.map((l: { owner: string }) => l.owner);
    assert.equal(table.length, 2 * owners.length);
    for (const owner of owners) {
      const mine = table.filter((c) => c[1] === owner);
      assert.deepEqual(mine[0], ['owner', owner, owner, 'email', String(mine[0][4]), 'sent']);
      assert.ok(
        (mine[1][0] === "owner's manager" && mine[1][3] === 'email') ||
          (mine[1][0] === 'admins' && String(mine[1][3]).startsWith('channel:')),
        `${owner} escalated: ${mine[1].join(' | ')}`,
      );
      assert.match(String(mine[1][5]), /^sent( \(.+\))?$/);
    }
    await screenshot(page, 'review-report');

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      report.getByRole('link', { name: 'Download the report (CSV)' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `campaign-${followUpId}.csv`);
    const csv = readFileSync(await download.path(), 'utf8')
      .trim()
      .split('\n');
    assert.equal(
      csv[0],
      'owner,item_path,permission_id,decision,decided_at,decided_by,justification,escalated_to',
    );
    assert.equal(csv.length, 1 + open);
    assert.ok(
      csv.slice(1).every((l) => /,(manager|admins)$/.test(l)),
      'every row escalated',
    );
    // Failed loads are the favicon the server does not have; script errors are not expected.
    assert.deepEqual(
      problems.slice(seen).filter((p) => !p.startsWith('console: Failed to load resource')),
      [],
    );
  });
});
