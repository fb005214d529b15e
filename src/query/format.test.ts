import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatCsv, formatJson, formatRows, formatTable, parseOutputFormat } from './format.ts';

const result = {
  columns: ['name', 'size', 'meta', 'note'],
  rows: [
    { name: 'plain', size: 1, meta: null, note: 'ok' },
    { name: 'a, "quoted"\nline', size: 2, meta: { a: [1] }, note: '=HYPERLINK("x")' },
  ],
};

describe('row formats', () => {
  it('CSV follows RFC 4180: header, CRLF, quoting of , " CR LF with quotes doubled', () => {
    assert.equal(
      formatCsv(result),
      'name,size,meta,note\r\nplain,1,,ok\r\n"a, ""quoted""\nline",2,"{""a"":[1]}","=HYPERLINK(""x"")"\r\n',
    );
    assert.equal(formatCsv({ columns: ['a'], rows: [] }), 'a\r\n');
  });

  it('JSON is an array of objects with the columns in order; binary as \\x hex', () => {
    assert.deepEqual(JSON.parse(formatJson(result)), result.rows);
    assert.equal(
      formatJson({ columns: ['b', 'c'], rows: [{ b: Buffer.from([1, 255]), c: undefined }] }),
      '[{"b":"\\\\x01ff","c":null}]',
    );
  });

  it('the table aligns, cuts long cells and never prints control characters', () => {
    const table = formatTable({
      columns: ['name', 'n'],
      rows: [
        { name: 'evil\u001b[2Jname\r\n', n: 1 },
        { name: 'x'.repeat(80), n: 22 },
      ],
      truncated: true,
    });
    const controls = [...table].filter((c) => c.charCodeAt(0) < 0x20 && c !== '\n');
    assert.deepEqual(controls, [], 'no control characters but the line ends');
    assert.match(table, /evil\\x1b\[2Jname\\r\\n/);
    assert.match(table, /x{59}…\s+22/);
    assert.match(table, /\(2 rows, truncated\)$/);
  });

  it('formatRows picks the format; a bad --format is named', () => {
    assert.equal(formatRows(result, 'csv'), formatCsv(result));
    assert.equal(parseOutputFormat('json'), 'json');
    assert.throws(() => parseOutputFormat('xml'), /--format must be one of table, json, csv, got "xml"/);
  });
});
