import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { resources } from '../resources/index.ts';
import { renderTablesReference } from './tables-reference.ts';

test('docs/tables.md is generated from the current resource definitions (run `npm run docs`)', () => {
  const committed = readFileSync(new URL('../../docs/tables.md', import.meta.url), 'utf8');
  assert.equal(committed, renderTablesReference());
});

test('every column of every resource has a description', () => {
  for (const def of resources) {
    assert.ok(def.description.length > 10, `${def.table} has a description`);
    for (const [name, c] of Object.entries(def.columns)) {
      assert.ok(c.description.trim().length > 3, `${def.table}.${name} has a description`);
    }
  }
});
