/**
 * Runs every scenario's --quick variant through the same entry point as
 * `npm run bench -- --scenario NAME --quick --json` and checks the JSON it prints:
 * the shape, and that the inventory was correct. Never a time.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TEST_PG_URL, testDialects } from '../test/support/store.ts';
import { ROOT } from './lib/processes.ts';

function runQuick(
  scenario: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'bench/run.ts'), '--scenario', scenario, '--quick', '--json', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, DW_LOG_LEVEL: 'warn', DW_BENCH_PG_URL: TEST_PG_URL },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => {
      stderr += c;
    });
    child.once('exit', (code) => ok({ code, stdout, stderr }));
  });
}

async function quick(scenario: string, ...args: string[]): Promise<Record<string, unknown>> {
  const run = await runQuick(scenario, args);
  assert.equal(run.code, 0, `bench ${scenario} exited with ${run.code}\n${run.stderr.slice(-3000)}`);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  const record = JSON.parse(last) as Record<string, unknown>;
  assert.equal(record.scenario, scenario);
  assert.equal(record.quick, true);
  assertMachine(record);
  return record;
}

/** Every result names the machine it was measured on and how loaded it was. */
function assertMachine(record: Record<string, unknown>): void {
  assertNumbers(record, ['cores', 'load_avg_start', 'load_avg_end']);
  assert.ok((record.cores as number) >= 1);
  assert.equal(typeof record.cpu_model, 'string');
  assert.match(String(record.node_version), /^v\d+\./);
}

function assertNumbers(record: Record<string, unknown>, fields: string[]): void {
  for (const f of fields) {
    assert.equal(typeof record[f], 'number', `${f} should be a number in ${JSON.stringify(record)}`);
    assert.ok(Number.isFinite(record[f] as number) && (record[f] as number) >= 0, `${f} = ${record[f]}`);
  }
}

describe('benchmarks (--quick)', { concurrency: 1 }, () => {
  it('full-sync reports speed, memory and Graph cost of a correct inventory', async () => {
    const r = await quick('full-sync');
    assertNumbers(r, [
      'items',
      'seconds',
      'items_per_s',
      'peak_rss_mb',
      'requests',
      'ru_spent',
      'ru_minimum',
      'ru_ratio',
      'who_can_reach_p50_ms',
      'what_can_reach_p50_ms',
      'labels_calls',
      'labels_ru',
      'bound_items_per_s',
      'bound_ratio',
      'bound_rows',
    ]);
    assert.equal(r.bound_rows, r.items, 'the bound wrote the same items');
    assert.ok((r.items as number) > 0 && (r.ru_minimum as number) > 0);
    assert.equal(r.labels_calls, r.labels_files_minimum, 'one label read per exposed label-capable file');
    assert.ok((r.who_can_reach_samples as number) > 0 && (r.what_can_reach_samples as number) > 0);
    assert.equal(r.store, 'sqlite');
    assert.equal(r.correct, true, JSON.stringify(r));
  });

  it('full-sync --store postgres --workers 2: both workers collect, every drive job completes, the inventory is the truth', {
    skip: !testDialects().includes('postgres') && 'PostgreSQL narrowed out (DW_TEST_DIALECTS)',
  }, async () => {
    const r = await quick('full-sync', '--store', 'postgres', '--workers', '2');
    assertNumbers(r, [
      'items',
      'seconds',
      'items_per_s',
      'cpu_seconds',
      'workers_ready_cpu_seconds',
      'peak_rss_mb',
      'ru_ratio',
      'rules_jobs',
    ]);
    assert.equal(r.store, 'postgres');
    assert.equal(r.workers, 2);
    assert.equal(r.drive_jobs, r.drives, 'one drive job per drive');
    assert.equal(r.failed_drive_jobs, 0, JSON.stringify(r));
    const cpu = String(r.worker_cpu_seconds).split(' ').map(Number);
    assert.equal(cpu.length, 2, JSON.stringify(r));
    assert.equal(String(r.worker_peak_rss_mb).split(' ').length, 2);
    assert.equal(r.delta_pages, r.delta_pages_minimum, 'no drive collected twice');
    assert.equal(r.correct, true, JSON.stringify(r));
  });

  it('throttled-sync reports time against the budget limit and throttling', async () => {
    const r = await quick('throttled-sync');
    assertNumbers(r, [
      'seconds',
      'limit_seconds',
      'time_ratio',
      'throttled_responses',
      'requests_during_retry_after',
      'exposure_known_s',
      'permissions_read_s',
    ]);
    assert.ok(
      (r.exposure_known_s as number) <= (r.permissions_read_s as number),
      'exposure known before the permission reads end',
    );
    assert.equal(r.correct, true, JSON.stringify(r));
  });

  it('realtime sees every mutation in the inventory, alerts every Anyone link, and ends correct', async () => {
    const r = await quick('realtime');
    assertNumbers(r, [
      'inventory_p50_ms',
      'inventory_p95_ms',
      'inventory_p99_ms',
      'alert_p50_ms',
      'alert_p99_ms',
    ]);
    assert.equal(r.unseen, 0, JSON.stringify(r));
    assert.equal(r.alerts_unseen, 0, JSON.stringify(r));
    assert.ok(Number(r.alerts_seen) >= 1, JSON.stringify(r));
    assert.equal(r.correct, true, JSON.stringify(r));
  });

  it('webhook-load acknowledges notifications and loses none', async () => {
    const r = await quick('webhook-load');
    assertNumbers(r, ['ack_p50_ms', 'ack_p99_ms', 'acked_under_3s_pct', 'lost']);
    assert.equal(r.lost, 0, JSON.stringify(r));
    assert.equal(r.acked, r.notifications, JSON.stringify(r));
    assert.equal(r.correct, true, JSON.stringify(r));
  });

  it('activity ingests every audit event once and detects every injected scenario, no false positive', async () => {
    const r = await quick('activity');
    assertNumbers(r, [
      'events',
      'events_per_s',
      'ingest_cpu_s',
      'scenarios_injected',
      'scenarios_detected',
      'false_positives',
      'detect_first_round_cpu_s',
      'detect_round_cpu_s',
    ]);
    assert.equal(r.events, r.events_expected, JSON.stringify(r));
    assert.equal(r.scenarios_detected, r.scenarios_injected, JSON.stringify(r));
    assert.equal(r.false_positives, 0, JSON.stringify(r));
    assert.equal(r.correct, true, JSON.stringify(r));
  });

  it('rules evaluates every built-in rule fully and incrementally, and the incremental result is the full one', async () => {
    const r = await quick('rules');
    assertNumbers(r, [
      'full_first_s',
      'full_s',
      'incremental_s',
      'findings_opened',
      'page_items',
      'scope_items',
    ]);
    assert.ok((r.rules as number) > 0 && (r.findings_opened as number) > 0);
    assert.equal(r.page_items, 100);
    assert.equal(r.correct, true, JSON.stringify(r));
  });
});
