import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SimAdminClient } from '../sim/admin-client.ts';
import type { SimHandle } from '../sim/contracts.ts';
import { startSimulator } from '../sim/index.ts';
import { runRules } from '../src/app/rules.ts';
import { syncOnce } from '../src/app/sync-once.ts';
import { createUser } from '../src/auth/principals.ts';
import { type HttpReceiver, startHttpReceiver } from './support/alert-receivers.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { ensureWebBuild, launchChromium, pageProblems, screenshot } from './support/browser.ts';
import { waitFor } from './support/wait.ts';

/**
 * Issue 12's acceptance in headless Chromium, against a real server (the REST API and the
 * built web app on 127.0.0.1) and the Graph simulator: sign in; add an integration with
 * credentials and watch its collection finish; filter the inventory to publicly exposed files;
 * open one and see who can reach it; see its finding and suppress it with a reason; run a SQL
 * query and export CSV; add a webhook channel and send a test to a real receiver; watch a new
 * finding appear live after a change in the tenant; connect a tenant with "Connect with
 * Microsoft". Every main page is saved as a screenshot (test-artifacts/screens).
 *
 * The service's part (collecting an integration when it is added, rules after a change) is
 * played by the test through the same app functions the service calls.
 */

const USER = 'alice';
const PASSWORD = 'correct horse battery staple';

describe('web app in Chromium', { timeout: 180_000 }, () => {
  let sim: SimHandle;
  let simAdmin: SimAdminClient;
  let api: TestApi;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[] = [];
  let receiver: HttpReceiver;
  const collections: Promise<unknown>[] = [];
  let integrationId = '';

  /** Off for the last integration (the same tenant again): its collection would only double the data. */
  let collectOnAdd = true;
  /** What `serve` does when an integration is added: a full collection, then the rules. */
  const collect = (id: string) => {
    if (!collectOnAdd) return;
    const run = (async () => {
      await syncOnce(api.app, { integration: id, full: true });
      await runRules(api.app, { integration: id, full: true });
    })();
    collections.push(run.catch(() => undefined));
  };

  before(async () => {
    const t0 = Date.now();
    const mark = (what: string) => {
      if (process.env.DW_WEB_TIMINGS) console.log(`${what}: ${Date.now() - t0} ms`);
    };
    const webDir = ensureWebBuild();
    mark('build');
    // The generated history ends today, so the audit feed's last 7 days hold events (the activity page).
    sim = await startSimulator({
      seed: 7,
      users: 20,
      items: 300,
      // Audit content available a second after the activity.
      events: { auditDelaySeconds: 0, auditBlobSeconds: 1, auditLateRate: 0, auditDuplicateRate: 0 },
    });
    simAdmin = new SimAdminClient(sim);
    mark('simulator');
    // Two days of people at work and one mass download, for the activity page and its anomalies.
    await simAdmin.mutate({ op: 'backgroundActivity', days: 2, seed: 3 });
    await simAdmin.mutate({ op: 'attack', scenario: 'massDownload' });
    mark('activity');
    receiver = await startHttpReceiver();
    api = await startTestApi({
      config: {
        alerts: { allowPrivateTargets: true },
        // "Connect with Microsoft": the simulator plays drivewarden's multi-tenant app registration.
        connect: {
          clientId: sim.clientId,
          clientSecret: sim.clientSecret,
          authority: sim.authorityUrl,
          graphBaseUrl: sim.graphBaseUrl,
          managementBaseUrl: sim.managementBaseUrl,
          caFile: sim.caCertPath,
        },
      },
      hooks: { integrationAdded: (id: string) => collect(id) },
      api: { webDir, liveEventsIntervalMs: 250 },
    });
    await createUser(api.app.store.db, { username: USER, password: PASSWORD, role: 'admin' });
    mark('api and user');
    browser = await launchChromium();
    mark('chromium');
    // The simulator's consent page is HTTPS with its own CA.
    context = await browser.newContext({
      ignoreHTTPSErrors: true,
      acceptDownloads: true,
      viewport: { width: 1400, height: 900 },
    });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    problems = pageProblems(page);
  });

  after(async () => {
    if (process.env.DW_WEB_TIMINGS) console.log('step ms', timings.join(' '));
    await browser?.close();
    await Promise.all(collections);
    await api?.close();
    await receiver?.close();
    await simAdmin?.close();
    await sim?.close();
  });

  const url = (path: string) => new URL(path, api.url).toString();
  const heading = (name: string | RegExp) => page.getByRole('heading', { level: 1, name });
  const explain = (err: unknown) => {
    if (problems.length) (err as Error).message += `\nin the page:\n${problems.join('\n')}`;
    return err;
  };
  let failures = 0;
  /** Runs a step; on failure the page is saved (test-artifacts/screens/failed-*.png) and its errors told. */
  const step = async (fn: () => Promise<void>) => {
    const started = Date.now();
    try {
      await fn();
    } catch (err) {
      await screenshot(page, `failed-${++failures}`).catch(() => undefined);
      throw explain(err);
    } finally {
      timings.push(Date.now() - started);
    }
  };
  const timings: number[] = [];

  test('sign in', () =>
    step(async () => {
      await page.goto(url('/'));
      await page.waitForURL(/\/sign-in\?next=/);
      await screenshot(page, '01-sign-in');
      await page.getByLabel('Username').fill(USER);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await heading('Overview').waitFor();
      assert.equal(new URL(page.url()).pathname, '/');
    }));

  test('add an integration with credentials: the probe, then its collection finishes', () =>
    step(async () => {
      await page.getByRole('link', { name: 'Integrations' }).click();
      await heading('Integrations').waitFor();
      const form = page.getByRole('form', { name: 'add integration' });
      await form.getByLabel('Name').fill('contoso');
      await form.getByLabel('Tenant id').fill(sim.tenantId);
      await form.getByLabel('Client id').fill(sim.clientId);
      await form.getByLabel('Client secret').fill(sim.clientSecret);
      await form.getByText('Certificate, national clouds, the simulator').click();
      await form.getByLabel('Graph base URL').fill(sim.graphBaseUrl);
      await form.getByLabel('Authority URL').fill(sim.authorityUrl);
      await form.getByLabel('Management API base URL').fill(sim.managementBaseUrl);
      await form.getByLabel('Extra CA certificate (PEM)').fill(readFileSync(sim.caCertPath, 'utf8'));
      await form.getByRole('button', { name: 'Add integration' }).click();
      const probe = form.getByRole('table', { name: 'Permission probe' });
      await probe.waitFor();
      assert.ok((await probe.getByText('granted', { exact: true }).count()) > 3, 'permissions granted');
      const row = page.getByRole('row', { name: /contoso/ });
      await row.waitFor();
      integrationId = (await api.admin.get('/api/v1/integrations')).body.items.find(
        (i: { name: string }) => i.name === 'contoso',
      ).id;
      // The collection runs in the background; the page shows it finish without a reload.
      await row
        .locator('.status')
        .filter({ hasText: /^(ok|degraded)$/ })
        .waitFor({ timeout: 60_000 });
      await Promise.all(collections);
      await screenshot(page, '12-integrations');
    }));

  let publicItem: { name: string; href: string; findingId: number } | undefined;

  test('filter the inventory to publicly exposed files; open one and see who can reach it', () =>
    step(async () => {
      // A public file with an open finding (the anonymous-link rules), among the first page.
      const list = await api.admin.get('/api/v1/inventory/items?exposure=public&folder=false&limit=50');
      assert.equal(list.status, 200, list.text);
      for (const item of list.body.items as { integrationId: string; id: string; name: string }[]) {
        const detail = await api.admin.get(
          `/api/v1/inventory/items/${encodeURIComponent(item.integrationId)}/${encodeURIComponent(item.id)}`,
        );
        const open = (detail.body.findings as { id: number; status: string }[]).find(
          (f) => f.status === 'open',
        );
        if (open) {
          const href = `/inventory/items/${encodeURIComponent(item.integrationId)}/${encodeURIComponent(item.id)}`;
          publicItem = { name: item.name, href, findingId: open.id };
          break;
        }
      }
      assert.ok(publicItem, 'the tenant has a public file with an open finding');

      await page.getByRole('link', { name: 'Inventory' }).click();
      await heading('Inventory').waitFor();
      const filters = page.getByRole('form', { name: 'filter items' });
      await filters.getByLabel('Exposure').selectOption('public');
      await filters.getByLabel('Kind').selectOption('false');
      await filters.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForURL(/exposure=public/);
      const table = page.getByRole('table', { name: 'Files and folders' });
      // The unfiltered rows stay shown, marked busy, until the filtered page arrives: wait for a
      // settled table whose rows are all public (the assertions below say what differs).
      await page
        .waitForFunction(
          () => {
            const t = [...document.querySelectorAll('table')].find(
              (x) => x.querySelector('caption')?.textContent === 'Files and folders',
            );
            const badges = t ? [...t.querySelectorAll('tbody .badge.exp')] : [];
            return (
              !t?.hasAttribute('aria-busy') &&
              badges.length > 0 &&
              badges.every((b) => b.textContent === 'public')
            );
          },
          undefined,
          { timeout: 15_000 },
        )
        .catch(() => {});
      const link = table.locator(`a[href="${publicItem.href}"]`);
      await link.waitFor();
      assert.equal(await link.textContent(), publicItem.name);
      const exposures = await table.locator('tbody .badge.exp').allTextContents();
      assert.ok(exposures.length > 0);
      assert.deepEqual([...new Set(exposures)], ['public']);
      await screenshot(page, '03-inventory-public');

      await link.click();
      await heading(publicItem.name).waitFor();
      const reach = page.getByRole('table', { name: /accessors \(groups expanded\)/ });
      await reach.waitFor();
      assert.ok(
        (await reach.getByRole('cell', { name: /anyone link/ }).count()) > 0,
        'an anonymous link reaches the file',
      );
      await screenshot(page, '04-resource');
      await screenshot(page, 'readme-resource', { fullPage: false });
    }));

  test('see its finding and suppress it with a reason', () =>
    step(async () => {
      assert.ok(publicItem);
      const findings = page.locator('h2#findings + .table-wrap table');
      await findings.getByRole('link').first().waitFor();
      await page.locator(`a[href="/findings/${publicItem.findingId}"]`).first().click();
      await page.waitForURL(new RegExp(`/findings/${publicItem.findingId}$`));
      const form = page.getByRole('form', { name: 'suppress finding' });
      await form.getByLabel('Reason for suppressing').fill('Press kit: public on purpose');
      await form.getByLabel('Until (optional)').fill('2030-12-31');
      await form.getByRole('button', { name: 'Suppress' }).click();
      await page.getByRole('status').filter({ hasText: 'Suppressed.' }).waitFor();
      await page.getByText('“Press kit: public on purpose” until 2030-12-31').waitFor();
      const stored = await api.admin.get(`/api/v1/findings/${publicItem.findingId}`);
      assert.equal(stored.body.status, 'suppressed');
      assert.equal(stored.body.suppression.reason, 'Press kit: public on purpose');
      await screenshot(page, '06-finding-suppressed');
    }));

  test('run a SQL query and export CSV', () =>
    step(async () => {
      await page.getByRole('link', { name: 'Query' }).click();
      await heading('Query console').waitFor();
      const editor = page.getByLabel('SQL (read-only)');
      await editor.fill('select name, size from ');
      // Typed, so completion is offered from the schema: "drive_it" completes to drive_items.
      await editor.press('End');
      await editor.pressSequentially('drive_it');
      await page
        .getByRole('option', { name: /drive_items/ })
        .first()
        .waitFor();
      await editor.press('Tab');
      await editor.fill(
        `${await editor.inputValue()} where is_folder = false and deleted_at is null order by size desc limit 5`,
      );
      assert.equal(
        await editor.inputValue(),
        'select name, size from drive_items where is_folder = false and deleted_at is null order by size desc limit 5',
      );
      await page.getByRole('button', { name: 'Run query' }).click();
      const grid = page.getByRole('table', { name: 'query results' });
      await grid.waitFor();
      assert.equal(await grid.locator('tbody tr').count(), 5);
      assert.deepEqual(await grid.locator('thead th').allTextContents(), ['name', 'size']);
      await screenshot(page, '07-query');
      await screenshot(page, 'readme-query', { fullPage: false });

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name: 'Export CSV' }).click(),
      ]);
      assert.match(download.suggestedFilename(), /\.csv$/);
      const csv = readFileSync(await download.path(), 'utf8')
        .trim()
        .split(/\r?\n/);
      assert.equal(csv[0], 'name,size');
      assert.equal(csv.length, 6, 'a header and five rows');
    }));

  test("the custom-rule editor shows the server's validation error", () =>
    step(async () => {
      await page.goto(url('/rules/new'));
      await heading('New custom rule').waitFor();
      const yaml = page.getByLabel('Definition (rule.yaml)');
      await yaml.fill((await yaml.inputValue()).replace('severity: medium', 'severity: dreadful'));
      await page.getByRole('button', { name: 'Validate and save' }).click();
      const error = page.getByRole('alert').filter({ hasText: /severity/ });
      await error.waitFor();
      assert.match((await error.textContent()) ?? '', /severity/);
      assert.equal(new URL(page.url()).pathname, '/rules/new', 'nothing saved, still editing');
    }));

  test('add a webhook channel and send a test', () =>
    step(async () => {
      await page.getByRole('link', { name: 'Alerts' }).click();
      await heading('Alerts').waitFor();
      const form = page.getByRole('form', { name: 'add channel' });
      await form.getByLabel('Channel name').fill('soc-webhook');
      await form.getByLabel('Kind').selectOption('webhook');
      await form.getByLabel('URL').fill(receiver.url);
      await form.getByRole('button', { name: 'Add channel' }).click();
      await form.getByText(/Signing secret, shown this once/).waitFor();
      const row = page.getByRole('table', { name: 'Channels' }).getByRole('row', { name: /soc-webhook/ });
      await row.waitFor();
      // The target is shown masked: never the full URL.
      assert.equal(await row.getByText(receiver.url, { exact: true }).count(), 0);
      await row.getByRole('button', { name: 'Send test to soc-webhook' }).click();
      await page
        .getByRole('status')
        .filter({ hasText: /Test alert delivered to soc-webhook/ })
        .waitFor();
      await waitFor('the test alert at the receiver', () => receiver.requests.length > 0);
      assert.equal(receiver.requests[0].method, 'POST');
      assert.ok(receiver.requests[0].headers['webhook-signature'], 'signed');
      await screenshot(page, '11-alerts');
    }));

  test('a new finding appears live after a change in the tenant', () =>
    step(async () => {
      // Open findings, newest first.
      await page.getByRole('link', { name: 'Findings' }).click();
      await heading('Findings').waitFor();
      const filters = page.getByRole('form', { name: 'filter findings' });
      await filters.getByLabel('Status').selectOption('open');
      await filters.getByLabel('Sort by').selectOption('-firstSeen');
      await filters.getByRole('button', { name: 'Apply filters' }).click();
      await page.waitForURL(/sort=-firstSeen/);
      const table = page.getByRole('table', { name: 'Findings' });
      await table.locator('tbody tr').first().waitFor();
      // A private file of the tenant gets an "Anyone" link.
      const drives = await simAdmin.drives();
      let shared: { driveId: string; id: string; name: string } | undefined;
      for (const drive of drives) {
        const file = (await simAdmin.items(drive.id)).find(
          (i) => !i.isFolder && !i.deleted && i.parentId !== null && !i.name.includes('public'),
        );
        if (file) {
          const row = await api.admin.get(
            `/api/v1/inventory/items/${encodeURIComponent(integrationId)}/${encodeURIComponent(file.id)}`,
          );
          if (row.status === 200 && row.body.item.exposure === 'private') {
            shared = { driveId: drive.id, id: file.id, name: file.name };
            break;
          }
        }
      }
      assert.ok(shared, 'a private file to share');
      // The overview's live feed, in a second tab, shows it too.
      const overview = await context.newPage();
      await overview.goto(url('/'));
      await overview.getByText('connected', { exact: true }).waitFor();
      const before = page.url();
      await simAdmin.mutate({
        op: 'share',
        driveId: shared.driveId,
        itemId: shared.id,
        kind: 'anonymous',
        linkType: 'edit',
      });
      // What the service does on the change notification: a delta round, then the rules.
      await syncOnce(api.app, { integration: integrationId });
      await runRules(api.app, { integration: integrationId });
      const fresh = table
        .getByRole('row')
        .filter({ hasText: shared.name })
        .filter({ has: page.locator('.badge.new') });
      await fresh.first().waitFor({ timeout: 20_000 });
      assert.equal(page.url(), before, 'no navigation');
      await overview
        .getByRole('list', { name: 'live feed' })
        .getByRole('listitem')
        .filter({ hasText: /finding opened/ })
        .filter({ hasText: shared.name })
        .first()
        .waitFor();
      await screenshot(overview, '02-overview-live');
      await screenshot(overview, 'readme-overview', { fullPage: false });
      await overview.close();
      await screenshot(page, '05-findings-live');
    }));

  test('every main page renders (screenshots)', () =>
    step(async () => {
      const pages: [string, string, string | RegExp][] = [
        ['/', '02-overview', 'Overview'],
        ['/inventory?tab=users', '03-inventory-users', 'Inventory'],
        ['/storage', '08-storage', 'Storage'],
        ['/rules', '09-rules', 'Rules'],
        ['/rules/permission_anonymous_link_absent', '09-rule', /.+/],
        ['/packs', '10-packs', 'Packs'],
        ['/activity', '13-activity', 'Activity'],
        ['/remediation', '14-remediation', 'Remediation trail'],
      ];
      for (const [path, name, title] of pages) {
        await page.goto(url(path));
        await heading(title).waitFor();
        await page.waitForFunction(() => !(document.body.textContent ?? '').includes('Loading…'));
        await screenshot(page, name);
      }
      assert.deepEqual(
        problems.filter((p) => p.startsWith('page error') || /Content Security Policy/i.test(p)),
        [],
        'no script errors and nothing the page policy (CSP) refused, in any page',
      );
    }));

  test('connect a tenant with "Connect with Microsoft"', () =>
    step(async () => {
      collectOnAdd = false;
      await page.getByRole('link', { name: 'Integrations' }).click();
      await heading('Integrations').waitFor();
      await page.getByRole('button', { name: 'Connect with Microsoft' }).click();
      // To the simulator's admin-consent endpoint and back through the callback.
      await page.waitForURL(/\/integrations\?added=/, { timeout: 20_000 });
      await page
        .getByRole('status')
        .filter({ hasText: /Connected: integration .+ was added/ })
        .waitFor();
      const added = new URL(page.url()).searchParams.get('added');
      const list = (await api.admin.get('/api/v1/integrations')).body.items as {
        id: string;
        tenantId: string;
      }[];
      const connected = list.find((i) => i.id === added);
      assert.ok(connected, 'the connected integration is listed');
      assert.equal(connected.tenantId, sim.tenantId);
      // Listed (status, last sync) without a reload once its collection starts.
      await page
        .getByRole('row', { name: new RegExp(connected.tenantId) })
        .first()
        .waitFor();
      await screenshot(page, '12-integrations-connected');
    }));
});
