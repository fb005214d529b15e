import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ENV_NAMES } from './config.ts';
import { ENV_DOCS, schemaDefault, withConfigTable } from './env-docs.ts';

test("README.md's configuration table is generated from src/config/env-docs.ts (run `npm run docs`)", () => {
  const committed = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.equal(committed, withConfigTable(committed));
});

test('every environment variable the product reads is documented once, and nothing else is', () => {
  const documented = ENV_DOCS.flatMap((row) => row.names);
  assert.deepEqual([...documented].sort(), Object.keys(ENV_NAMES).sort());
  assert.equal(new Set(documented).size, documented.length, 'no variable in two rows');
});

test("a row's default comes from the schema unless it is said in words", () => {
  assert.equal(schemaDefault('sync.pollIntervalSeconds'), '`900`');
  assert.equal(schemaDefault('databaseUrl'), '—');
  assert.equal(schemaDefault('auth.sso.adminRoles'), '`drivewarden.admin`');
});
