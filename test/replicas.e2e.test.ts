/**
 * Acceptance of serve replicas (issue 14): two `serve --no-work` processes and one `worker` on one
 * PostgreSQL database of this test's own, against the simulator delivering real webhooks over
 * HTTP. Replica A starts first and leads; replica B follows, and Graph's notifications are all
 * sent to B (the public URL of both), as a load balancer could. Asserted: each subscription
 * exists once on Graph; the follower reads no audit feed; a notification B receives becomes a
 * delta run; after kill -9 of A, B takes over (its schedules run, webhooks still become runs,
 * still one subscription per resource); and the findings and the alerts delivered to a
 * webhook channel equal those of one process on SQLite, each alert delivered once.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../src/store/store.ts';
import { type HttpReceiver, startHttpReceiver } from './support/alert-receivers.ts';
import { DW_BIN, runCli } from './support/cli.ts';
import { freePort } from './support/ports.ts';
import { startTestSim, type TestSim } from './support/simulator.ts';
import { testDialects } from './support/store.ts';
import { createThrowawayDatabase, type ThrowawayDatabase } from './support/throwaway-database.ts';
import { waitFor } from './support/wait.ts';

const SECRET_KEY = randomBytes(32).toString('base64');
const SLOW = { timeoutMs: 240_000, intervalMs: 250 };

if (testDialects().includes('postgres'))
  describe('two serve replicas + a worker on one PostgreSQL (leader election, kill -9 of the leader)', () => {
    let database: ThrowawayDatabase;
    const dir = mkdtempSync(join(tmpdir(), 'dw-replicas-'));
    const procs: ChildProcess[] = [];
    const logs: Array<() => string> = [];
    let sim: TestSim;
    let store: Store;
    let hooks: HttpReceiver;
    let single: HttpReceiver;

    before(async () => {
      sim = await startTestSim({ seed: 21, users: 16, items: 300, allowHttpNotifications: true });
      const { close: _close, ...info } = sim.sim;
      writeFileSync(join(dir, 'sim.json'), JSON.stringify(info));
      hooks = await startHttpReceiver();
      single = await startHttpReceiver();
      database = await createThrowawayDatabase('dw_replicas');
    });
    after(async () => {
      if (process.env.DW_TEST_VERBOSE) for (const l of logs) process.stderr.write(`${l()}\n`);
      for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
      await store?.close();
      await hooks?.close();
      await single?.close();
      await sim?.close();
      await database?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    const env = (extra: Record<string, string> = {}) => ({
      ...process.env,
      DW_DATA_DIR: dir,
      DW_DATABASE_URL: database.url,
      DW_SECRET_KEY: SECRET_KEY,
      DW_LOG_LEVEL: 'warn',
      DW_JOB_LEASE_SECONDS: '10',
      DW_JOB_MAINTENANCE_SECONDS: '1',
      DW_SYNC_CONCURRENCY: '4',
      // Only webhooks (and start-ups) cause runs: the safety net polls hourly.
      DW_POLL_INTERVAL_SECONDS: '3600',
      DW_DIRECTORY_INTERVAL_SECONDS: '3600',
      // The audit feed is read once per start-up of a leader (then hourly).
      DW_ACTIVITY_INTERVAL_SECONDS: '3600',
      DW_ALERTS_ALLOW_PRIVATE_TARGETS: 'true',
      DW_ALERTS_ROUTE_INTERVAL_MS: '500',
      ...extra,
    });
    const start = (name: string, args: string[], extra: Record<string, string> = {}) => {
      const child = spawn(process.execPath, [DW_BIN, ...args], {
        env: env(extra),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let err = '';
      child.stderr?.on('data', (d) => {
        err = (err + d).slice(-20000);
      });
      child.on('exit', (code, signal) => {
        if (code && code !== 0) process.stderr.write(`${name} exited ${code} ${signal ?? ''}: ${err}\n`);
      });
      logs.push(() => `${name}: ${err}`);
      procs.push(child);
      return child;
    };
    const dw = async (args: string[], extra: Record<string, string> = {}, dataDir = dir) => {
      const r = await runCli(dataDir, args, env(extra));
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}${r.stdout}`);
      return r;
    };
    /** A webhook channel to `url` and a policy sending every finding opened or reopened, one message each. */
    const alertOn = async (url: string, extra: Record<string, string> = {}, dataDir = dir) => {
      await dw(['channels', 'add', 'hook', '--type', 'webhook', '--url', url], extra, dataDir);
      await dw(
        [
          'alerts',
          'policies',
          'add',
          'all',
          '--kind',
          'rule',
          '--channel',
          'hook',
          '--digest-threshold',
          '100000',
        ],
        extra,
        dataDir,
      );
    };

    /** Resources with their subscription count on Graph (the simulator). */
    const graphSubscriptions = async () => {
      const res = await sim.get('/subscriptions');
      assert.equal(res.status, 200, res.text);
      const counts = new Map<string, number>();
      for (const s of res.body.value as Array<{ resource: string }>)
        counts.set(s.resource, (counts.get(s.resource) ?? 0) + 1);
      return counts;
    };
    const auditReads = async () => {
      const c = await sim.admin.counters();
      return Object.entries(c.requestsByEndpoint)
        .filter(([k]) => k.endsWith('/subscriptions/content'))
        .reduce((n, [, v]) => n + v, 0);
    };
    const anonymousLink = async (itemId: string) =>
      store.db
        .selectFrom('permissions')
        .select('id')
        .where('item_id', '=', itemId)
        .where('link_scope', '=', 'anonymous')
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
    const inboxRows = async () =>
      (await store.db.selectFrom('webhook_inbox').select(['id', 'processed_at']).execute()).map((r) => ({
        id: Number(r.id),
        processed: r.processed_at !== null,
      }));

    it('leads once, receives anywhere, fails over on kill -9, and alerts what one process alerts', async () => {
      await dw(['integrations', 'add', '--name', 'acme', '--sim-info', join(dir, 'sim.json')]);
      await alertOn(hooks.url);
      store = await openStore({ databaseUrl: database.url, maxConnections: 2 });

      const portA = await freePort();
      const portB = await freePort();
      // The load balancer Graph reaches: to A until B is up, then to B only.
      let bUp = false;
      const lb = await loadBalancer(() => (bUp ? portB : portA));
      const publicUrl = lb.url;
      start('worker', ['worker', '--concurrency', '4']);
      const a = start('serve A', ['serve', '--no-work', '--port', String(portA)], {
        DW_PUBLIC_URL: publicUrl,
      });

      // A leads: its start-up collection is queued and the worker runs it.
      const drives = (await sim.admin.drives()).length;
      await waitFor(
        'every drive collected',
        async () => {
          const row = await store.db
            .selectFrom('sync_state')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('scope', 'like', 'drive:%')
            .where('delta_link', 'is not', null)
            .executeTakeFirstOrThrow();
          return Number(row.n) >= drives;
        },
        SLOW,
      );
      await waitFor('every drive subscribed', async () => (await graphSubscriptions()).size > drives, SLOW);
      // B starts while A holds the lock; from then on it receives every notification.
      start('serve B', ['serve', '--no-work', '--port', String(portB)], {
        DW_PUBLIC_URL: publicUrl,
        DW_LOG_LEVEL: process.env.DW_TEST_VERBOSE ? 'info' : 'warn',
      });
      await waitFor(
        'B answering',
        async () =>
          fetch(`http://127.0.0.1:${portB}/healthz`).then(
            (r) => r.ok,
            () => false,
          ),
        SLOW,
      );
      bUp = true;
      await waitFor('A read the audit feed', async () => (await auditReads()) > 0, SLOW);

      // B, running beside A for a while, neither subscribes again nor reads the audit feed.
      const readsByA = await auditReads();
      const subsByA = await graphSubscriptions();
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal(await auditReads(), readsByA, 'the follower read the audit feed');
      const subs = await graphSubscriptions();
      assert.deepEqual(subs, subsByA);
      assert.deepEqual(
        [...subs].filter(([, n]) => n !== 1),
        [],
        'each resource subscribed once',
      );

      // A change on Graph: its notification reaches B; A's inbox worker turns it into a job.
      const [drive] = await sim.admin.drives();
      const file = (await sim.admin.items(drive.id)).find(
        (i) => !i.isFolder && !i.deleted && i.sharedScope === null && i.parentId,
      );
      assert.ok(file, 'a file to share');
      const before = (await inboxRows()).length;
      await sim.admin.mutate({ op: 'share', driveId: drive.id, itemId: file.id, kind: 'anonymous' });
      await waitFor(
        'the shared link collected through the webhook',
        async () => Boolean(await anonymousLink(file.id)),
        SLOW,
      );
      const rows = await inboxRows();
      assert.ok(rows.length > before, 'the notification went through the inbox');
      await waitFor('the inbox drained', async () => (await inboxRows()).every((r) => r.processed), SLOW);
      await waitFor('the alert of the new link delivered', async () => hooks.requests.length > 0, SLOW);

      // kill -9 of the leader: its lock session ends, B takes over and runs the schedules.
      a.kill('SIGKILL');
      await waitFor(
        'B leads: its start-up reads the audit feed',
        async () => (await auditReads()) > readsByA,
        SLOW,
      );
      const second = (await sim.admin.items(drive.id)).find(
        (i) => !i.isFolder && !i.deleted && i.sharedScope === null && i.parentId && i.id !== file.id,
      );
      assert.ok(second, 'another file to share');
      const beforeSecond = (await inboxRows()).length;
      await sim.admin.mutate({ op: 'share', driveId: drive.id, itemId: second.id, kind: 'anonymous' });
      await waitFor(
        'the second link collected after the fail-over',
        async () => Boolean(await anonymousLink(second.id)),
        SLOW,
      ).catch(async (err) => {
        const c = await sim.admin.counters();
        const rows = await store.db
          .selectFrom('webhook_inbox')
          .selectAll()
          .orderBy('id', 'desc')
          .limit(5)
          .execute();
        assert.fail(
          `${err.message}; notifications delivered ${c.notificationsDelivered}, failed ${c.notificationsFailed}; newest inbox rows: ${JSON.stringify(rows)}`,
        );
      });
      assert.ok((await inboxRows()).length > beforeSecond, 'the second notification went through the inbox');
      await waitFor(
        'the inbox drained by B',
        async () => (await inboxRows()).every((r) => r.processed),
        SLOW,
      );
      const after = await graphSubscriptions();
      assert.deepEqual(
        [...after].filter(([, n]) => n !== 1),
        [],
        'still one subscription per resource after the fail-over',
      );
      assert.equal(after.size, subs.size);

      // One process on SQLite, the same tenant as it is now: findings and alerts.
      const sqliteDir = mkdtempSync(join(tmpdir(), 'dw-replicas-single-'));
      try {
        const one = { DW_DATABASE_URL: '', DW_DATA_DIR: sqliteDir };
        await dw(
          ['integrations', 'add', '--name', 'acme', '--sim-info', join(dir, 'sim.json')],
          one,
          sqliteDir,
        );
        await alertOn(single.url, one, sqliteDir);
        for (const args of [
          ['sync', '--once'],
          ['rules', 'run', '--full'],
          ['alerts', 'run'],
        ])
          await dw(args, one, sqliteDir);
        const sqlite = await openStore({ dataDir: sqliteDir });
        const expected = await findings(sqlite);
        await sqlite.close();
        assert.ok(expected.length > 0, 'the tenant has findings');
        const expectedAlerts = alerted(single);
        assert.ok(expectedAlerts.length > 0, 'one process alerted');

        let got: string[] = [];
        await waitFor(
          'the findings of the replicas to equal those of one process',
          async () => {
            got = await findings(store);
            return got.join('\n') === expected.join('\n');
          },
          { timeoutMs: 120_000, intervalMs: 250 },
        ).catch(() => undefined);
        assert.deepEqual(got, expected);
        let gotAlerts: string[] = [];
        await waitFor(
          'the alerts of the replicas to equal those of one process',
          async () => {
            gotAlerts = alerted(hooks);
            return gotAlerts.join('\n') === expectedAlerts.join('\n');
          },
          { timeoutMs: 60_000, intervalMs: 250 },
        ).catch(() => undefined);
        assert.deepEqual(gotAlerts, expectedAlerts);
        // Delivered once: no message id twice, as many messages as one process sent (the lists
        // above are equal as multisets: a finding alerted twice there would show here).
        const ids = hooks.requests.map((r) => r.headers['webhook-id']);
        assert.equal(new Set(ids).size, ids.length, 'a message delivered twice');
        assert.equal(hooks.requests.length, single.requests.length);
      } finally {
        rmSync(sqliteDir, { recursive: true, force: true });
      }
    });
  });

/** Forwards every request to the port `target()` names (a load balancer in front of the replicas). */
async function loadBalancer(target: () => number): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: '127.0.0.1', port: target(), method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function findings(s: Store): Promise<string[]> {
  return (await s.db.selectFrom('findings').select(['rule_id', 'resource_key', 'status']).execute())
    .map((f) => `${f.rule_id} ${f.resource_key} ${f.status}`)
    .sort();
}

/** `rule event resource` of every item of every message a receiver got, sorted. */
function alerted(receiver: HttpReceiver): string[] {
  const out: string[] = [];
  for (const r of receiver.requests) {
    const data = (
      r.json as {
        data: { items: Array<{ ruleId: string; event: string; resourceType: string; resourceId: string }> };
      }
    ).data;
    for (const i of data.items) out.push(`${i.ruleId} ${i.event} ${i.resourceType}:${i.resourceId}`);
  }
  return out.sort();
}
