import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidElement, type ReactElement } from 'react';
import { highlight, parameterNames, suggestionsFor } from '../web/src/sql-editor.tsx';

/** The query console's editor logic (web/src/sql-editor.tsx): highlighting, parameters, completion. */

const TABLES = [
  {
    name: 'drive_items',
    columns: [{ name: 'name' }, { name: 'size' }, { name: 'drive_id' }],
  },
  { name: 'drives', columns: [{ name: 'id' }, { name: 'owner_email' }] },
];

type Span = ReactElement<{ className: string; children: string }>;

test('highlighting keeps the text as text and marks keywords, strings, numbers, parameters, names', () => {
  const sql = "select name, 'a '' <b>x</b>' from drive_items where size > 10 and id = :who -- note";
  const parts = highlight(sql, new Set(['name', 'drive_items', 'size']));
  const text = parts.map((p) => (isValidElement(p) ? (p as Span).props.children : String(p))).join('');
  assert.equal(text, `${sql}\n`, 'every character is there, once, in order');
  const classes = (cls: string) =>
    parts
      .filter((p): p is Span => isValidElement(p) && (p as Span).props.className === cls)
      .map((p) => p.props.children);
  assert.deepEqual(classes('tok-keyword'), ['select', 'from', 'where', 'and']);
  assert.deepEqual(classes('tok-string'), ["'a '' <b>x</b>'"], 'markup in a string stays text');
  assert.deepEqual(classes('tok-number'), ['10']);
  assert.deepEqual(classes('tok-param'), [':who']);
  assert.deepEqual(classes('tok-comment'), ['-- note']);
  assert.deepEqual(classes('tok-name'), ['name', 'drive_items', 'size']);
});

test('parameters are the :names outside strings and comments, :now and :: casts excepted', () => {
  assert.deepEqual(
    parameterNames(
      "select * from x where a = :owner and b > :min_size and c < :now and d = 'x:y' -- :z\nand e::text = :owner",
    ),
    ['owner', 'min_size'],
  );
  assert.deepEqual(parameterNames('select 1'), []);
});

test('completion offers tables, then columns, then keywords; after "table." only its columns', () => {
  assert.deepEqual(
    suggestionsFor('dri', 'select * from dri', TABLES).map((s) => s.label),
    ['drive_items', 'drives', 'drive_id'],
  );
  assert.deepEqual(
    suggestionsFor('s', 'select drive_items.s', TABLES).map((s) => `${s.label} (${s.detail})`),
    ['size (drive_items column)'],
  );
  assert.ok(suggestionsFor('sel', 'sel', TABLES).some((s) => s.label === 'select' && s.detail === 'keyword'));
  assert.deepEqual(suggestionsFor('', 'select ', TABLES), []);
});
