import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCsv } from './csv.ts';

test('CSV: header, quoting of commas, quotes and line breaks, JSON for objects, empty for null', () => {
  const csv = formatCsv({
    columns: ['id', 'name', 'details', 'gone'],
    rows: [
      { id: 1, name: 'a, "b"', details: { x: [1] }, gone: null },
      { id: 2, name: 'two\nlines', details: null, gone: undefined },
    ],
  });
  assert.equal(csv, 'id,name,details,gone\r\n1,"a, ""b""","{""x"":[1]}",\r\n2,"two\nlines",,\r\n');
});
