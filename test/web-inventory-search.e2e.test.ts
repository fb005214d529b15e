import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Browser, Page } from 'playwright-core';
import { createUser } from '../src/auth/principals.ts';
import { syncIntegration } from '../src/collect/sync.ts';
import { AUTO_FURTHER_PAGES } from '../web/src/ui.tsx';
import { startTestApi, type TestApi } from './support/api.ts';
import { ensureWebBuild, launchChromium, pageProblems, screenshot } from './support/browser.ts';
import { simClient, simContext } from './support/collector.ts';
import { registerIntegration } from './support/rules.ts';
import { startTestSim, type TestSim } from './support/simulator.ts';

/**
 * The inventory list in Chromium when a filter matches rarely: GET /inventory/items examines a
 * bounded window per request and can answer an empty page with a nextCursor (at 1,000,000 items,
 * a rare extension after its 1 s ceiling). Here the server examines WINDOW items per request
 * (ApiDeps.itemListBounds: no time for a second window), so a 150-item tenant gives such pages.
 * The page must say the search is unfinished, continue it (by itself, then on a click) and find
 * the match; "No items match" only where the list really ends.
 */

const INT = 'int-web-search';
const USER = 'carol';
const PASSWORD = 'correct horse battery staple';
const WINDOW = 3;
/** Items one request of the page examines before it asks: the first page and its automatic continuations. */
const BEFORE_ASKING = WINDOW * (1 + AUTO_FURTHER_PAGES);

describe('inventory search over empty pages in Chromium', { timeout: 120_000 }, () => {
  let ts: TestSim;
  let api: TestApi;
  let browser: Browser;
  let page: Page;
  let problems: string[] = [];

  before(async () => {
    const webDir = ensureWebBuild();
    ts = await startTestSim({ seed: 11, users: 6, items: 150 });
    api = await startTestApi({
      api: { webDir, itemListBounds: { window: WINDOW, budgetMs: 0, ceilingMs: 0, gatherMax: 0 } },
    });
    await registerIntegration(api.app.store.db, 'sqlite', INT, ts.sim.tenantId);
    const client = simClient(ts.sim);
    try {
      await syncIntegration(simContext(api.app.store, ts.sim, client, INT), { mode: 'full' });
    } finally {
      await client.close();
    }
    await createUser(api.app.store.db, { username: USER, password: PASSWORD, role: 'viewer' });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
    problems = pageProblems(page);
    await page.goto(new URL('/', api.url).toString());
    await page.waitForURL(/\/sign-in\?next=/);
    await page.getByLabel('Username').fill(USER);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await ts?.close();
  });

  /** Live items in the name order the list walks (its index: name, integration, drive, id). */
  async function itemsInNameOrder(): Promise<{ name: string | null; extension: string | null }[]> {
    const { rows } = await sql<{ name: string | null; extension: string | null }>`select name, extension
      from drive_items where deleted_at is null
      order by coalesce(name, ''), integration_id, drive_id, id`.execute(api.app.store.db);
    return rows;
  }

  const filterBy = async (extension: string) => {
    await page.goto(new URL(`/inventory?extension=${extension}`, api.url).toString());
    await page.getByRole('heading', { level: 1, name: 'Inventory' }).waitFor();
  };
  const noMatch = () => page.getByText('No items match these filters.');
  const paused = () => page.getByRole('button', { name: 'Search further' });
  const fail = async (err: unknown, name: string) => {
    await screenshot(page, name).catch(() => undefined);
    if (problems.length) (err as Error).message += `\nin the page:\n${problems.join('\n')}`;
    throw err;
  };

  test('a match past the first empty pages: "searched so far", then found, never "no items match"', async () => {
    try {
      const items = await itemsInNameOrder();
      const order = items.map((i) => i.extension);
      // An extension first met past what the page searches before asking, and before twice that.
      const extension = [...new Set(order)].find((e) => {
        const first = order.indexOf(e);
        return e !== null && first >= BEFORE_ASKING && first < 2 * BEFORE_ASKING;
      });
      assert.ok(
        extension,
        `an extension first met at items ${BEFORE_ASKING}–${2 * BEFORE_ASKING - 1}: ${JSON.stringify([...new Set(order)].map((e) => [e, order.indexOf(e)]))}`,
      );
      const firstMatch = items[order.indexOf(extension)].name;
      await filterBy(extension);
      // The empty pages are followed by themselves, then the page asks.
      await paused().waitFor();
      await page.getByText('No matches in the items searched so far.').waitFor();
      assert.equal(await noMatch().count(), 0, 'an unfinished search is not "no items match"');
      await screenshot(page, 'inventory-search-paused');
      await paused().click();
      const table = page.getByRole('table', { name: 'Files and folders' });
      await table.getByRole('link').first().waitFor();
      assert.equal(await table.getByRole('link').first().textContent(), firstMatch);
      assert.equal(await noMatch().count(), 0);
      assert.equal(await page.getByText('searched so far').count(), 0, 'found: no longer searching');
      await page.getByText('Page 1', { exact: true }).waitFor();
    } catch (err) {
      await fail(err, 'failed-inventory-search-found');
    }
  });

  test('a filter nothing matches says so only at the end of the list', async () => {
    try {
      const pages = Math.ceil((await itemsInNameOrder()).length / WINDOW);
      await filterBy('nosuchext');
      let clicks = 0;
      for (;;) {
        await Promise.race([paused().waitFor(), noMatch().waitFor()]);
        if ((await noMatch().count()) > 0) break;
        assert.ok(clicks++ < pages, 'the search ends');
        await paused().click();
      }
      assert.ok(clicks >= Math.floor(pages / (1 + AUTO_FURTHER_PAGES)) - 1, `asked ${clicks} times`);
      assert.equal(await page.getByText('searched so far').count(), 0);
    } catch (err) {
      await fail(err, 'failed-inventory-search-none');
    }
  });
});
