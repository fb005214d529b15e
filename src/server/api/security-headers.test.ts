import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { startTestApi, type TestApi } from '../../../test/support/api.ts';

/**
 * Security headers on every answer (helmet, registered before the access hook so refusals
 * carry them too), and the API reference at /docs still working under that policy: checked
 * in headless Chromium, which is what enforces a CSP.
 */
const CHROMIUM = process.env.DW_CHROMIUM ?? '/usr/bin/chromium';

describe('security headers (sqlite)', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi({});
  });
  after(() => api?.close());

  test('every answer, success, refusal or unknown route, carries the CSP and its companions', async () => {
    for (const [path, status] of [
      ['/healthz', 200],
      ['/openapi.json', 200],
      ['/api/v1/users', 401],
      ['/api/v1/no-such-route', 401],
      ['/no-such-page', 401],
    ] as const) {
      const res = await api.anon.get(path);
      assert.equal(res.status, status, path);
      const csp = res.headers.get('content-security-policy') ?? '';
      for (const directive of [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "frame-ancestors 'none'",
        "object-src 'none'",
      ])
        assert.ok(csp.includes(directive), `${path}: ${directive} in ${csp}`);
      assert.ok(!csp.includes('upgrade-insecure-requests'), 'plain-http installs keep working');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN', path);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer', path);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', path);
      assert.equal(res.headers.get('x-powered-by'), null);
    }
  });

  test('/docs (swagger-ui) loads and renders the API under the policy, in Chromium', async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or DW_CHROMIUM)`,
    );
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox'],
    });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      page.on('pageerror', (err) => problems.push(err.message));
      const res = await page.goto(`${api.url}/docs`, { waitUntil: 'load' });
      assert.equal(res?.status(), 200);
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 20_000 });
      assert.match((await page.textContent('.swagger-ui .info .title')) ?? '', /drivewarden API/);
      await page.waitForSelector('[data-path="/api/v1/auth/sign-in"]', { timeout: 20_000 });
      assert.deepEqual(
        problems.filter((p) => /Content Security Policy|Refused to/i.test(p)),
        [],
        'no CSP violation',
      );
    } finally {
      await browser.close();
    }
  });
});
