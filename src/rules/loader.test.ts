import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RuleValidationError, resolveParams } from './definition.ts';
import { loadRuleFolder, loadRulesDir, parseRule } from './loader.ts';

const YAML = `id: permission_demo_link_absent
title: Demo
severity: high
resource_type: permission
description: d
risk: r
remediation: m
tags: [sharing]
requires: [permission]
parameters:
  max_days: {type: integer, default: 30, description: days, min: 1}
  domains: {type: string_list, default: [gmail.com], description: domains}
`;
const SQL =
  'select id as resource_id, :max_days as n from permissions where integration_id = :integration_id';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof RuleValidationError, String(err));
    return err.message;
  }
  assert.fail('expected a RuleValidationError');
}

describe('the rule loader', () => {
  const root = mkdtempSync(join(tmpdir(), 'dw-rules-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('loads a folder whose id matches its name', () => {
    const dir = join(root, 'ok', 'permission_demo_link_absent');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rule.yaml'), YAML);
    writeFileSync(join(dir, 'rule.sql'), `${SQL};\n`);
    const [rule] = loadRulesDir(join(root, 'ok'));
    assert.equal(rule.id, 'permission_demo_link_absent');
    assert.equal(rule.sql, SQL);
    assert.deepEqual(rule.tags, ['sharing']);
    assert.deepEqual(resolveParams(rule), { max_days: 30, domains: ['gmail.com'] });
  });

  it('names the file and the field at fault', () => {
    const msg = problemsOf(() =>
      parseRule(YAML.replace('severity: high', 'severity: urgent'), SQL, 'folder', 'x'),
    );
    assert.match(msg, /x\/rule\.yaml: severity:/);
    assert.match(
      problemsOf(() =>
        parseRule(YAML.replace('id: permission_demo_link_absent', 'id: Bad-Id'), SQL, 'folder', 'x'),
      ),
      /id: must be/,
    );
    assert.match(
      problemsOf(() => parseRule(`${YAML}colour: red\n`, SQL, 'folder', 'x')),
      /colour/,
    );
    assert.match(
      problemsOf(() => parseRule(YAML.replace('[permission]', '[nonsense]'), SQL, 'folder', 'x')),
      /unknown capability nonsense/,
    );
    assert.match(
      problemsOf(() => parseRule(YAML, 'select :nope', 'folder', 'x')),
      /x\/rule\.sql: uses :nope/,
    );
    assert.match(
      problemsOf(() => parseRule('a: [', SQL, 'folder', 'x')),
      /not valid YAML/,
    );
    assert.match(
      problemsOf(() => parseRule(YAML, '  ;', 'folder', 'x')),
      /rule\.sql: empty/,
    );
  });

  it('refuses a folder named unlike its id, and a missing file', () => {
    const dir = join(root, 'bad', 'other_name_here');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'rule.yaml'), YAML);
    assert.match(
      problemsOf(() => loadRuleFolder(dir)),
      /rule\.sql: missing/,
    );
    writeFileSync(join(dir, 'rule.sql'), SQL);
    assert.match(
      problemsOf(() => loadRuleFolder(dir)),
      /must match its folder's name other_name_here/,
    );
  });

  it('checks parameter overrides against their types', () => {
    const rule = parseRule(YAML, SQL, 'folder', 'x');
    assert.deepEqual(resolveParams(rule, { max_days: 7 }), { max_days: 7, domains: ['gmail.com'] });
    assert.match(
      problemsOf(() => resolveParams(rule, { max_days: 'x' })),
      /max_days must be an integer/,
    );
    assert.match(
      problemsOf(() => resolveParams(rule, { max_days: 0 })),
      /max_days must be ≥ 1/,
    );
    assert.match(
      problemsOf(() => resolveParams(rule, { domains: [1] })),
      /list of strings/,
    );
    assert.match(
      problemsOf(() => resolveParams(rule, { other: 1 })),
      /unknown parameter other/,
    );
  });
});
