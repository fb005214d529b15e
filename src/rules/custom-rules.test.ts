import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FIXTURE_RULES_DIR, fixtureRules, registerIntegration } from '../../test/support/rules.ts';
import { openTestStore, type TestStore, testDialects } from '../../test/support/store.ts';
import { loadCatalog, mergeRules, RuleCatalogError } from './catalog.ts';
import { removeCustomRule, saveCustomRule } from './custom-rules.ts';
import { RuleValidationError } from './definition.ts';
import { loadRulesDir } from './loader.ts';
import { RuleRunError } from './run-rule.ts';
import { parseParamAssignments } from './settings.ts';

/**
 * Custom rules: saving one validates the files, then runs the SQL on the current inventory
 * and checks every row; an id from two sources is an error naming both.
 */

const YAML = (id: string, type = 'user') => `id: ${id}
title: Custom
severity: low
resource_type: ${type}
description: d
risk: r
remediation: m
requires: [user]
`;

function ruleFolder(root: string, id: string, sql: string, yaml = YAML(id)): string {
  const dir = join(root, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'rule.yaml'), yaml);
  writeFileSync(join(dir, 'rule.sql'), sql);
  return dir;
}

const BUILTIN = fixtureRules().map((r) => ({ ...r, origin: 'builtin' as const }));

test('the same id from two sources is an error naming both', () => {
  const root = mkdtempSync(join(tmpdir(), 'dw-catalog-'));
  try {
    cpSync(
      join(FIXTURE_RULES_DIR, 'user_fixture_account_enabled'),
      join(root, 'user_fixture_account_enabled'),
      {
        recursive: true,
      },
    );
    const folder = loadRulesDir(root);
    assert.throws(
      () => mergeRules([...BUILTIN, ...folder]),
      (err: Error) =>
        err instanceof RuleCatalogError &&
        /user_fixture_account_enabled is defined twice: the built-in rule .* and the rule folder .*dw-catalog-/.test(
          err.message,
        ),
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('--param values are typed by the rule: numbers, booleans, lists as JSON or a,b', () => {
  const rule = fixtureRules().find((r) => r.id === 'item_fixture_public_absent');
  assert.ok(rule);
  assert.deepEqual(parseParamAssignments(rule, ['extensions=["pem","key"]']), { extensions: ['pem', 'key'] });
  assert.deepEqual(parseParamAssignments(rule, ['extensions=pem, key']), { extensions: ['pem', 'key'] });
  const quota = fixtureRules().find((r) => r.id === 'drive_fixture_quota_normal');
  assert.ok(quota);
  assert.deepEqual(parseParamAssignments(quota, ['max_used_percent=80']), { max_used_percent: 80 });
  assert.throws(() => parseParamAssignments(quota, ['max_used_percent=lots']), /"lots" is not a number/);
  assert.throws(
    () => parseParamAssignments(quota, ['nope=1']),
    /unknown parameter nope \(known: max_used_percent\)/,
  );
  assert.throws(() => parseParamAssignments(quota, ['max_used_percent']), /expected name=value/);
});

for (const dialect of testDialects()) {
  describe(`saved custom rules (${dialect})`, () => {
    let ts: TestStore;
    let root: string;
    before(async () => {
      ts = await openTestStore(dialect);
      root = mkdtempSync(join(tmpdir(), 'dw-custom-'));
      await registerIntegration(ts.db, dialect, 'int-a', 'tenant-a');
    });
    after(async () => {
      await ts?.cleanup();
      rmSync(root, { recursive: true, force: true });
    });
    const save = (folder: string, replace = false) =>
      saveCustomRule(ts.store, folder, { actor: 'alice', fileRules: BUILTIN, replace });

    test('a valid rule is checked on every integration, saved, and in the catalog', async () => {
      const dir = ruleFolder(
        root,
        'user_custom_named',
        "select u.id as resource_id, 'ok' as status, 'fine' as reason from users u where u.integration_id = :integration_id",
      );
      const { rule, checks, replaced } = await save(dir);
      assert.equal(rule.id, 'user_custom_named');
      assert.equal(replaced, false);
      assert.deepEqual(
        checks.map((c) => c.integrationId),
        ['int-a'],
      );
      const catalog = await loadCatalog(ts.db, { builtin: BUILTIN });
      const saved = catalog.find((r) => r.id === 'user_custom_named');
      assert.equal(saved?.origin, 'saved');
      assert.equal(saved?.source, 'custom_rules:user_custom_named');
      await assert.rejects(save(dir), /already saved: --replace replaces it/);
      assert.equal((await save(dir, true)).replaced, true);
      await removeCustomRule(ts.store, 'user_custom_named', BUILTIN);
      assert.ok(!(await loadCatalog(ts.db, { builtin: BUILTIN })).some((r) => r.id === 'user_custom_named'));
    });

    test('refused with a clear message: bad files, SQL errors, bad rows, missing key columns, an id taken', async () => {
      await assert.rejects(
        save(
          ruleFolder(
            root,
            'user_custom_badyaml',
            'select 1',
            YAML('user_custom_badyaml').replace('severity: low', 'severity: dire'),
          ),
        ),
        (err: Error) => err instanceof RuleValidationError && /rule\.yaml: severity/.test(err.message),
      );
      await assert.rejects(
        save(ruleFolder(root, 'user_custom_badsql', 'select nope from nowhere where x = :integration_id')),
        (err: Error) => err instanceof RuleRunError && /user_custom_badsql: SQL error/.test(err.message),
      );
      await assert.rejects(
        save(
          ruleFolder(
            root,
            'user_custom_badstatus',
            "select 'u1' as resource_id, 'fine' as status, 'r' as reason",
          ),
        ),
        /status must be ok, alarm or error, got "fine"/,
      );
      await assert.rejects(
        save(ruleFolder(root, 'user_custom_noreason', "select 'u1' as resource_id, 'ok' as status")),
        /must return a reason column/,
      );
      await assert.rejects(
        save(
          ruleFolder(
            root,
            'permission_custom_nokeys',
            "select 'p1' as resource_id, 'alarm' as status, 'r' as reason",
            YAML('permission_custom_nokeys', 'permission'),
          ),
        ),
        /a permission rule must return drive_id and item_id/,
      );
      await assert.rejects(
        save(
          ruleFolder(
            root,
            'user_fixture_account_enabled',
            "select 'u' as resource_id, 'ok' as status, 'r' as reason",
          ),
        ),
        /already the built-in rule/,
      );
      await assert.rejects(
        save(
          ruleFolder(
            root,
            'user_custom_secret',
            "select i.id as resource_id, 'alarm' as status, i.secret_enc as reason from integrations i where i.id = :integration_id",
          ),
        ),
        (err: Error) =>
          err instanceof RuleRunError && /user_custom_secret: refused: .*secret/.test(err.message),
      );
      const saved = await ts.db.selectFrom('custom_rules').select('id').execute();
      assert.deepEqual(saved, [], 'nothing refused was saved');
      await assert.rejects(
        removeCustomRule(ts.store, 'user_fixture_account_enabled', BUILTIN),
        /disable it per integration/,
      );
      await assert.rejects(
        removeCustomRule(ts.store, 'user_never_there', BUILTIN),
        /no saved rule user_never_there/,
      );
    });
  });
}
