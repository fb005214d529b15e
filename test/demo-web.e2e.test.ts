import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureWebBuild, launchChromium, pageProblems } from './support/browser.ts';
import { freePort } from './support/ports.ts';
import { waitFor } from './support/wait.ts';

/**
 * The README's run command, end to end: the real `drivewarden demo` process (its own simulator,
 * collection and `serve`), and headless Chromium signing in with the admin password the demo
 * prints and landing on the overview with the demo tenant's numbers.
 */

const bin = fileURLToPath(new URL('../bin/drivewarden.js', import.meta.url));

describe('the demo in Chromium', { timeout: 180_000 }, () => {
  test('signs in with the printed admin password and sees the overview', async () => {
    ensureWebBuild();
    const dataDir = mkdtempSync(join(tmpdir(), 'dw-demo-web-'));
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [bin, 'demo', '--users', '5', '--items', '100', '--port', String(port), '--activity', '0'],
      { env: { ...process.env, DW_DATA_DIR: dataDir, DW_LOG_LEVEL: 'warn' } },
    );
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stdout += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const browser = await launchChromium();
    try {
      const printed = await waitFor(
        'the demo’s web app line',
        () => /web app: (http:\/\/\S+) \(sign in as "(\w+)" with password (\S+);/.exec(stdout),
        { timeoutMs: 120_000, intervalMs: 100 },
      ).catch(() => assert.fail(`the demo printed no web app line:\n${stdout}`));
      const [, url, username, password] = printed;
      const page = await browser.newPage();
      page.setDefaultTimeout(20_000);
      const problems = pageProblems(page);
      await page.goto(url);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
      const session = await page.evaluate(async () => (await fetch('/api/v1/auth/session')).json());
      assert.equal(session.user.username, 'admin');
      assert.equal(session.user.mustChangePassword, false);
      const overview = await page.evaluate(async () => {
        const res = await fetch('/api/v1/overview');
        return { status: res.status, body: await res.json() };
      });
      assert.equal(overview.status, 200, JSON.stringify(overview.body));
      const exposure = overview.body.exposure as Record<string, { files: number }>;
      const files = Object.values(exposure).reduce((n, e) => n + e.files, 0);
      assert.ok(files > 0, `the demo tenant's files are collected: ${JSON.stringify(exposure)}`);
      assert.deepEqual(
        problems.filter((p) => p.startsWith('page error')),
        [],
      );
    } finally {
      await browser.close();
      child.kill('SIGTERM');
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
