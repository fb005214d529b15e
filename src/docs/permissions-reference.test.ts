import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { resources } from '../resources/index.ts';
import { renderPermissionsTable, withPermissionsTable } from './permissions-reference.ts';

test("README.md's permission table is generated from the resource definitions (run `npm run docs`)", () => {
  const committed = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(committed, withPermissionsTable(committed));
});

test('the permission table names every permission a resource type needs', () => {
  const table = renderPermissionsTable();
  for (const def of resources) {
    for (const p of def.graph.permissions) assert.ok(table.includes(`| ${p.permission} |`), p.permission);
  }
});
