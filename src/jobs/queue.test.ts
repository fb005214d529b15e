import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, describe, it } from 'node:test';
import pg from 'pg';
import { z } from 'zod';
import { TEST_PG_URL, testDialects } from '../../test/support/store.ts';
import { MemoryBackend } from './memory-backend.ts';
import { PgBossBackend } from './pgboss-backend.ts';
import { createJobQueue } from './queue.ts';
import type { JobBackend, JobKind, JobQueue } from './types.ts';

const schemas: string[] = [];
after(async () => {
  if (schemas.length === 0) return;
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  for (const s of schemas) await client.query(`drop schema if exists ${s} cascade`);
  await client.end();
});

type Open = (opts?: { maintenanceIntervalSeconds?: number }) => Promise<JobBackend>;
const backends: Array<[string, Open]> = [['memory', async () => new MemoryBackend()]];
if (testDialects().includes('postgres')) {
  const schema = `dw_test_boss_${randomBytes(5).toString('hex')}`;
  schemas.push(schema);
  backends.push(['pg-boss', (opts) => PgBossBackend.open({ databaseUrl: TEST_PG_URL, schema, ...opts })]);
}

const Payload = z.object({ n: z.number().int() });
let tenantSeq = 0;
/** Fresh tenant names per test: the pg-boss schema is shared by the tests of a file. */
const tenant = (name: string) => `${name}${++tenantSeq}`;

function kind(
  name: string,
  handler: (p: { n: number }, job: { id: string; retryCount: number }) => Promise<void>,
  extra: Partial<JobKind<{ n: number }>> = {},
): JobKind<{ n: number }> {
  return { name, schema: Payload, handler, retryDelaySeconds: 0, ...extra };
}

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (const [name, open] of backends) {
  describe(`job queue (${name})`, () => {
    // Each test's workers stop with it: they take jobs of every tenant queue in the schema.
    const queues: JobQueue[] = [];
    afterEach(async () => {
      for (const q of queues.splice(0)) await q.close();
    });
    const make = async (opts?: Parameters<Open>[0]) => {
      const q = createJobQueue(await open(opts));
      queues.push(q);
      return q;
    };

    if (name === 'memory')
      it('idle(tenant) waits for that tenant’s jobs only', async () => {
        const q = await make();
        let release!: () => void;
        const gate = new Promise<void>((r) => {
          release = r;
        });
        const k = kind(`idle${tenantSeq}`, async (p) => {
          if (p.n === 1) await gate;
        });
        const [busy, quick] = [tenant('busy'), tenant('quick')];
        await q.enqueue(k, { n: 1 }, { tenant: busy });
        await q.enqueue(k, { n: 2 }, { tenant: quick });
        await q.enqueue(k, { n: 3 }, { tenant: quick });
        q.work([k as JobKind<never>], { concurrency: 2, pollMs: 50 });
        await q.idle(quick);
        assert.equal(q.stats().completed, 2, 'the quick tenant’s two jobs, the busy one still held');
        let all = false;
        const whole = q.idle().then(() => {
          all = true;
        });
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(all, false, 'the whole queue is not idle while a job runs');
        release();
        await whole;
        assert.equal(q.stats().completed, 3);
      });

    it('runs a tenant’s jobs by priority, then oldest first', async () => {
      const q = await make();
      const seen: number[] = [];
      const k = kind(`prio${tenantSeq}`, async (p) => {
        seen.push(p.n);
      });
      const t = tenant('t');
      await q.enqueue(k, { n: 1 }, { tenant: t, priority: 0 });
      await q.enqueue(k, { n: 2 }, { tenant: t, priority: 0 });
      await q.enqueue(k, { n: 3 }, { tenant: t, priority: 10 });
      await q.enqueue(k, { n: 4 }, { tenant: t, priority: 5 });
      q.work([k as JobKind<never>], { concurrency: 1, pollMs: 50 });
      await until(() => seen.length === 4, 'four jobs');
      assert.deepEqual(seen, [3, 4, 1, 2]);
    });

    it('runs a delayed job once its delay passed; enqueues of its key meanwhile are covered by it', async () => {
      const q = await make();
      const seen: Array<{ n: number; at: number }> = [];
      const k = kind(`delay${tenantSeq}`, async (p) => {
        seen.push({ n: p.n, at: Date.now() });
      });
      const t = tenant('t');
      q.work([k as JobKind<never>], { concurrency: 2, pollMs: 50 });
      const sent = Date.now();
      assert.ok(await q.enqueue(k, { n: 1 }, { tenant: t, singletonKey: 'rules', delayMs: 1200 }));
      for (let n = 2; n <= 5; n++)
        assert.equal(await q.enqueue(k, { n }, { tenant: t, singletonKey: 'rules', delayMs: 1200 }), null);
      await until(() => seen.length === 1, 'the delayed job');
      assert.equal(seen[0].n, 1);
      // pg-boss compares start_after with the database's clock: allow it a little skew.
      assert.ok(seen[0].at - sent >= 1000, `ran after ${seen[0].at - sent} ms`);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(q.stats().completedByKind[k.name], 1);
    });

    it('keeps one queued job per singleton key, and takes another once it runs', async () => {
      const q = await make();
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      const seen: number[] = [];
      const k = kind(`single${tenantSeq}`, async (p) => {
        seen.push(p.n);
        if (p.n === 1) await gate;
      });
      const t = tenant('t');
      assert.ok(await q.enqueue(k, { n: 1 }, { tenant: t, singletonKey: 'drive-a' }));
      assert.equal(await q.enqueue(k, { n: 2 }, { tenant: t, singletonKey: 'drive-a' }), null);
      assert.ok(await q.enqueue(k, { n: 3 }, { tenant: t, singletonKey: 'drive-b' }));
      q.work([k as JobKind<never>], { concurrency: 1, pollMs: 50 });
      await until(() => seen.length === 1, 'the first job');
      // Running, no longer queued: the key takes one more.
      assert.ok(await q.enqueue(k, { n: 4 }, { tenant: t, singletonKey: 'drive-a' }));
      release();
      await until(() => seen.length === 3, 'the rest');
      assert.deepEqual(seen, [1, 3, 4]);
    });

    it('shares workers fairly: a small tenant is not starved by a big one queued first', async () => {
      const q = await make();
      const big = tenant('big');
      const small = tenant('small');
      const k = kind(`fair${tenantSeq}`, async () => {
        await new Promise((r) => setTimeout(r, 5));
      });
      for (let i = 0; i < 30; i++) await q.enqueue(k, { n: i }, { tenant: big, priority: 10 });
      for (let i = 0; i < 4; i++) await q.enqueue(k, { n: i }, { tenant: small, priority: 0 });
      q.work([k as JobKind<never>], { concurrency: 2, perTenant: 1, pollMs: 50 });
      await until(() => q.stats().completed === 34, 'every job');
      const order = q.stats().order.map((o) => (o.includes('small') ? 's' : 'b'));
      // Round-robin with one slot per tenant: the small tenant's 4 jobs start among the first few
      // (first come, first served would start them 31st to 34th). Polling can let a big job take
      // a slot the small tenant's next job was not yet fetched for (seen on pg-boss: the 4th
      // small job started 9th), so the bound allows a little slack.
      const lastSmall = order.lastIndexOf('s');
      assert.ok(lastSmall < 12, `small tenant's jobs started at ${order.join('')}`);
    });

    it('retries a job whose handler threw, and refuses an invalid payload with its field named', async () => {
      const q = await make();
      const tries: number[] = [];
      const k = kind(`retry${tenantSeq}`, async (_p, job) => {
        tries.push(job.retryCount);
        if (job.retryCount === 0) throw new Error('transient');
      });
      await q.enqueue(k, { n: 1 }, { tenant: tenant('t') });
      q.work([k as JobKind<never>], { concurrency: 1, pollMs: 50 });
      await until(() => tries.length === 2, 'the retry');
      assert.deepEqual(tries, [0, 1]);
      await assert.rejects(
        q.enqueue(k, { n: 1.5 } as { n: number }, { tenant: 't' }),
        /job retry\d+: invalid payload: n: .*expected int/i,
      );
    });

    if (name === 'pg-boss') {
      it('hands a dead worker’s job to another worker once its lease expires', async () => {
        const t = tenant('t');
        const dead = await open({ maintenanceIntervalSeconds: 1 });
        const k = kind(`lease${tenantSeq}`, async () => undefined, { expireInSeconds: 1 });
        const enq = createJobQueue(dead);
        await enq.enqueue(k, { n: 7 }, { tenant: t });
        // The "dead" worker takes the job and never finishes it.
        const taken = await dead.fetch(`dw_tenant_${t}`);
        assert.ok(taken);
        const seen: number[] = [];
        const live = await make({ maintenanceIntervalSeconds: 1 });
        live.work([kind(k.name, async (p) => void seen.push(p.n)) as JobKind<never>], { pollMs: 100 });
        await until(() => seen.length === 1, 'the expired job to be retried', 30_000);
        assert.deepEqual(seen, [7]);
        await enq.close();
      });

      it('keeps a live worker’s job past its lease: the running worker renews it', async () => {
        const t = tenant('t');
        let runs = 0;
        let release: () => void = () => undefined;
        const held = new Promise<void>((r) => {
          release = r;
        });
        // The handler outlasts four 1 s leases; a second worker watches the queue meanwhile.
        const slow = kind(
          `renew${tenantSeq}`,
          async () => {
            runs++;
            await held;
          },
          { expireInSeconds: 1 },
        );
        const a = await make({ maintenanceIntervalSeconds: 1 });
        const b = await make({ maintenanceIntervalSeconds: 1 });
        await a.enqueue(slow, { n: 1 }, { tenant: t });
        a.work([slow as JobKind<never>], { pollMs: 100 });
        await until(() => runs === 1, 'the job to start');
        b.work([slow as JobKind<never>], { pollMs: 100 });
        // Maintenance runs every second: an unrenewed lease would have been handed to b by now.
        const started = Date.now();
        await until(() => Date.now() - started > 4000 || runs > 1, '4 s to pass', 10_000);
        release();
        await until(() => a.stats().completed === 1, 'the job to complete');
        assert.equal(runs, 1);
        assert.equal(b.stats().started, 0);
      });
    }
  });
}
