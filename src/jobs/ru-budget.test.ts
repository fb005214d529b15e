import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openTestStore, testDialects } from '../../test/support/store.ts';
import { PgRuBudget } from './ru-budget.ts';

const settled = async (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

// The shared budget exists on PostgreSQL only (embedded mode keeps RuPacer in memory).
if (testDialects().includes('postgres'))
  describe('shared RU budget (PostgreSQL)', () => {
    it('two processes together never hold more than the budget, and RU come back a window after the response', async () => {
      const ts = await openTestStore('postgres');
      // A 10 RU "minute" of 200 ms (timeScale 300): what two workers of one tenant share.
      const opts = { key: 'graph:tenant-1', budgetPerMinute: 10, timeScale: 300, marginMs: 10 };
      const a = new PgRuBudget(ts.db, opts);
      const b = new PgRuBudget(ts.db, opts);
      const other = new PgRuBudget(ts.db, { ...opts, key: 'graph:tenant-2' });
      try {
        const held = [];
        for (let i = 0; i < 6; i++) held.push(await a.acquire(1));
        held.push(await b.acquire(4));
        assert.equal(await a.inWindow(), 10);
        // Full: b's next request waits while the window holds 10 RU in flight.
        const waiting = b.acquire(1);
        assert.equal(await settled(waiting, 300), false);
        // Another tenant has its own budget.
        assert.equal(await settled(other.acquire(5), 300), true);
        // A refund (never sent) frees its RU at once.
        held[0].refund();
        const t = await waiting;
        assert.equal(await a.inWindow(), 10);
        // A settled request's RU come back one window after its response.
        held[1].settle();
        const next = a.acquire(1);
        const started = Date.now();
        await next;
        assert.ok(Date.now() - started >= a.windowMs - 50, `RU came back after ${Date.now() - started} ms`);
        t.settle();
      } finally {
        a.close();
        b.close();
        other.close();
        await ts.cleanup();
      }
    });
  });
