import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { quietLogger } from '../../../test/support/logger.ts';
import { RecordingRunner } from '../../../test/support/realtime.ts';
import { openTestStore } from '../../../test/support/store.ts';
import { DeltaCoordinator } from './coordinator.ts';
import { ManualTimers } from './manual-timers.ts';
import { Poller } from './poller.ts';
import type { RealtimeIntegration } from './types.ts';

async function setup(integrations: RealtimeIntegration[], over: { recentMs?: number } = {}) {
  const { db } = await openTestStore('sqlite', { file: ':memory:' });
  const timers = new ManualTimers();
  const runner = new RecordingRunner();
  const startedAt = timers.now();
  const at: Array<{ key: string; t: number }> = [];
  runner.behaviour = async (run) => {
    at.push({
      key: `${run.integrationId}:${run.kind}:${run.driveId ?? ''}:${run.source}`,
      t: timers.now() - startedAt,
    });
  };
  const coordinator = new DeltaCoordinator({ db, runner, logger: quietLogger, timers, debounceMs: 50 });
  const poller = new Poller({
    coordinator,
    integrations: async () => integrations,
    logger: quietLogger,
    timers,
    pollIntervalMs: 10_000,
    directoryIntervalMs: 60_000,
    recentMs: over.recentMs,
  });
  const close = async () => {
    poller.stop();
    await coordinator.close();
    await db.destroy();
  };
  return { db, timers, runner, coordinator, poller, at, close };
}

const drives = (n: number) => Array.from({ length: n }, (_, i) => `d${String(i).padStart(2, '0')}`);

describe('poller', () => {
  it('polls every drive once per interval, staggered evenly across it', async () => {
    const t = await setup([{ id: 'int-1', tenantId: 't', enabled: true, driveIds: drives(10) }]);
    try {
      t.poller.start();
      await t.timers.advance(0);
      await t.timers.advance(9_999);
      const driveRuns = t.at.filter((r) => r.key.includes(':drive:'));
      assert.equal(driveRuns.length, 10, 'each drive once in the first interval');
      assert.deepEqual(
        driveRuns.map((r) => r.t),
        [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000],
      );
      assert.ok(driveRuns.every((r) => r.key.endsWith(':poll')));
      assert.equal(new Set(driveRuns.map((r) => r.key)).size, 10);
      // the directory round (60 s): users at the start, groups half-way
      assert.deepEqual(
        t.at.filter((r) => !r.key.includes(':drive:')).map((r) => [r.key, r.t]),
        [['int-1:users::poll', 0]],
      );
      // second round: every drive again, one interval later
      await t.timers.advance(10_000);
      assert.equal(t.at.filter((r) => r.key.includes(':drive:')).length, 20);
      assert.equal(t.at.filter((r) => r.key.includes(':users:')).length, 1, 'directory interval is longer');
      await t.timers.advance(50_000);
      assert.deepEqual(
        t.at.filter((r) => !r.key.includes(':drive:')).map((r) => [r.key, r.t]),
        [
          ['int-1:users::poll', 0],
          ['int-1:groups::poll', 30_000],
          ['int-1:users::poll', 60_000],
        ],
      );
    } finally {
      await t.close();
    }
  });

  it('skips drives that synced recently via webhook and drives with a run in flight', async () => {
    const t = await setup([{ id: 'int-1', tenantId: 't', enabled: true, driveIds: ['a', 'b', 'c', 'd'] }], {
      recentMs: 8000,
    });
    let release!: () => void;
    const blocked = new Promise<void>((r) => {
      release = r;
    });
    const record = t.runner.behaviour;
    t.runner.behaviour = async (run) => {
      await record(run);
      if (run.driveId === 'a' && run.source === 'webhook') await blocked;
    };
    try {
      // drive a: a webhook run in flight (slow); drive c: a webhook run just finished
      t.coordinator.notify(
        { integrationId: 'int-1', resource: '/drives/a/root', kind: 'drive', driveId: 'a' },
        [],
        'webhook',
      );
      t.coordinator.notify(
        { integrationId: 'int-1', resource: '/drives/c/root', kind: 'drive', driveId: 'c' },
        [],
        'webhook',
      );
      await t.timers.advance(60);
      t.at.length = 0;
      t.poller.start();
      await t.timers.advance(9_999);
      const keys = t.at.filter((r) => r.key.includes(':drive:')).map((r) => r.key);
      assert.deepEqual(keys, ['int-1:drive:b:poll', 'int-1:drive:d:poll']);
      assert.deepEqual(
        [t.poller.stats.started, t.poller.stats.skippedBusy, t.poller.stats.skippedRecent],
        [3, 1, 1], // started: b, d and the users delta
      );
      assert.equal(
        t.runner.runs.filter((r) => r.driveId === 'a').length,
        1,
        'no poll run of drive a while its run is in flight',
      );
      release();
    } finally {
      release();
      await t.close();
    }
  });

  it('interleaves integrations, skips disabled ones and picks up new drives next round', async () => {
    const list: RealtimeIntegration[] = [
      { id: 'A', tenantId: 't', enabled: true, driveIds: ['1', '2'] },
      { id: 'B', tenantId: 't', enabled: true, driveIds: ['1', '2'] },
      { id: 'C', tenantId: 't', enabled: false, driveIds: ['9'] },
    ];
    const t = await setup(list);
    try {
      t.poller.start();
      await t.timers.advance(9_999);
      assert.deepEqual(
        t.at.filter((r) => r.key.includes(':drive:')).map((r) => r.key.split(':').slice(0, 3).join(':')),
        ['A:drive:1', 'B:drive:1', 'A:drive:2', 'B:drive:2'],
      );
      list[0].driveIds.push('3');
      t.at.length = 0;
      await t.timers.advance(10_000);
      assert.equal(t.at.filter((r) => r.key.includes(':drive:')).length, 5);
      assert.ok(!t.at.some((r) => r.key.startsWith('C:')));
    } finally {
      await t.close();
    }
  });
});
