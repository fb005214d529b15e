import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { insertFindingEvents, insertIntegration } from '../src/alerts/test-support.ts';
import { openStore } from '../src/store/store.ts';
import { type HttpReceiver, startHttpReceiver } from './support/alert-receivers.ts';
import { runCli } from './support/cli.ts';

const _bin = fileURLToPath(new URL('../bin/drivewarden.js', import.meta.url));

function dw(dataDir: string, args: string[], env: Record<string, string> = {}) {
  return runCli(dataDir, args, env);
}

/** Every byte drivewarden wrote to its data directory. */
function everythingStored(dir: string): string {
  return readdirSync(dir)
    .map((f) => readFileSync(join(dir, f)).toString('latin1'))
    .join('\n');
}

describe('drivewarden channels and alerts commands', () => {
  let dataDir: string;
  let receiver: HttpReceiver;
  const allow = { DW_ALERTS_ALLOW_PRIVATE_TARGETS: 'true' };
  const token = 'T0SECRET/B0SECRET/xoxo1234abcd';
  let secret: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'dw-alerts-cli-'));
    receiver = await startHttpReceiver({ path: `/services/${token}` });
  });
  after(async () => {
    await receiver.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('adds channels with their credentials sealed, lists them masked', async () => {
    const urlFile = join(mkdtempSync(join(tmpdir(), 'dw-url-')), 'slack-url.txt');
    writeFileSync(urlFile, `https://hooks.slack.com/services/${token}\n`);
    const slack = await dw(dataDir, ['channels', 'add', 'ops', '--type', 'slack', '--url-file', urlFile]);
    assert.equal(slack.status, 0, slack.stderr);
    assert.match(slack.stdout, /added slack channel "ops" → https:\/\/hooks\.slack\.com\/…abcd/);

    const hook = await dw(dataDir, [
      'channels',
      'add',
      'siem',
      '--type',
      'webhook',
      '--url',
      receiver.url,
      '--header',
      'X-Team: secops',
    ]);
    assert.equal(hook.status, 0, hook.stderr);
    secret = /^(whsec_\S+)$/m.exec(hook.stdout)?.[1] ?? '';
    assert.ok(secret, hook.stdout);

    const list = await dw(dataDir, ['channels', 'list']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /^ops\tslack\thttps:\/\/hooks\.slack\.com\/…abcd$/m);
    assert.match(
      list.stdout,
      /^siem\twebhook\thttp:\/\/127\.0\.0\.1:\d+\/…abcd \(signed, 1 custom header\)$/m,
    );
    for (const text of [
      list.stdout,
      (await dw(dataDir, ['channels', 'list', '--json'])).stdout,
      everythingStored(dataDir),
    ]) {
      assert.ok(!text.includes(token), 'the URL token is nowhere in clear text');
      assert.ok(!text.includes(secret.slice(6)), 'the signing secret is nowhere in clear text');
    }
  });

  it('tests a channel through the SSRF guard', async () => {
    const refused = await dw(dataDir, ['channels', 'test', 'siem']);
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /refused to connect to loopback address 127\.0\.0\.1/);
    assert.equal(receiver.requests.length, 0);

    const ok = await dw(dataDir, ['channels', 'test', 'siem'], allow);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /test alert delivered to "siem": 200 in \d+ ms/);
    const req = receiver.requests[0];
    assert.equal(req.headers['x-team'], 'secops');
    new Webhook(secret).verify(req.body, req.headers as Record<string, string>);
  });

  it('adds, lists and removes policies; refuses bad input naming what is wrong', async () => {
    const add = await dw(dataDir, [
      'alerts',
      'policies',
      'add',
      'exposure',
      '--kind',
      'rule',
      '--channel',
      'siem',
      '--min-severity',
      'high',
      '--rate-limit',
      '10/h',
      '--pack',
      'cis-m365',
    ]);
    assert.equal(add.status, 0, add.stderr);
    const grants = await dw(dataDir, [
      'alerts',
      'policies',
      'add',
      'outside-grants',
      '--kind',
      'change',
      '--channel',
      'siem',
      '--channel',
      'ops',
      '--resource-type',
      'permission',
      '--where',
      'is_external = true',
      '--alert-severity',
      'high',
      '--quiet-hours',
      '22:00-07:00',
      '--time-zone',
      'Europe/Berlin',
    ]);
    assert.equal(grants.status, 0, grants.stderr);
    const score = await dw(dataDir, [
      'alerts',
      'policies',
      'add',
      'cis-score',
      '--kind',
      'compliance',
      '--channel',
      'siem',
      '--pack',
      'cis-m365',
      '--below',
      '80',
      '--no-recovered',
    ]);
    assert.equal(score.status, 0, score.stderr);
    const noBelow = await dw(dataDir, [
      'alerts',
      'policies',
      'add',
      'bad',
      '--kind',
      'compliance',
      '--channel',
      'siem',
    ]);
    assert.match(noBelow.stderr, /--below <percent> is required for --kind compliance/);
    const list = await dw(dataDir, ['alerts', 'policies', 'list']);
    assert.match(
      list.stdout,
      /^cis-score\tcompliance\t→ siem\tpacks=cis-m365 belowPercent=80 recovered=false\t/m,
    );
    assert.match(
      list.stdout,
      /^exposure\trule\t→ siem\t.*minSeverity=high.*packs=cis-m365.*\tdigest≥10, rate 10\/h$/m,
    );
    assert.match(
      list.stdout,
      /^outside-grants\tchange\t→ siem,ops\t.*resourceTypes=permission.*where=is_external = true.*quiet 22:00-07:00 Europe\/Berlin, severity high$/m,
    );

    const bad = await dw(dataDir, [
      'alerts',
      'policies',
      'add',
      'bad',
      '--kind',
      'change',
      '--channel',
      'siem',
      '--resource-type',
      'permission',
      '--where',
      'link_scopes = anonymous',
    ]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /condition field link_scopes is not a column of permission/);
    const noChannel = await dw(dataDir, [
      'alerts',
      'policies',
      'add',
      'bad',
      '--kind',
      'rule',
      '--channel',
      'pager',
    ]);
    assert.match(noChannel.stderr, /no channel "pager"/);
    const noPack = await dw(dataDir, [
      'alerts',
      'policies',
      'add',
      'bad',
      '--kind',
      'rule',
      '--channel',
      'siem',
      '--pack',
      'iso-27001',
    ]);
    assert.match(noPack.stderr, /unknown pack iso-27001/);
    const wrongKind = await dw(dataDir, [
      'alerts',
      'policies',
      'add',
      'bad',
      '--kind',
      'rule',
      '--channel',
      'siem',
      '--where',
      'x = 1',
    ]);
    assert.match(wrongKind.stderr, /--where not for --kind rule/);

    const inUse = await dw(dataDir, ['channels', 'remove', 'ops']);
    assert.equal(inUse.status, 1);
    assert.match(inUse.stderr, /used by the policies outside-grants/);
    assert.equal((await dw(dataDir, ['alerts', 'policies', 'remove', 'outside-grants'])).status, 0);
    assert.equal((await dw(dataDir, ['alerts', 'policies', 'remove', 'cis-score'])).status, 0);
    assert.equal((await dw(dataDir, ['channels', 'remove', 'ops'])).status, 0);
  });

  it('routes and delivers with `alerts run`, and shows the delivery log', async () => {
    const store = await openStore({ dataDir });
    try {
      await insertIntegration(store.db, store);
      await insertFindingEvents(store.db, [
        { severity: 'critical', path: '/HR/Salaries.xlsx' },
        { severity: 'low' },
      ]);
    } finally {
      await store.close();
    }
    const run = await dw(dataDir, ['alerts', 'run'], allow);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /routed 2 events into 1 alerts \(1 deliveries, 0 events held\)/);
    const delivered = receiver.requests.at(-1)?.json as { data: { items: Array<{ resourcePath: string }> } };
    assert.equal(delivered.data.items[0].resourcePath, '/HR/Salaries.xlsx');
    const log = await dw(dataDir, ['alerts', 'log']);
    assert.match(
      log.stdout,
      /\tdelivered\t1 attempt\(s\)\t\d+ ms\texposure → siem\tFinding opened: No item is shared with an "Anyone" link — \/HR\/Salaries\.xlsx/,
    );
  });
});
