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
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { openStore, type Store } from '../src/store/store.ts';
import { type HttpReceiver, startHttpReceiver } from './support/alert-receivers.ts';
import { freePort } from './support/ports.ts';
import {
  assertFindingsBecome,
  drivesCollected,
  findingLines,
  type PostgresCluster,
  startPostgresCluster,
} from './support/postgres-cluster.ts';
import { testDialects } from './support/store.ts';
import { waitFor } from './support/wait.ts';

const SLOW = { timeoutMs: 240_000, intervalMs: 250 };

if (testDialects().includes('postgres'))
  describe('two serve replicas + a worker on one PostgreSQL (leader election, kill -9 of the leader)', () => {
    let cluster: PostgresCluster;
    let store: Store;
    let hooks: HttpReceiver;
    let single: HttpReceiver;

    before(async () => {
      cluster = await startPostgresCluster({
        prefix: 'dw_replicas',
        sim: { seed: 21, users: 16, items: 300, allowHttpNotifications: true },
        env: {
          // Only webhooks (and start-ups) cause runs: the safety net polls hourly.
          DW_POLL_INTERVAL_SECONDS: '3600',
          DW_DIRECTORY_INTERVAL_SECONDS: '3600',
          // The audit feed is read once per start-up of a leader (then hourly).
          DW_ACTIVITY_INTERVAL_SECONDS: '3600',
          DW_ALERTS_ALLOW_PRIVATE_TARGETS: 'true',
          DW_ALERTS_ROUTE_INTERVAL_MS: '500',
        },
        logChars: 20_000,
      });
      hooks = await startHttpReceiver();
      single = await startHttpReceiver();
    });
    after(async () => {
      await store?.close();
      await hooks?.close();
      await single?.close();
      await cluster?.close();
    });

    const dw = (args: string[], extra: Record<string, string> = {}, dataDir?: string) =>
      cluster.dw(args, extra, dataDir);
    /** A webhook channel to `url` and a policy sending every finding opened or reopened, one message each. */
    const alertOn = async (url: string, extra: Record<string, string> = {}, dataDir?: string) => {
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
      const res = await cluster.sim.get('/subscriptions');
      assert.equal(res.status, 200, res.text);
      const counts = new Map<string, number>();
      for (const s of res.body.value as Array<{ resource: string }>)
        counts.set(s.resource, (counts.get(s.resource) ?? 0) + 1);
      return counts;
    };
    const auditReads = async () => {
      const c = await cluster.sim.admin.counters();
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
      const { sim, start } = cluster;
      await cluster.addIntegration();
      await alertOn(hooks.url);
      store = await openStore({ databaseUrl: cluster.database.url, maxConnections: 2 });

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
      await waitFor('every drive collected', async () => (await drivesCollected(store)) >= drives, SLOW);
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
      const expected = await cluster.oneProcess(async (one, sqliteDir) => {
        await cluster.addIntegration(one, sqliteDir);
        await alertOn(single.url, one, sqliteDir);
        for (const args of [
          ['sync', '--once'],
          ['rules', 'run', '--full'],
          ['alerts', 'run'],
        ])
          await dw(args, one, sqliteDir);
        const sqlite = await openStore({ dataDir: sqliteDir });
        try {
          return await findingLines(sqlite);
        } finally {
          await sqlite.close();
        }
      });
      assert.ok(expected.length > 0, 'the tenant has findings');
      const expectedAlerts = alerted(single);
      assert.ok(expectedAlerts.length > 0, 'one process alerted');
      await assertFindingsBecome(store, expected, 'the replicas');
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
