import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { connect } from 'node:tls';
import type { Browser, Page } from 'playwright-core';
import { startTestApi, type TestApi } from './support/api.ts';
import { ensureWebBuild, launchChromium, pageProblems, screenshot } from './support/browser.ts';
import { startTestSim, type TestSim } from './support/simulator.ts';

/**
 * "Sign in with Microsoft" in headless Chromium: the web app's button, the simulator's account
 * picker (Entra ID's page), the callback, and the web app signed in with the mapped role; an
 * account without a role comes back to the sign-in page with the reason.
 *
 * Chromium trusts the simulator's certificate by its public key only
 * (--ignore-certificate-errors-spki-list): every other certificate check stays on.
 */

/** The SHA-256 (base64) of the public key the simulator's TLS server presents. */
async function spkiHash(url: string, caPem: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: caPem, servername: undefined }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(
        createHash('sha256')
          .update(cert.pubkey as Buffer)
          .digest('base64'),
      );
    });
    socket.on('error', reject);
  });
}

describe('sign-in with Microsoft in Chromium', { timeout: 120_000 }, () => {
  let ts: TestSim;
  let api: TestApi;
  let browser: Browser;
  let page: Page;
  let problems: string[] = [];
  let upns: string[] = [];

  before(async () => {
    const webDir = ensureWebBuild();
    ts = await startTestSim({ users: 6, items: 40 });
    upns = (await ts.admin.users())
      .filter((u) => u.userType === 'Member' && u.accountEnabled)
      .map((u) => u.userPrincipalName);
    // The account picker, as a person sees it (no automatic user).
    await ts.admin.signIn({ autoUser: null, appRoles: { [upns[0]]: ['drivewarden.admin'] } });
    api = await startTestApi({
      config: {
        auth: {
          sso: {
            enabled: true,
            authority: ts.sim.authorityUrl,
            tenant: ts.sim.tenantId,
            clientId: ts.sim.clientId,
            clientSecret: ts.sim.clientSecret,
            caFile: ts.sim.caCertPath,
          },
        },
      },
      api: { webDir },
    });
    const pin = await spkiHash(ts.sim.authorityUrl, readFileSync(ts.sim.caCertPath, 'utf8'));
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${pin}`]);
    page = await (await browser.newContext({ viewport: { width: 1200, height: 800 } })).newPage();
    page.setDefaultTimeout(15_000);
    problems = pageProblems(page);
  });

  after(async () => {
    await browser?.close();
    await api?.close();
    await ts?.close();
  });

  test('an account with an app role clicks through and lands signed in', async () => {
    await page.goto(new URL('/', api.url).href);
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
    await page.getByRole('heading', { name: 'Pick an account' }).waitFor();
    assert.ok(page.url().startsWith(`${ts.sim.authorityUrl}/${ts.sim.tenantId}/oauth2/v2.0/authorize?`));
    await page.getByRole('button', { name: new RegExp(upns[0].replace(/[.]/g, '\\.')) }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/');
    const session = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).json());
    assert.equal(session.user.username, upns[0].toLowerCase());
    assert.equal(session.user.role, 'admin');
    await screenshot(page, 'sso-signed-in', { fullPage: false });
    // Failed loads are the favicons neither server has; script errors are not expected.
    assert.deepEqual(
      problems.filter((p) => p.startsWith('page error')),
      [],
    );
  });

  test('an account without a role comes back to the sign-in page with the reason', async () => {
    await page.context().clearCookies();
    await page.goto(new URL('/sign-in', api.url).href);
    await page.getByRole('link', { name: 'Sign in with Microsoft' }).click();
    await page.getByRole('button', { name: new RegExp(upns[1].replace(/[.]/g, '\\.')) }).click();
    await page.getByRole('alert').filter({ hasText: 'has no drivewarden role' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/sign-in');
  });
});
