import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CompiledQuery } from 'kysely';
import { queryPlan } from '../../test/support/query-plan.ts';
import { openTestStore, type TestStore } from '../../test/support/store.ts';
import { defaultParams } from './definition.ts';
import { loadBuiltinRules } from './loader.ts';
import { compileRule } from './run-rule.ts';

/**
 * How SQLite reads drive_items for the built-in rules (migration 0970). SQLite keeps no
 * statistics, so for `integration_id = ? and deleted_at is null` it takes a partial index by
 * its shape. One of the API's sort indexes (drive_items_api_*) narrowed to the integration
 * alone visits the items in its sort order and fetches each from the table at a random place
 * (a rule over 1,000,343 items: 5.8 s against 1.1 s in table order). A rule that reads every
 * live item must walk drive_items_live (rowid order: the order the items were written) or the
 * primary key, or use an index's further columns.
 */

const INTEGRATION_ONLY_SORT_INDEX = /SEARCH \w+ USING INDEX drive_items_api_\w+ \(integration_id=\?\)$/;

describe('built-in rules read drive_items in table order (SQLite)', () => {
  let t: TestStore;
  before(async () => {
    t = await openTestStore('sqlite');
  });
  after(() => t.cleanup());

  const rules = loadBuiltinRules();
  test('every built-in rule is explained', () => assert.ok(rules.length >= 20, `${rules.length} rules`));

  for (const rule of rules)
    test(rule.id, async () => {
      const { text, values } = compileRule(rule, t.store, {
        integrationId: 'int-plans',
        params: defaultParams(rule),
        now: '2026-11-29T00:00:00.000Z',
      });
      const plan = await queryPlan(t.db, 'sqlite', CompiledQuery.raw(text, [...values]));
      for (const line of plan.split('\n'))
        assert.doesNotMatch(line, INTEGRATION_ONLY_SORT_INDEX, `${rule.id}: ${line}`);
    });
});
