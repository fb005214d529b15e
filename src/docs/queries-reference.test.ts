import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { EXAMPLE_QUERIES } from '../query/examples.ts';
import { renderQueriesReference } from './queries-reference.ts';

test('docs/queries.md is generated from the examples and the guard (run `npm run docs`)', () => {
  const committed = readFileSync(new URL('../../docs/queries.md', import.meta.url), 'utf8');
  assert.equal(committed, renderQueriesReference());
});

test('every example is documented with its SQL and how to run it', () => {
  const doc = renderQueriesReference();
  for (const e of EXAMPLE_QUERIES) {
    assert.ok(e.description.length > 40, `${e.name} says what its rows are`);
    assert.ok(doc.includes(e.sql), `${e.name}: its SQL`);
    assert.ok(doc.includes(`drivewarden query run ${e.name}`), `${e.name}: its command`);
  }
  assert.match(doc, /drivewarden query run person-reach --param person=alice@contoso\.com/);
});
