import assert from 'node:assert/strict';
import { test } from 'node:test';
import { remediationKillRuns, ruleKillRuns } from './engine-kill-runs.ts';
import { syncKillRuns } from './kill-runs.ts';

// The fast sample of the kill runs `npm run test:chaos` runs many of (suite.ts killPlan).

test('rule evaluation killed with -9 and restarted: the findings and their events of a run never killed', async () => {
  const r = await ruleKillRuns(1);
  assert.deepEqual(r.problems, []);
  assert.equal(r.runs, 1);
  assert.equal(r.lost + r.crashes, 0);
});

test('remediation killed with -9 and restarted: nothing removed twice, the trail as the tenant, the inventory its ground truth', async () => {
  const r = await remediationKillRuns(1);
  assert.deepEqual(r.problems, []);
  assert.equal(r.runs, 1);
  assert.equal(r.lost + r.crashes, 0);
});

test('collector on PostgreSQL killed with -9 mid-sync and restarted: ground truth, history without gaps or duplicates', async () => {
  const r = await syncKillRuns(1, 25, 'postgres');
  assert.deepEqual(r.problems, []);
  assert.equal(r.runs, 1);
  assert.equal(r.lost + r.crashes, 0);
});
