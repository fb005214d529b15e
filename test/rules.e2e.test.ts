import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { SimOptions } from '../sim/contracts.ts';
import { generateFromOptions } from '../sim/index.ts';
import { expectedRuleResults, type RuleTruthParams, TRUTH_RULE_IDS } from '../sim/truth-rules.ts';
import { syncIntegration } from '../src/collect/sync.ts';
import { defaultParams, type RuleDefinition, type RuleParams } from '../src/rules/definition.ts';
import { loadBuiltinRules } from '../src/rules/loader.ts';
import { type RuleRow, runRule } from '../src/rules/run-rule.ts';
import { simClient, simContext } from './support/collector.ts';
import { startTestSim, type TestSim } from './support/simulator.ts';
import { openTestStore, testDialects } from './support/store.ts';

/**
 * Acceptance of the built-in rules: a generated tenant (with its seeded rule cases) is
 * collected by a full sync into SQLite and into PostgreSQL; every rule, run with its default
 * parameters (and a few overrides) at a fixed time, finds exactly what the simulator's ground
 * truth (sim/truth-rules.ts, computed from the model) implies: the same alarms, and the same
 * status for every evaluated resource. Both dialects return identical rows.
 */

const SIM: SimOptions = { seed: 9, users: 40, items: 1500, referenceTime: '2026-01-01T00:00:00Z' };
const NOW = '2026-01-01T00:00:00.000Z';
const INTEGRATION = 'int-rules-e2e';

/** Runs besides the defaults: overrides that turn alarms of the generated tenant into ok. */
const OVERRIDES: Array<{ rule: string; params: RuleParams }> = [
  {
    rule: 'permission_external_domain_allowed',
    params: { allowed_domains: ['fabrikam.example', 'gmail.com'] },
  },
  { rule: 'permission_everyone_group_absent', params: { include_everyone_except_external: false } },
  { rule: 'permission_anonymous_link_expires', params: { max_days: 365 } },
];

const rules = loadBuiltinRules().filter((r) => (TRUTH_RULE_IDS as readonly string[]).includes(r.id));

function keyOf(rule: RuleDefinition, row: RuleRow): string {
  if (rule.resource_type === 'permission') return `${row.drive_id}|${row.item_id}|${row.resource_id}`;
  if (rule.resource_type === 'drive_item') return `${row.drive_id}|${row.resource_id}`;
  return row.resource_id;
}

interface Run {
  /** `<rule>` or `<rule> <overrides as JSON>`. */
  label: string;
  rule: RuleDefinition;
  params: RuleParams;
}

const runs: Run[] = [
  ...rules.map((rule) => ({ label: rule.id, rule, params: defaultParams(rule) })),
  ...OVERRIDES.map(({ rule: id, params }) => {
    const rule = rules.find((r) => r.id === id);
    if (!rule) throw new Error(`no built-in rule ${id}`);
    return { label: `${id} ${JSON.stringify(params)}`, rule, params: { ...defaultParams(rule), ...params } };
  }),
];

/** Expected status per `<rule>|<resource key>` for one run, from the model. */
function truthOf(run: Run): Map<string, string> {
  const params: RuleTruthParams = Object.fromEntries(rules.map((r) => [r.id, defaultParams(r)]));
  params[run.rule.id] = run.params;
  const all = expectedRuleResults(generateFromOptions(SIM), { now: NOW, params });
  return new Map([...all].filter(([k]) => k.startsWith(`${run.rule.id}|`)));
}

const alarmsOf = (m: Map<string, string>) =>
  [...m]
    .filter(([, s]) => s === 'alarm')
    .map(([k]) => k)
    .sort();

describe('built-in rules against the simulator ground truth', () => {
  let env: TestSim;
  /** Rows per dialect and run. */
  const results = new Map<string, Map<string, RuleRow[]>>();
  before(async () => {
    env = await startTestSim(SIM);
  });
  after(async () => env?.close());

  for (const dialect of testDialects()) {
    test(`${dialect}: full sync, then every rule equals the truth`, async (t) => {
      const ts = await openTestStore(dialect);
      const client = simClient(env.sim);
      try {
        await syncIntegration(simContext(ts.store, env.sim, client, INTEGRATION), { mode: 'full' });
        const byRun = new Map<string, RuleRow[]>();
        results.set(dialect, byRun);
        for (const run of runs) {
          const rows = await runRule(ts.store, run.rule, {
            integrationId: INTEGRATION,
            params: run.params,
            now: NOW,
          });
          byRun.set(run.label, rows);
          const actual = new Map(
            rows.map((r) => [`${run.rule.id}|${keyOf(run.rule, r)}`, r.status as string]),
          );
          assert.equal(actual.size, rows.length, `${run.label}: one row per resource`);
          const expected = truthOf(run);
          assert.deepEqual(alarmsOf(actual), alarmsOf(expected), `${run.label}: alarms`);
          assert.deepEqual(
            Object.fromEntries([...actual].sort()),
            Object.fromEntries([...expected].sort()),
            `${run.label}: every evaluated resource`,
          );
          // A rule over many resources meets both cases on the generated tenant; the tenant's
          // settings are one resource (one status).
          if (run.label === run.rule.id && run.rule.resource_type !== 'tenant_settings') {
            const alarms = alarmsOf(actual).length;
            t.diagnostic(`${run.rule.id}: ${alarms} alarm(s) of ${rows.length}`);
            assert.ok(
              alarms > 0 && alarms < rows.length,
              `${run.rule.id}: the tenant holds alarm and ok cases`,
            );
          }
        }
      } finally {
        await client.close();
        await ts.cleanup();
      }
    });
  }

  test('SQLite and PostgreSQL return identical rows', (t) => {
    const [a, b] = [...results.values()];
    if (!a || !b) {
      t.diagnostic('one dialect only: nothing to compare');
      return;
    }
    const rows = (list: RuleRow[] | undefined) =>
      (list ?? [])
        .map((r) =>
          JSON.stringify([
            r.drive_id,
            r.item_id,
            r.resource_id,
            r.status,
            r.reason,
            r.severity,
            r.resource_name,
            r.resource_path,
            r.resource_owner,
          ]),
        )
        .sort();
    assert.equal(a.size, runs.length);
    for (const run of runs) assert.deepEqual(rows(b.get(run.label)), rows(a.get(run.label)), run.label);
  });
});
