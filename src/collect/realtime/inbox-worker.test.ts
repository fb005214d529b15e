import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { quietLogger } from '../../../test/support/logger.ts';
import { RecordingRunner } from '../../../test/support/realtime.ts';
import { openTestStore } from '../../../test/support/store.ts';
import { waitFor } from '../../../test/support/wait.ts';
import type { Database } from '../../store/schema.ts';
import { DeltaCoordinator } from './coordinator.ts';
import { InboxWorker, type LifecycleHandler } from './inbox-worker.ts';
import { ManualTimers } from './manual-timers.ts';
import { getRealtimeStatus } from './status.ts';

async function insertRows(
  db: Kysely<Database>,
  count: number,
  over: Partial<{
    integration_id: string;
    resource: string;
    lifecycle_event: string | null;
    subscription_id: string;
  }> = {},
) {
  const rows = Array.from({ length: count }, () => ({
    integration_id: over.integration_id ?? 'int-1',
    subscription_id: over.subscription_id ?? 'sub-1',
    resource: over.resource ?? '/drives/d1/root',
    change_type: over.lifecycle_event ? null : 'updated',
    lifecycle_event: over.lifecycle_event ?? null,
    received_at: new Date().toISOString(),
    processed_at: null,
    last_error: null,
  }));
  await db.insertInto('webhook_inbox').values(rows).execute();
}

const unprocessed = async (db: Kysely<Database>) =>
  (await db.selectFrom('webhook_inbox').select('id').where('processed_at', 'is', null).execute()).length;

class RecordingLifecycle implements LifecycleHandler {
  readonly calls: string[] = [];
  failuresLeft = 0;
  async reauthorize(integrationId: string, subscriptionId: string) {
    this.calls.push(`reauthorize ${integrationId} ${subscriptionId}`);
    if (this.failuresLeft-- > 0) throw new Error('transient');
  }
  async recreate(integrationId: string, subscriptionId: string) {
    this.calls.push(`recreate ${integrationId} ${subscriptionId}`);
    if (this.failuresLeft-- > 0) throw new Error('transient');
  }
}

/**
 * Worker and coordinator on a simulated clock: debounce windows, scan intervals and retry
 * backoff elapse only when a test advances it, so what coalesces into one run does not
 * depend on how fast a loaded machine runs the test. The inbox is in-memory SQLite, so each
 * advance step also settles the database work it triggers.
 */
async function setup(debounceMs = 40) {
  const { db } = await openTestStore('sqlite', { file: ':memory:' });
  const timers = new ManualTimers();
  const runner = new RecordingRunner(timers);
  const lifecycle = new RecordingLifecycle();
  const coordinator = new DeltaCoordinator({
    db,
    runner,
    logger: quietLogger,
    timers,
    debounceMs,
    retryBaseMs: 30,
    retryMaxMs: 200,
  });
  const worker = new InboxWorker({
    db,
    coordinator,
    lifecycle,
    logger: quietLogger,
    timers,
    scanIntervalMs: 20,
    retryBaseMs: 20,
  });
  const close = async () => {
    await worker.close();
    await coordinator.close();
    await db.destroy();
  };
  return { db, timers, runner, lifecycle, coordinator, worker, close };
}

/** Inbox rows the coordinator holds for a next run (the worker has handed them on). */
const pendingRows = (coordinator: DeltaCoordinator) =>
  coordinator.snapshot().reduce((n, s) => n + s.pendingRows, 0);

/** Waits (in real time) until the worker has handed `count` rows to the coordinator. */
const handedOn = (coordinator: DeltaCoordinator, count: number) =>
  waitFor(`${count} rows handed to the coordinator`, () => pendingRows(coordinator) >= count);

/** Advances the simulated clock in small steps until `done` holds. */
async function advanceUntil(
  timers: ManualTimers,
  what: string,
  done: () => boolean | Promise<boolean>,
  stepMs = 5,
): Promise<void> {
  for (let elapsed = 0; !(await done()); elapsed += stepMs) {
    if (elapsed > 60_000) throw new Error(`a simulated minute passed without ${what}`);
    await timers.advance(stepMs);
  }
}

describe('inbox worker', () => {
  it('coalesces 50 notifications for one drive into one delta run and marks them processed', async () => {
    const t = await setup(150);
    try {
      t.worker.start();
      // 50 notifications in 5 commits 5 ms apart, each waking the worker: all inside the window
      for (let i = 0; i < 5; i++) {
        await insertRows(t.db, 10);
        t.worker.wake();
        await handedOn(t.coordinator, 10 * (i + 1));
        await t.timers.advance(5);
      }
      assert.equal(t.runner.runs.length, 0, 'nothing runs before the debounce window ends');
      await t.timers.advance(150);
      await t.runner.waitForRuns(1);
      await t.coordinator.idle();
      assert.equal(t.runner.runs.length, 1);
      assert.deepEqual(
        t.runner.runs.map((r) => [r.kind, r.integrationId, r.driveId, r.source]),
        [['drive', 'int-1', 'd1', 'webhook']],
      );
      assert.equal(await unprocessed(t.db), 0);
      await t.timers.advance(1000); // later scans (every 20 ms) find nothing more to do
      await t.coordinator.idle();
      assert.equal(t.runner.runs.length, 1);
    } finally {
      await t.close();
    }
  });

  it('runs one delta per drive, users notifications run the users delta', async () => {
    const t = await setup();
    try {
      await insertRows(t.db, 3, { resource: '/drives/d1/root' });
      await insertRows(t.db, 3, { resource: '/drives/d2/root' });
      await insertRows(t.db, 2, { resource: 'users' });
      await insertRows(t.db, 1, { integration_id: 'int-2', resource: '/drives/d1/root' });
      t.worker.start();
      await handedOn(t.coordinator, 9);
      await t.timers.advance(40);
      await t.runner.waitForRuns(4);
      await t.coordinator.idle();
      const seen = t.runner.runs.map((r) => `${r.integrationId}:${r.kind}:${r.driveId ?? ''}`).sort();
      assert.deepEqual(seen, ['int-1:drive:d1', 'int-1:drive:d2', 'int-1:users:', 'int-2:drive:d1']);
      assert.equal(await unprocessed(t.db), 0);
    } finally {
      await t.close();
    }
  });

  it('notifications arriving during a run cause exactly one follow-up run, never two at once', async () => {
    const t = await setup(20);
    let release!: () => void;
    const firstRunBlocked = new Promise<void>((r) => {
      release = r;
    });
    t.runner.behaviour = async () => {
      if (t.runner.runs.length === 1) await firstRunBlocked;
    };
    try {
      await insertRows(t.db, 5);
      t.worker.start();
      await handedOn(t.coordinator, 5);
      await t.timers.advance(20);
      await t.runner.waitForRuns(1);
      // while the first run is in flight: 30 more notifications in several commits, each
      // more than a debounce window after the one before
      for (let i = 0; i < 3; i++) {
        await insertRows(t.db, 10);
        t.worker.wake();
        await handedOn(t.coordinator, 10 * (i + 1));
        await t.timers.advance(30);
      }
      assert.equal(t.runner.runs.length, 1, 'no second run while the first is in flight');
      release();
      await advanceUntil(t.timers, 'the follow-up run', () => t.runner.runs.length === 2);
      await t.timers.advance(1000);
      await t.coordinator.idle();
      assert.equal(t.runner.runs.length, 2, 'exactly one follow-up');
      assert.equal(t.runner.maxInFlight, 1);
      assert.equal(await unprocessed(t.db), 0);
    } finally {
      release();
      await t.close();
    }
  });

  it('a failing runner leaves rows unprocessed, counts attempts, retries with backoff until it succeeds', async () => {
    const t = await setup(10);
    let failures = 3;
    t.runner.behaviour = async () => {
      if (failures-- > 0) throw new Error('throttled by Graph');
    };
    try {
      await insertRows(t.db, 4);
      t.worker.start();
      await handedOn(t.coordinator, 4);
      await advanceUntil(t.timers, 'a retry', () => t.runner.runs.length === 2);
      // after a failure nothing is lost: rows are still unprocessed, attempts counted
      const mid = await t.db.selectFrom('webhook_inbox').selectAll().execute();
      assert.ok(mid.every((r) => r.processed_at === null));
      assert.ok(mid.every((r) => Number(r.attempts) >= 1));
      assert.match(mid[0].last_error ?? '', /throttled/);
      const status = await getRealtimeStatus(t.db);
      const drive = status.targets.find((x) => x.driveId === 'd1');
      assert.equal(drive?.pendingNotifications, 4);
      assert.match(drive?.lastError ?? '', /throttled/);
      await advanceUntil(t.timers, 'the fourth run', () => t.runner.runs.length === 4);
      await t.timers.advance(1000);
      await t.coordinator.idle();
      assert.equal(t.runner.runs.length, 4, '3 failures + 1 success');
      const gaps = t.runner.runs.slice(1).map((r, i) => r.at - t.runner.runs[i].at);
      assert.ok(gaps[2] >= gaps[0], `backoff grows: ${gaps.join(', ')}`);
      const rows = await t.db.selectFrom('webhook_inbox').selectAll().execute();
      assert.ok(rows.every((r) => r.processed_at !== null));
      assert.ok(rows.every((r) => Number(r.attempts) === 3));
      const after = await getRealtimeStatus(t.db);
      const d = after.targets.find((x) => x.driveId === 'd1');
      assert.equal(d?.pendingNotifications, 0);
      assert.equal(d?.consecutiveFailures, 0);
      assert.ok(d?.lastDeltaAt);
    } finally {
      await t.close();
    }
  });

  it('rows left unprocessed by a stopped worker are picked up by the next one (at-least-once)', async () => {
    const { db } = await openTestStore('sqlite', { file: ':memory:' });
    const timers = new ManualTimers();
    const runner = new RecordingRunner(timers);
    runner.behaviour = async () => {
      throw new Error('collector down');
    };
    const lifecycle = new RecordingLifecycle();
    const options = { db, runner, logger: quietLogger, timers, debounceMs: 5 };
    const c1 = new DeltaCoordinator({ ...options, retryBaseMs: 10_000 });
    const w1 = new InboxWorker({
      db,
      coordinator: c1,
      lifecycle,
      logger: quietLogger,
      timers,
      scanIntervalMs: 20,
    });
    try {
      await insertRows(db, 7);
      w1.start();
      await handedOn(c1, 7);
      await timers.advance(5);
      await runner.waitForRuns(1);
      // the failed run is over once its retry is scheduled
      await waitFor('the retry to be scheduled', () => c1.snapshot().some((s) => s.scheduled && !s.running));
      await w1.close();
      await c1.close();
      assert.equal(await unprocessed(db), 7);
      runner.behaviour = async () => undefined;
      const c2 = new DeltaCoordinator(options);
      const w2 = new InboxWorker({
        db,
        coordinator: c2,
        lifecycle,
        logger: quietLogger,
        timers,
        scanIntervalMs: 20,
      });
      w2.start();
      await handedOn(c2, 7);
      await timers.advance(5);
      await runner.waitForRuns(2);
      await c2.idle();
      assert.equal(await unprocessed(db), 0);
      await w2.close();
      await c2.close();
    } finally {
      await db.destroy();
    }
  });

  it('handles lifecycle events: reauthorize, re-create then delta, missed → delta', async () => {
    const t = await setup(10);
    try {
      await insertRows(t.db, 1, { lifecycle_event: 'reauthorizationRequired', subscription_id: 'sub-a' });
      await insertRows(t.db, 1, {
        lifecycle_event: 'subscriptionRemoved',
        subscription_id: 'sub-b',
        resource: '/drives/d2/root',
      });
      await insertRows(t.db, 1, { lifecycle_event: 'missed', subscription_id: 'sub-c', resource: 'users' });
      t.worker.start();
      await advanceUntil(t.timers, 'two delta runs', () => t.runner.runs.length === 2);
      await advanceUntil(t.timers, 'every row processed', async () => (await unprocessed(t.db)) === 0);
      await t.coordinator.idle();
      assert.deepEqual(t.lifecycle.calls.sort(), ['reauthorize int-1 sub-a', 'recreate int-1 sub-b']);
      assert.deepEqual(t.runner.runs.map((r) => `${r.kind}:${r.driveId ?? ''}:${r.source}`).sort(), [
        'drive:d2:lifecycle',
        'users::lifecycle',
      ]);
      assert.equal(await unprocessed(t.db), 0);
    } finally {
      await t.close();
    }
  });

  it('retries lifecycle handling that failed transiently', async () => {
    const t = await setup(10);
    t.lifecycle.failuresLeft = 2;
    try {
      await insertRows(t.db, 1, { lifecycle_event: 'subscriptionRemoved', subscription_id: 'sub-b' });
      t.worker.start();
      await advanceUntil(t.timers, 'the delta run', () => t.runner.runs.length === 1);
      await t.timers.advance(1000);
      await t.coordinator.idle();
      assert.deepEqual(t.lifecycle.calls, [
        'recreate int-1 sub-b',
        'recreate int-1 sub-b',
        'recreate int-1 sub-b',
      ]);
      assert.equal(t.runner.runs.length, 1);
      assert.equal(await unprocessed(t.db), 0);
    } finally {
      await t.close();
    }
  });
});
