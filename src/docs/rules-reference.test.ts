import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseRule } from '../rules/loader.ts';
import { parsePack } from '../rules/packs.ts';
import { renderRulesReference } from './rules-reference.ts';

test('docs/rules.md is generated from the current rules and packs (run `npm run docs`)', () => {
  const committed = readFileSync(new URL('../../docs/rules.md', import.meta.url), 'utf8');
  assert.equal(committed, renderRulesReference());
});

test('the reference shows what rule.yaml says and the frameworks the packs give a rule', () => {
  const rule = parseRule(
    `id: permission_demo_link_absent
title: No demo links
severity: medium
resource_type: permission
description: |
  Checks demo links.
risk: Demo | risk.
remediation: Remove them.
tags: [sharing]
requires: [permission]
parameters:
  max_days: {type: integer, default: 30, min: 1, description: days a link may live}
  domains: {type: string_list, default: [gmail.com, outlook.com], description: personal domains}
`,
    'select 1 as resource_id',
    'builtin',
    'demo',
  );
  const pack = parsePack(
    `id: demo-pack
title: Demo framework
version: "2.0"
source: https://example.org/demo
controls:
  - {id: D.1, title: links are limited, rules: [permission_demo_link_absent]}
  - {id: D.2, title: not automated, rules: []}
`,
    'demo-pack.yaml',
    new Set([rule.id]),
  );
  const md = renderRulesReference([rule], [pack]);
  for (const expected of [
    '| [`demo-pack`](#pack-demo-pack) | [Demo framework](https://example.org/demo) | 2.0 | 1 of 2 |',
    '| D.1 | links are limited | [`permission_demo_link_absent`](#permission_demo_link_absent) |',
    '| D.2 | not automated | not automated |',
    '| [`permission_demo_link_absent`](#permission_demo_link_absent) | medium | permission | No demo links |',
    '- Frameworks: demo-pack D.1',
    '- Requires: `permission`',
    '**Risk.** Demo | risk.',
    '| `max_days` | integer (≥ 1) | `30` | days a link may live |',
    '| `domains` | string_list | `gmail.com`, `outlook.com` | personal domains |',
  ]) {
    assert.ok(md.includes(expected), `missing: ${expected}\n${md}`);
  }
});
